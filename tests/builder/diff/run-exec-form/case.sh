# RUN exec form: no expansion by the builder (the shell started by it
# expands); shell form through /bin/sh -c.
check() { content /exec hello; content /shell hello; }
