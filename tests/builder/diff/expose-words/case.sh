# EXPOSE splits what it expands into words (dockerfile2llb/convert.go
# dispatchExpose: shlex.ProcessWords; BuildKit's testExposeExpansion),
# VOLUME takes each argument as one word.  A port range becomes one entry
# per port (nat.ParsePortSpecs); buildah keeps "8080-8081/tcp" as a key.
ALLOW_CFG=(ExposedPorts)
check() {
  cfg .ExposedPorts '{"3000/tcp":{},"4000/udp":{},"8080/tcp":{},"8081/tcp":{},"9000/tcp":{}}'
  cfg .Volumes '{"3000 4000/udp":{},"/v2":{}}'
}
