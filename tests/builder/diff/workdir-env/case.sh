# WORKDIR expands ENV and joins relative paths to the previous one,
# cleaned (system.NormalizeWorkdir).  Each WORKDIR makes its directory
# (dispatchWorkdir's Mkdir); buildah only the one a later step uses.
ALLOW=('^/srv/app/sub d ')
check() { cfg .WorkingDir '"/srv/app/other/x"'; content /pwd /srv/app/other/x; entry /srv/app/sub 'd 755 0 0'; }
