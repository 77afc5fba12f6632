#!/usr/bin/env python3
"""difftree.py ROOTFS: one line per entry of an unpacked image, sorted by
name bytes: path, type, mode, uid, gid, then size and content hash (files,
with the link count), or the target (symlinks).  Names are bytes: anything
outside printable ASCII is written as \\xNN, so names that are not UTF-8
compare exactly."""
import hashlib, os, stat, sys

def esc(b):
    return ''.join(chr(c) if 0x21 <= c < 0x7f and c != 0x5c else '\\x%02x' % c
                   for c in b)

def main():
    root = os.fsencode(sys.argv[1])
    rows = []
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = b'/' + os.path.relpath(p, root)
            st = os.lstat(p)
            m = st.st_mode
            def head(kind):
                return '%s %s %o %d %d' % (esc(rel), kind, stat.S_IMODE(m),
                                           st.st_uid, st.st_gid)
            if stat.S_ISLNK(m):
                rows.append((rel, head('l') + ' -> ' + esc(os.readlink(p))))
            elif stat.S_ISDIR(m):
                rows.append((rel, head('d')))
            elif stat.S_ISREG(m):
                h = hashlib.sha256()
                with open(p, 'rb') as f:
                    for chunk in iter(lambda: f.read(1 << 20), b''):
                        h.update(chunk)
                rows.append((rel, head('f') + ' %d %s n%d' % (
                    st.st_size, h.hexdigest()[:16], st.st_nlink)))
            elif stat.S_ISFIFO(m):
                rows.append((rel, head('p')))
            elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
                rows.append((rel, head('c' if stat.S_ISCHR(m) else 'b') +
                             ' %d,%d' % (os.major(st.st_rdev),
                                         os.minor(st.st_rdev))))
            else:
                rows.append((rel, head('?')))
    for _, line in sorted(rows):
        print(line)

if __name__ == '__main__':
    main()
