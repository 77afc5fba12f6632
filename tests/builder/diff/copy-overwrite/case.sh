# COPY over existing files replaces them, mode and all (fsutil copy
# removes an existing non-directory target first).
check() { content /f new; entry /f 'f 644 0 0'; content /d/f new; }
