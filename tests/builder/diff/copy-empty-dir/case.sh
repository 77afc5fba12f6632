# Empty directories are copied (as directories, mode kept).
setup() { mkdir -p empty tree/e1/e2; chmod 750 tree/e1; }
check() { entry /empty 'd 755 0 0'; entry /tree/e1 'd 750 0 0'; entry /tree/e1/e2 'd 755 0 0'; }
