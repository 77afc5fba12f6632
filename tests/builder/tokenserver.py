#!/usr/bin/env python3
"""tokenserver.py DIR PORT USER PASS: the Docker registry token service
(Bearer auth, as Docker Hub and GHCR use it) for tests/builder.

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] with HTTP
Basic USER:PASS answers {"token": JWT, "access_token": JWT}: an RS256 JWT
signed with DIR/token.key (openssl does the signing), its certificate in the
x5c header, granting the scopes asked for.  Without credentials it grants
nothing (pulls of a private registry then fail, as they should).  Every
request is appended to DIR/token.log (scope and whether it authenticated)."""
import base64
import http.server
import json
import os
import subprocess
import sys
import time
import urllib.parse

DIR, PORT, USER, PASS = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
KEY, CERT = os.path.join(DIR, "token.key"), os.path.join(DIR, "token.crt")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der_b64():
    der = subprocess.run(["openssl", "x509", "-in", CERT, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return base64.b64encode(der).decode()


X5C = cert_der_b64()


def sign(header, claims):
    signing_input = (b64(json.dumps(header).encode()) + "." +
                     b64(json.dumps(claims).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY],
                         input=signing_input, check=True,
                         capture_output=True).stdout
    return signing_input.decode() + "." + b64(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            self.send_error(404)
            return
        q = urllib.parse.parse_qs(url.query)
        authed = False
        h = self.headers.get("Authorization", "")
        if h.startswith("Basic "):
            try:
                u, _, p = base64.b64decode(h[6:]).decode().partition(":")
                authed = (u, p) == (USER, PASS)
            except Exception:
                authed = False
            if not authed:
                self.send_error(401, "bad credentials")
                return
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) >= 3 and parts[0] == "repository" and authed:
                    access.append({"type": "repository",
                                   "name": ":".join(parts[1:-1]),
                                   "actions": parts[-1].split(",")})
        with open(os.path.join(DIR, "token.log"), "a") as f:
            f.write(json.dumps({"scope": q.get("scope", []),
                                "authed": authed}) + "\n")
        now = int(time.time())
        token = sign({"typ": "JWT", "alg": "RS256", "x5c": [X5C]},
                     {"iss": "dw-test-issuer", "sub": USER if authed else "",
                      "aud": q.get("service", [""])[0], "exp": now + 300,
                      "nbf": now - 10, "iat": now, "jti": str(now) + str(id(q)),
                      "access": access})
        body = json.dumps({"token": token, "access_token": token,
                           "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
