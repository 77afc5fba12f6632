# ADD unpacks every compression BuildKit's unpack opens
# (solver/llbsolver/file/unpack.go -> moby pkg/archive DecompressStream:
# none, gzip, bzip2, xz, zstd); a compressed file that is not a tar is
# copied as it is.  names.tar is what Go's archive/tar writes for names
# outside ASCII: a pax "path" record, no hdrcharset.
setup() {
  python3 - <<'PY'
import io, os, tarfile
def tar(name, mode, fmt=tarfile.PAX_FORMAT, files=None):
    t = tarfile.open(name, mode, format=fmt, encoding='utf-8',
                     errors='surrogateescape')
    for n, data in (files or [('d/f.txt', b'f\n'), ('top', b't\n')]):
        i = tarfile.TarInfo(n); i.size = len(data); i.mode = 0o640
        i.uid = i.gid = 0; i.mtime = 1000000000
        t.addfile(i, io.BytesIO(data))
    t.close()
tar('plain.tar', 'w')
tar('t.tar.gz', 'w:gz')
tar('t.tar.bz2', 'w:bz2')
tar('t.tar.xz', 'w:xz')
tar('t.tar', 'w')
tar('names.tar', 'w', files=[('ünï/dír.txt', b'u\n'), ('bad\udcff', b'b\n')])
PY
  zstd -q --rm t.tar -o t.tar.zst
  printf 'just text\n' | gzip -n > text.gz
}
check() {
  for d in plain gz bz2 xz zst; do
    content /$d/d/f.txt f
    entry /$d/top 'f 640 0 0'
  done
  content /names/ünï/dír.txt u
  content "$(printf '/names/bad\377')" b
  entry /notar/text.gz 'f 644 0 0'
}
