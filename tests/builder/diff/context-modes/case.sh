# Modes from the context are kept (owner 0:0 unless --chown), special
# directories too (0700, sticky 1777, setgid 2755); executable bits.
# buildah drops the setgid bit (BuildKit's fsutil copy keeps the mode).
ALLOW=('^/(tree|owned)/sgid d ')
setup() {
  mkdir -p tree/private tree/sticky tree/sgid
  echo x > tree/exe; chmod 755 tree/exe; echo r > tree/ro; chmod 444 tree/ro
  chmod 700 tree/private; chmod 1777 tree/sticky; chmod 2755 tree/sgid
  echo p > tree/private/p; chmod 600 tree/private/p
}
check() {
  entry /tree/exe 'f 755 0 0'
  entry /tree/ro 'f 444 0 0'
  entry /tree/private 'd 700 0 0'
  entry /tree/private/p 'f 600 0 0'
  entry /tree/sticky 'd 1777 0 0'
  entry /tree/sgid 'd 2755 0 0'
  entry /owned/private/p 'f 600 1000 1000'
  entry /owned 'd 755 1000 1000'
}
