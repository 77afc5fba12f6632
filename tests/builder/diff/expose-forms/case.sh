# EXPOSE: default tcp, protocol lower-cased, ranges one entry per port
# (nat.ParsePortSpecs), sctp.  buildah keeps a range as one key.
ALLOW_CFG=(ExposedPorts)
check() { cfg .ExposedPorts '{"80/tcp":{},"443/tcp":{},"53/udp":{},"8000/tcp":{},"8001/tcp":{},"9000/sctp":{}}'; }
