# LABEL values expand ARG and ENV (dispatchLabel after dispatch's
# expansion); single quotes and \$ keep the text; a later LABEL with the
# same key overrides.
check() {
  cfg '.Labels["org.opencontainers.image.version"]' '"1.2.3"'
  cfg '.Labels["quoted key"]' '"with spaces"'
  cfg .Labels.vendor '"overridden"'
  cfg .Labels.literal '"$VERSION"'
  cfg .Labels.default '"none"'
  cfg .Labels.escaped '"$VERSION"'
  cfg .Labels.multi '"line one line two"'
}
