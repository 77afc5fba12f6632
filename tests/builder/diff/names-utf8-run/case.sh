# A RUN that creates and deletes names in UTF-8: the layer carries them
# and the whiteout of a deleted one (.wh.fïle).
check() {
  content /dír/nëw y
  absent /dír/fïle
  entry /dír/lïnk 'l 777 0 0 -> f\xc3\xafle'
}
