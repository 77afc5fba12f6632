#!/usr/bin/env python3
"""faultproxy.py PORT UPSTREAM RULES LOG: a loopback HTTP proxy in front of
a registry (UPSTREAM = host:port) that injects faults, for tests/builder.

It buffers each request body before forwarding it (as nginx does by
default), so a client whose connection drops mid-body leaves the registry
untouched, and the registry's upload state is what the client last saw.

RULES is a JSON file, read again whenever it changes (the counters start
again then): a list of
  {"method": "PUT", "path": "regex", "action": A, "times": N, ...}
A rule fires for the first N requests it matches (method equal, path a
regex search), then stands aside (drop_response counts only the
responses it cuts).  Actions:
  drop_request   "after": B - read B bytes of the body, then close the
                 connection (nothing reaches the registry); only for bodies
                 longer than B (shorter ones pass and do not count)
  drop_response  "after": B - forward, then send the registry's headers
                 and B bytes of its body, and close; only for longer bodies
  status         "status": S, "headers": {...}, "code": OCI code - answer
                 S with an OCI error body; nothing reaches the registry
  set_header     "headers": {...} - forward, then replace these headers
LOG gets one JSON line per request: method, path, range (the request's
Range header), in (body bytes read from the client), out (body bytes sent
to it), status, fault (the action or null) and inflight (requests being
served when this one started, itself included)."""
import http.client
import json
import os
import re
import socket
import socketserver
import sys
import threading

PORT, UPSTREAM, RULES, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
lock = threading.Lock()
state = {"key": None, "rules": [], "used": []}
inflight = [0]
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection",
       "te", "upgrade", "expect"}


def rules():
    """The current rules and their use counts (under lock)."""
    try:
        with open(RULES, "rb") as f:
            raw = f.read()
    except OSError:
        raw = b"[]"
    if raw != state["key"]:
        state["key"] = raw
        try:
            state["rules"] = json.loads(raw or b"[]")
        except ValueError:
            state["rules"] = []
        state["used"] = [0] * len(state["rules"])
    return state["rules"], state["used"]


def match(method, path, body_len):
    """The rule that fires for this request, counted, or None."""
    with lock:
        rs, used = rules()
        for i, r in enumerate(rs):
            if r.get("method", method) != method:
                continue
            if not re.search(r.get("path", ""), path):
                continue
            if used[i] >= r.get("times", 1):
                continue
            a = r.get("action")
            if a == "drop_request" and body_len <= r.get("after", 0):
                continue
            if a != "drop_response":  # counted when it cuts (take)
                used[i] += 1
            return r
    return None


def take(rule):
    """Counts a use of rule unless it is used up (a response long enough
    to cut: concurrent requests may race for the last use)."""
    with lock:
        rs, used = rules()
        for i, r in enumerate(rs):
            if r is rule and used[i] < r.get("times", 1):
                used[i] += 1
                return True
    return False


def log(entry):
    with lock:
        with open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        with lock:
            inflight[0] += 1
            now = inflight[0]
        self.counted = True
        try:
            self.serve(now)
        except (OSError, ValueError, http.client.HTTPException):
            pass
        finally:
            self.answered()

    def answered(self):
        """Leaves the in-flight count once the answer starts going out:
        the client may send its next request as soon as it has read it."""
        if self.counted:
            self.counted = False
            with lock:
                inflight[0] -= 1

    def serve(self, now):
        line = self.rfile.readline(65536).decode("latin-1")
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return  # not HTTP (a TLS hello): hang up
        method, path = parts[0], parts[1]
        headers = []
        while True:
            h = self.rfile.readline(65536).decode("latin-1")
            if h in ("\r\n", "\n", ""):
                break
            k, _, v = h.partition(":")
            headers.append((k.strip(), v.strip()))
        hmap = {k.lower(): v for k, v in headers}
        length = int(hmap.get("content-length", "0") or 0)
        entry = {"method": method, "path": path, "range": hmap.get("range"),
                 "in": 0, "out": 0, "status": None, "fault": None,
                 "inflight": now}
        rule = match(method, path, length)
        if rule:
            entry["fault"] = rule["action"]
        if hmap.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        if rule and rule["action"] == "drop_request":
            want = rule.get("after", 0)
            got = 0
            while got < want:
                chunk = self.rfile.read(min(65536, want - got))
                if not chunk:
                    break
                got += len(chunk)
            entry["in"] = got
            log(entry)
            self.request.shutdown(socket.SHUT_RDWR)
            return
        body = b""
        while len(body) < length:
            chunk = self.rfile.read(min(1 << 20, length - len(body)))
            if not chunk:
                break
            body += chunk
        entry["in"] = len(body)
        if len(body) < length:
            log(entry)
            return
        if rule and rule["action"] == "status":
            st = rule.get("status", 500)
            code = rule.get("code", "UNKNOWN")
            payload = json.dumps({"errors": [{"code": code,
                                              "message": "injected by faultproxy",
                                              "detail": None}]}).encode()
            out = ["HTTP/1.1 %d Injected" % st,
                   "Content-Type: application/json",
                   "Content-Length: %d" % len(payload), "Connection: close"]
            for k, v in rule.get("headers", {}).items():
                out.append("%s: %s" % (k, v))
            self.answered()
            self.wfile.write(("\r\n".join(out) + "\r\n\r\n").encode() + payload)
            entry["status"], entry["out"] = st, len(payload)
            log(entry)
            return
        host, port = UPSTREAM.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        fwd = {k: v for k, v in headers if k.lower() not in HOP}
        conn.request(method, path, body=body if length else None, headers=fwd)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        rh = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP
              and k.lower() != "content-length"]
        if rule and rule["action"] == "set_header":
            names = {k.lower() for k in rule.get("headers", {})}
            rh = [(k, v) for k, v in rh if k.lower() not in names]
            rh += list(rule.get("headers", {}).items())
        if method == "HEAD":
            clen = resp.getheader("Content-Length", "0")
        else:
            clen = str(len(data))
        out = ["HTTP/1.1 %d %s" % (resp.status, resp.reason)]
        out += ["%s: %s" % kv for kv in rh]
        out += ["Content-Length: " + clen, "Connection: close"]
        self.answered()
        self.wfile.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        entry["status"] = resp.status
        if method == "HEAD":
            data = b""
        if rule and rule["action"] == "drop_response" and \
                len(data) > rule.get("after", 0) and take(rule):
            data = data[:rule.get("after", 0)]
            self.wfile.write(data)
            self.wfile.flush()
            entry["out"] = len(data)
            log(entry)
            self.request.shutdown(socket.SHUT_RDWR)
            return
        if rule and rule["action"] == "drop_response":
            entry["fault"] = None  # too short to cut, or used up: passed
        self.wfile.write(data)
        entry["out"] = len(data)
        log(entry)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    open(LOG, "a").close()
    Server(("127.0.0.1", PORT), Handler).serve_forever()
