# A deep tree copied, then cut by a RUN: the whiteout sits deep inside.
setup() { p=t; for i in $(seq 20); do p=$p/$i; done; mkdir -p "$p"; echo leaf > "$p/leaf"; }
check() {
  content /leaf-seen leaf
  entry /t/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15 'd 755 0 0'
  absent /t/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16
}
