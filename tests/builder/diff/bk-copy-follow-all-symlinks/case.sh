# BuildKit's testCopyFollowAllSymlinks (#1197): foo/sub -> ../bar, copied
# by name, is followed out of its directory but inside the context.
setup() { printf bar-contents > bar; mkdir foo; chmod 700 foo; ln -s ../bar foo/sub; }
check() { entry /sub 'l 777 0 0 -> ../bar'; content /bar bar-contents; }
