# USER is expanded and stored as written (dispatchUser keeps the string;
# it is resolved only when a RUN or WORKDIR needs it, so a group that does
# not exist in a USER overridden before any RUN is no error).
check() { cfg .User '"app"'; content /tmp/uid 1000; entry /tmp/uid 'f 644 1000 1000'; }
