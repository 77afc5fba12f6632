#!/usr/bin/env python3
"""pkgcache.py DIR PORTFILE: a caching HTTP forward proxy for the Flask
bench, so both builders' apt-get reads packages from this machine instead
of the Debian mirror, whose latency swings by tens of seconds between runs.

Every GET for an absolute http:// URL is answered from DIR when fetched
before, else fetched from upstream once, stored and answered.  Listens on
all addresses (a RUN in buildah's bridge network reaches it through the
host's address) on a free port, written to PORTFILE.  Not a general proxy:
no CONNECT, no revalidation, no eviction.  Figures only, not a test."""
import hashlib
import http.server
import os
import sys
import threading
import urllib.request

ROOT = sys.argv[1]
os.makedirs(ROOT, exist_ok=True)
LOCKS = {}
LOCKS_GUARD = threading.Lock()
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def lock_for(key):
    with LOCKS_GUARD:
        return LOCKS.setdefault(key, threading.Lock())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        url = self.path
        if not url.startswith("http://"):
            self.send_error(400, "absolute http:// URL expected")
            return
        key = hashlib.sha256(url.encode()).hexdigest()
        path = os.path.join(ROOT, key)
        with lock_for(key):
            if not os.path.exists(path):
                try:
                    with DIRECT.open(url, timeout=60) as r:
                        data = r.read()
                except urllib.error.HTTPError as e:
                    self.send_response(e.code)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                except Exception as e:  # network trouble: let apt retry
                    self.send_error(502, str(e))
                    return
                with open(path + ".tmp", "wb") as f:
                    f.write(data)
                os.rename(path + ".tmp", path)
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
