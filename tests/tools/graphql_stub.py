#!/usr/bin/env python3
"""A stand-in GraphQL API on 127.0.0.1 (plain HTTP, which lf-auth accepts for
loopback only): answers every POST with status 200 and the exact bytes of
BODY_FILE. Prints "PORT=<n>" once listening; exits after SECONDS."""
import http.server
import sys
import time

body_file, secs = sys.argv[1], float(sys.argv[2])
with open(body_file, "rb") as f:
    BODY = f.read()


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), H)
srv.timeout = 0.2
print("PORT=%d" % srv.server_address[1], flush=True)
deadline = time.monotonic() + secs
while time.monotonic() < deadline:
    srv.handle_request()
srv.server_close()
