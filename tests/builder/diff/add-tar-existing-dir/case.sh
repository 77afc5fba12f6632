# ADD of a tar over an existing directory: the tar's directory entry sets
# its owner and mode, as moby's untar (pkg/archive createTarFile: chown
# and chmod on an existing directory too), unlike COPY; files beside stay.
# The tar also has a symlink and a hardlink.
setup() {
  echo p > plain
  python3 - <<'PY'
import io, tarfile
t = tarfile.open('layer.tar', 'w', format=tarfile.PAX_FORMAT)
def add(name, kind, mode, uid=0, gid=0, data=b'', link=''):
    i = tarfile.TarInfo(name); i.type = kind; i.mode = mode
    i.uid = uid; i.gid = gid; i.size = len(data); i.linkname = link
    i.mtime = 1000000000
    t.addfile(i, io.BytesIO(data) if data else None)
add('opt/', tarfile.DIRTYPE, 0o755)
add('opt/app/', tarfile.DIRTYPE, 0o750, 2000, 2000)
add('opt/app/new', tarfile.REGTYPE, 0o640, 2000, 2000, b'n\n')
add('opt/app/sym', tarfile.SYMTYPE, 0o777, link='new')
add('opt/app/hard', tarfile.LNKTYPE, 0o640, 2000, 2000, link='opt/app/new')
t.close()
PY
  rm -f plain.tmp
}
check() {
  entry /opt/app 'd 750 2000 2000'
  content /opt/app/keep keep
  entry /opt/app/new 'f 640 2000 2000 2 '
  entry /opt/app/sym 'l 777 0 0 -> new'
  entry /opt/app/hard 'f 640 2000 2000 2 '
  entry /opt/app/plain 'f 644 1000 1000'
}
