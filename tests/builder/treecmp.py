#!/usr/bin/env python3
"""treecmp.py A B: compares two directory trees entry by entry (type, mode,
owner, mtime to the nanosecond except for whiteout devices, size, content,
symlink target, device numbers, xattrs, hardlink groups).  Prints each
difference; exits 1 when there is one.  Directory mtimes are compared too
unless --no-dir-mtime."""
import os, stat, sys

def walk(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = p
    return out

def xattrs(p):
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return {}
    r = {}
    for n in names:
        try:
            r[n] = os.getxattr(p, n, follow_symlinks=False)
        except OSError:
            pass
    return r

def content(p):
    with open(p, 'rb') as f:
        return f.read()

def links(tree):
    """rel -> the sorted names sharing its inode (regular files)."""
    by = {}
    for rel, p in tree.items():
        st = os.lstat(p)
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            by.setdefault(st.st_ino, []).append(rel)
    r = {}
    for names in by.values():
        for n in names:
            r[n] = sorted(names)
    return r

def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    dir_mtime = '--no-dir-mtime' not in sys.argv
    a, b = walk(args[0]), walk(args[1])
    la, lb = links(a), links(b)
    diffs = []
    for rel in sorted(set(a) | set(b)):
        if rel not in a or rel not in b:
            diffs.append(f'{rel}: only in {"A" if rel in a else "B"}')
            continue
        sa, sb = os.lstat(a[rel]), os.lstat(b[rel])
        what = []
        if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode):
            what.append('type')
        if stat.S_IMODE(sa.st_mode) != stat.S_IMODE(sb.st_mode):
            what.append(f'mode {oct(sa.st_mode)} {oct(sb.st_mode)}')
        if (sa.st_uid, sa.st_gid) != (sb.st_uid, sb.st_gid):
            what.append('owner')
        whiteout = stat.S_ISCHR(sa.st_mode) and sa.st_rdev == 0
        isdir = stat.S_ISDIR(sa.st_mode)
        if not whiteout and (dir_mtime or not isdir) and sa.st_mtime_ns != sb.st_mtime_ns:
            what.append(f'mtime {sa.st_mtime_ns} {sb.st_mtime_ns}')
        if stat.S_ISREG(sa.st_mode) and (sa.st_size != sb.st_size or content(a[rel]) != content(b[rel])):
            what.append('content')
        if stat.S_ISLNK(sa.st_mode) and os.readlink(a[rel]) != os.readlink(b[rel]):
            what.append('link target')
        if stat.S_ISCHR(sa.st_mode) and sa.st_rdev != sb.st_rdev:
            what.append('device')
        if xattrs(a[rel]) != xattrs(b[rel]):
            what.append(f'xattrs {xattrs(a[rel])} {xattrs(b[rel])}')
        if la.get(rel) != lb.get(rel):
            what.append(f'hardlinks {la.get(rel)} {lb.get(rel)}')
        if what:
            diffs.append(f'{rel}: ' + ', '.join(what))
    for d in diffs:
        print(d)
    print(f'{len(set(a) | set(b))} entries, {len(diffs)} differences')
    return 1 if diffs else 0

sys.exit(main())
