# Every HEALTHCHECK duration flag, in nanoseconds (dispatchHealthcheck,
# instructions/parse.go parseHealthcheck: parseOptInterval).
check() {
  cfg .Healthcheck '{"Test":["CMD","/bin/true","x"],"Interval":30000000000,"Timeout":5000000000,"StartPeriod":60000000000,"Retries":4}'
  cfg .StopSignal '"SIGINT"'
}
