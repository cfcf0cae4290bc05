#!/usr/bin/env python3
"""Receives exactly one POST on 127.0.0.1:PORT, writes its raw body to
PREFIX.body and its lightfunnels-hmac header to PREFIX.hmac, answers 200 and
exits 0. Exits 1 if nothing arrives within SECONDS."""
import http.server
import sys
import time

port, prefix, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
got = []


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(prefix + ".body", "wb") as f:
            f.write(body)
        with open(prefix + ".hmac", "w") as f:
            f.write(self.headers.get("lightfunnels-hmac", ""))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        got.append(1)

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", port), H)
srv.timeout = 0.2
print("READY", flush=True)
deadline = time.monotonic() + secs
while not got and time.monotonic() < deadline:
    srv.handle_request()
srv.server_close()
sys.exit(0 if got else 1)
