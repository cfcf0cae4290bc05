#!/usr/bin/env python3
"""Hostile loopback HTTP(S) server for the lightfunnels-auth hostile suite.

One process per test case, one misbehaviour per process (--mode, like curl's
servercmd). Python 3 standard library only (socket, ssl, threading, zlib).

    hostile_server.py --mode MODE --record FILE [--cert PEM --key PEM] [options]

Listens on 127.0.0.1, port chosen by the kernel, and prints one ready line
"READY <port>" on stdout once it accepts connections. With --cert/--key it
speaks TLS, otherwise plain TCP.

Everything it receives goes to the record file (appended, one os.write per
record, so a record is complete on disk before the response is sent):

    CONN <cid>\\n                      a TCP connection was accepted
    TLSFAIL <cid> <reason>\\n          the TLS handshake failed; reason: OpenSSL's
                                      (e.g. UNSUPPORTED_PROTOCOL) or the exception's name
    REQ <cid> <len>\\n<len bytes>\\n    one complete HTTP request (head + body)
    RAW <cid> <len>\\n<len bytes>\\n    bytes that did not form a request
    SENT <cid> <n>\\n                  response body bytes sent (streaming modes)
    END <cid>\\n                       the connection's thread is finished

Every connection gets `Connection: close`; the server never reads a second
request on a connection. Every wait is bounded: sockets time out, streaming
modes stop at --size bytes, and the process exits after --lifetime seconds
or as soon as its parent process is gone.

Modes (the response to every request):
  ok              --status, --body/--body-file, honest Content-Length
  chunked         the same body with Transfer-Encoding: chunked (7-byte chunks)
  gzip            the same body gzip-compressed, Content-Encoding: gzip
  gzip-bomb       --size bytes of JSON whitespace, gzip-compressed (small on the wire)
  big             honest Content-Length of --size bytes, then the bytes
  body-forever    chunked body of 16 KiB chunks, until --size bytes or the peer leaves
  chunk-badhex    chunked framing with a non-hex chunk size ("zz")
  chunk-overflow  chunked framing with an 18-digit hex chunk size
  slowloris       the response head, 1 byte every --interval seconds, never ending
  trickle         chunked body of spaces at --rate bytes/s, never ending
  headers-forever endless 100-byte header lines, until --size bytes
  header-line-huge one header line of --size bytes, never terminated
  cl-shorter      Content-Length 5 bytes shorter than the body sent
  stall           reads the request, never answers
  stall-headers   sends the head (Content-Length: 200), never the body
  rst-mid-body    head + half the body, then RST (SO_LINGER 0 close)
  fin-mid-body    head (full Content-Length) + half the body, then FIN
  close-before-response  reads the request, closes (FIN) without a byte
  redirect        --status (3xx) with Location: --location ({port} = own port)
  auto            a token endpoint for AUTO client-auth probes: a request carrying
                  the code from --code-file gets 200 + token from --token-file,
                  any other code gets 400 invalid_grant; --auto-accept
                  (basic|json|both|none) answers the styles not accepted with
                  401 invalid_client
  http-on-tls     plain TCP: reads whatever arrives (a TLS ClientHello), answers
                  with a plain HTTP 400 and closes (use without --cert)
  tls-never       accepts TCP and never starts (nor answers) the TLS handshake
  tls-rst-after-hello  plain TCP: reads the TLS ClientHello (recorded as RAW), then
                  RST (SO_LINGER 0 close) without a byte of handshake answer
  rst-while-receiving  after the TLS handshake, reads --size request bytes (RAW),
                  waits --interval s (the client blocks in send), then RST; the
                  listening socket's SO_RCVBUF is small so the client cannot
                  hand a large request to the kernel before the reset
  cl-list         --body with one Content-Length header per value of
                  --content-lengths (e.g. "20,25": two conflicting headers)

--tls-version 1.0|1.1 makes the TLS server speak only that version (with
@SECLEVEL=0, without which Debian 12's OpenSSL 3.0 refuses to offer it).
"""

import argparse
import os
import socket
import ssl
import struct
import sys
import threading
import time
import warnings
import zlib

READ_TIMEOUT_S = 15.0
MAX_REQUEST = 1 << 20
SMALL_RCVBUF = 16384
LEGACY_TLS = {'1.0': 'TLSv1', '1.1': 'TLSv1_1'}


def recv_or_empty(sock, n):
    """sock.recv(n); b'' when the peer is gone, the socket timed out or TLS
    failed (socket.timeout and ssl.SSLError are OSErrors)."""
    try:
        return sock.recv(n)
    except OSError:
        return b''


class Recorder:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.lock = threading.Lock()

    def _write(self, data):
        with self.lock:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]

    def line(self, text):
        self._write(text.encode('ascii') + b'\n')

    def blob(self, tag, cid, data):
        self._write(b'%s %d %d\n' % (tag.encode('ascii'), cid, len(data)) + bytes(data) + b'\n')


def parse_args():
    p = argparse.ArgumentParser(description='hostile loopback server (tests only)')
    p.add_argument('--mode', required=True)
    p.add_argument('--record', required=True)
    p.add_argument('--cert')
    p.add_argument('--key')
    p.add_argument('--status', type=int, default=200)
    p.add_argument('--header', action='append', default=[])
    p.add_argument('--body', default='')
    p.add_argument('--body-file')
    p.add_argument('--content-type', default='application/json')
    p.add_argument('--location', default='')
    p.add_argument('--code-file')
    p.add_argument('--token-file')
    p.add_argument('--auto-accept', default='both', choices=['basic', 'json', 'both', 'none'])
    p.add_argument('--size', type=int, default=64 << 20)
    p.add_argument('--interval', type=float, default=0.5)
    p.add_argument('--rate', type=int, default=2048)
    p.add_argument('--lifetime', type=float, default=120.0)
    p.add_argument('--tls-version', choices=sorted(LEGACY_TLS))
    p.add_argument('--content-lengths', default='')
    return p.parse_args()


REASONS = {200: 'OK', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other',
           307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request',
           401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests',
           500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable'}


class Server:
    def __init__(self, args):
        self.args = args
        self.rec = Recorder(args.record)
        self.port = 0
        self.next_cid = 0
        self.cid_lock = threading.Lock()
        if args.body_file:
            with open(args.body_file, 'rb') as f:
                self.body = f.read()
        else:
            self.body = args.body.encode('utf-8')
        self.code = self._read_opt(args.code_file)
        self.token = self._read_opt(args.token_file)
        self.ctx = None
        if args.cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(args.cert, args.key)
            if args.tls_version:
                self.legacy_only(args.tls_version)

    def legacy_only(self, version):
        """Speaks only TLS `version` (1.0 or 1.1): nothing newer is offered,
        so a client that refuses it cannot fall back to anything."""
        v = getattr(ssl.TLSVersion, LEGACY_TLS[version])
        self.ctx.set_ciphers('DEFAULT:@SECLEVEL=0')
        with warnings.catch_warnings():  # TLSVersion.TLSv1/TLSv1_1 are deprecated: that is the point
            warnings.simplefilter('ignore', DeprecationWarning)
            self.ctx.minimum_version = v
            self.ctx.maximum_version = v

    @staticmethod
    def _read_opt(path):
        if not path:
            return b''
        with open(path, 'rb') as f:
            return f.read().strip()

    # -- helpers --------------------------------------------------------
    def head(self, status, headers, content_length=None, chunked=False):
        lines = ['HTTP/1.1 %d %s' % (status, REASONS.get(status, 'Status'))]
        lines.append('Content-Type: %s' % self.args.content_type)
        lines.append('Connection: close')
        if content_length is not None:
            lines.append('Content-Length: %d' % content_length)
        if chunked:
            lines.append('Transfer-Encoding: chunked')
        lines.extend(headers)
        lines.extend(self.args.header)
        return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')

    def read_request(self, conn, cid):
        buf = b''
        while b'\r\n\r\n' not in buf:
            chunk = recv_or_empty(conn, 65536)
            if not chunk:
                break
            buf += chunk
            if len(buf) > MAX_REQUEST:
                break
        if b'\r\n\r\n' not in buf:
            if buf:
                self.rec.blob('RAW', cid, buf)
            return None
        headpart, _, rest = buf.partition(b'\r\n\r\n')
        length = 0
        for line in headpart.split(b'\r\n')[1:]:
            name, _, value = line.partition(b':')
            name = name.strip().lower()
            if name == b'content-length':
                try:
                    length = min(int(value.strip()), MAX_REQUEST)
                except ValueError:
                    length = 0
            elif name == b'expect' and value.strip().lower() == b'100-continue':
                conn.sendall(b'HTTP/1.1 100 Continue\r\n\r\n')
        while len(rest) < length:
            chunk = recv_or_empty(conn, 65536)
            if not chunk:
                break
            rest += chunk
        request = headpart + b'\r\n\r\n' + rest
        self.rec.blob('REQ', cid, request)
        return headpart, rest

    @staticmethod
    def wait_peer_gone(conn, cid, deadline):
        """Reads (and drops) until the peer closes or the deadline passes."""
        conn.settimeout(0.25)
        while time.monotonic() < deadline:
            try:
                if not conn.recv(4096):
                    return
            except socket.timeout:
                continue
            except (OSError, ssl.SSLError):
                return

    def deadline(self):
        return self.started + self.args.lifetime

    # -- modes ----------------------------------------------------------
    def respond(self, conn, cid, headpart, reqbody):
        a = self.args
        mode = a.mode
        body = self.body
        if mode == 'ok':
            conn.sendall(self.head(a.status, [], len(body)) + body)
        elif mode == 'chunked':
            out = [self.head(a.status, [], chunked=True)]
            for i in range(0, len(body), 7):
                piece = body[i:i + 7]
                out.append(b'%x\r\n' % len(piece) + piece + b'\r\n')
            out.append(b'0\r\n\r\n')
            conn.sendall(b''.join(out))
        elif mode == 'gzip':
            c = zlib.compressobj(9, zlib.DEFLATED, 31)
            z = c.compress(body) + c.flush()
            conn.sendall(self.head(a.status, ['Content-Encoding: gzip'], len(z)) + z)
        elif mode == 'gzip-bomb':
            c = zlib.compressobj(9, zlib.DEFLATED, 31)
            parts = [c.compress(b'{"access_token":"x"')]
            block = b' ' * (1 << 20)
            left = a.size
            while left > 0:
                n = min(left, len(block))
                parts.append(c.compress(block[:n]))
                left -= n
            parts.append(c.compress(b'}'))
            parts.append(c.flush())
            z = b''.join(parts)
            conn.sendall(self.head(a.status, ['Content-Encoding: gzip'], len(z)) + z)
            self.rec.line('SENT %d %d' % (cid, len(z)))
        elif mode == 'big':
            conn.sendall(self.head(a.status, [], a.size))
            self.stream_raw(conn, cid, a.size, chunked=False)
        elif mode == 'body-forever':
            conn.sendall(self.head(a.status, [], chunked=True))
            self.stream_raw(conn, cid, a.size, chunked=True)
        elif mode == 'chunk-badhex':
            conn.sendall(self.head(a.status, [], chunked=True) + b'zz\r\n' + body + b'\r\n0\r\n\r\n')
        elif mode == 'chunk-overflow':
            conn.sendall(self.head(a.status, [], chunked=True) + b'ffffffffffffffffff\r\n' + body +
                         b'\r\n0\r\n\r\n')
        elif mode == 'slowloris':
            head = self.head(a.status, ['X-Slow: '])[:-4]
            i = 0
            while time.monotonic() < self.deadline():
                b = head[i:i + 1] if i < len(head) else b'a'
                i += 1
                try:
                    conn.sendall(b)
                except (OSError, ssl.SSLError):
                    break
                time.sleep(a.interval)
            self.rec.line('SENT %d %d' % (cid, i))
        elif mode == 'headers-forever':
            conn.sendall(b'HTTP/1.1 200 OK\r\n')
            sent, n = 0, 0
            try:
                while sent < a.size and time.monotonic() < self.deadline():
                    line = b'X-Fill-%d: %s\r\n' % (n, b'h' * 100)
                    conn.sendall(line)
                    sent += len(line)
                    n += 1
            except (OSError, ssl.SSLError):
                pass
            self.rec.line('SENT %d %d' % (cid, sent))
        elif mode == 'header-line-huge':
            conn.sendall(b'HTTP/1.1 200 OK\r\nX-Big: ')
            self.stream_raw(conn, cid, a.size, chunked=False, fill=b'h')
        elif mode == 'trickle':
            conn.sendall(self.head(a.status, [], chunked=True))
            sent = 0
            try:
                while time.monotonic() < self.deadline():
                    piece = b' ' * max(1, a.rate // 10)
                    conn.sendall(b'%x\r\n' % len(piece) + piece + b'\r\n')
                    sent += len(piece)
                    time.sleep(0.1)
            except (OSError, ssl.SSLError):
                pass
            self.rec.line('SENT %d %d' % (cid, sent))
        elif mode == 'cl-shorter':
            conn.sendall(self.head(a.status, [], max(0, len(body) - 5)) + body)
        elif mode == 'stall':
            self.wait_peer_gone(conn, cid, self.deadline())
        elif mode == 'stall-headers':
            conn.sendall(self.head(a.status, [], 200))
            self.wait_peer_gone(conn, cid, self.deadline())
        elif mode in ('rst-mid-body', 'fin-mid-body'):
            half = max(1, len(body) // 2)
            conn.sendall(self.head(a.status, [], len(body)) + body[:half])
            time.sleep(0.2)  # let the half body arrive before the close
            if mode == 'rst-mid-body':
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            else:
                conn.shutdown(socket.SHUT_RDWR)
        elif mode == 'close-before-response':
            conn.shutdown(socket.SHUT_RDWR)
        elif mode == 'cl-list':
            lengths = ['Content-Length: ' + v.strip() for v in a.content_lengths.split(',') if v.strip()]
            conn.sendall(self.head(a.status, lengths) + body)
        elif mode == 'redirect':
            loc = a.location.replace('{port}', str(self.port))
            conn.sendall(self.head(a.status, ['Location: ' + loc], len(body)) + body)
        elif mode == 'auto':
            self.respond_auto(conn, headpart, reqbody)
        else:
            raise SystemExit('unknown mode ' + mode)

    def respond_auto(self, conn, headpart, reqbody):
        lower = headpart.lower()
        basic = b'\r\nauthorization: basic ' in lower
        style = 'basic' if basic else 'json'
        accept = self.args.auto_accept
        if accept == 'none' or (accept != 'both' and style != accept):
            status, body = 401, b'{"error":"invalid_client","error_description":"client authentication failed"}'
        elif self.code and self.code in reqbody:
            status, body = 200, b'{"access_token":"' + self.token + b'","token_type":"bearer"}'
        else:
            status, body = 400, b'{"error":"invalid_grant","error_description":"unknown authorization code"}'
        conn.sendall(self.head(status, [], len(body)) + body)

    def stream_raw(self, conn, cid, total, chunked, fill=b' '):
        block = fill * 16384
        sent = 0
        try:
            while sent < total and time.monotonic() < self.deadline():
                n = min(len(block), total - sent)
                if chunked:
                    conn.sendall(b'%x\r\n' % n + block[:n] + b'\r\n')
                else:
                    conn.sendall(block[:n])
                sent += n
            if chunked and sent >= total:
                conn.sendall(b'0\r\n\r\n')
        except (OSError, ssl.SSLError):
            pass
        self.rec.line('SENT %d %d' % (cid, sent))

    # -- connections ----------------------------------------------------
    def handle(self, sock, cid):
        conn = sock
        try:
            sock.settimeout(READ_TIMEOUT_S)
            mode = self.args.mode
            if mode == 'tls-never':
                data = b''
                sock.settimeout(0.25)
                while time.monotonic() < self.deadline():
                    try:
                        chunk = sock.recv(4096)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                    if not chunk:
                        break
                    data += chunk
                if data:
                    self.rec.blob('RAW', cid, data)
                return
            if mode == 'tls-rst-after-hello':
                self.reset_after_client_hello(sock, cid)
                return
            if mode == 'http-on-tls':
                sock.settimeout(3.0)
                data = recv_or_empty(sock, 65536)
                if data:
                    self.rec.blob('RAW', cid, data)
                msg = b'<html><body>400 plain HTTP</body></html>'
                sock.sendall(b'HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n'
                             b'Connection: close\r\nContent-Length: %d\r\n\r\n' % len(msg) + msg)
                return
            if self.ctx is not None:
                conn = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                try:
                    conn.do_handshake()
                except (OSError, ssl.SSLError) as e:
                    reason = getattr(e, 'reason', None) or type(e).__name__
                    self.rec.line('TLSFAIL %d %s' % (cid, reason))
                    return
            if mode == 'rst-while-receiving':
                self.reset_while_receiving(conn, cid)
                return
            got = self.read_request(conn, cid)
            if got is None:
                return
            self.respond(conn, cid, got[0], got[1])
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass
            self.rec.line('END %d' % cid)

    @staticmethod
    def reset(conn):
        """The close that follows sends RST instead of FIN."""
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))

    def reset_after_client_hello(self, sock, cid):
        """Reads one whole TLS record (the ClientHello: 5-byte header + its
        length), records it, and resets before answering."""
        sock.settimeout(3.0)
        data = b''
        while len(data) < 5 or len(data) < 5 + struct.unpack('>H', data[3:5])[0]:
            chunk = recv_or_empty(sock, 65536)
            if not chunk:
                break
            data += chunk
        if data:
            self.rec.blob('RAW', cid, data)
        self.reset(sock)

    def reset_while_receiving(self, conn, cid):
        """Reads --size bytes of what the client sends, lets it fill the
        (small) buffers and block in send, then resets."""
        data = b''
        while len(data) < self.args.size:
            chunk = recv_or_empty(conn, min(65536, self.args.size - len(data)))
            if not chunk:
                break
            data += chunk
        self.rec.blob('RAW', cid, data)
        time.sleep(self.args.interval)
        self.reset(conn)

    def watchdog(self, parent):
        while True:
            if os.getppid() != parent or time.monotonic() > self.deadline() + 5:
                os._exit(0)
            time.sleep(0.5)

    def serve(self):
        self.started = time.monotonic()
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.args.mode == 'rst-while-receiving':  # inherited by accepted sockets
            lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RCVBUF)
        lsock.bind(('127.0.0.1', 0))
        lsock.listen(64)
        self.port = lsock.getsockname()[1]
        threading.Thread(target=self.watchdog, args=(os.getppid(),), daemon=True).start()
        sys.stdout.write('READY %d\n' % self.port)
        sys.stdout.flush()
        lsock.settimeout(0.5)
        while time.monotonic() < self.deadline():
            try:
                sock, _ = lsock.accept()
            except socket.timeout:
                continue
            with self.cid_lock:
                self.next_cid += 1
                cid = self.next_cid
            self.rec.line('CONN %d' % cid)
            threading.Thread(target=self.handle, args=(sock, cid), daemon=True).start()
        os._exit(0)


def main():
    Server(parse_args()).serve()


if __name__ == '__main__':
    main()
