#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for Cairn's S3 tests (loopback only).

Forwards requests to --target unchanged (Host header included, so signatures
stay valid) and, with the given probabilities, instead answers 503 SlowDown or
500 InternalError, drops the connection halfway through an upload or a
download, or flips one byte of an upload's body. Prints "PORT n" once
listening and one "FAULT kind METHOD path" line per injected fault.

--opaque-etags replaces the ETag of every PUT answer with one that is not
the MD5 of the body (as SSE-KMS/DSSE buckets and some S3-compatible servers
answer) and prints one "REQ METHOD path" line per request.

--append-only PREFIX answers 403 AccessDenied, as S3 does for append-only
credentials (Docs/immutability.md's bucket policy), to every DELETE except of
an object under PREFIX/locks/ (and the abort of a multipart upload), to every
delete of a version, to a PUT under PREFIX/forgotten/ (forget records are
maintenance's), and to a PUT over an object that exists outside PREFIX/locks/
(a bucket policy that demands If-None-Match); it prints one
"REFUSED METHOD path" line per refusal.
"""
import argparse, hashlib, http.client, os, random, socket, struct, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

p = argparse.ArgumentParser()
p.add_argument("--target", required=True)
p.add_argument("--fail", type=float, default=0.0)
p.add_argument("--drop", type=float, default=0.0)
p.add_argument("--corrupt", type=float, default=0.0)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--opaque-etags", action="store_true")
p.add_argument("--append-only", default=None)
args = p.parse_args()
target = urlsplit(args.target)
rng = random.Random(args.seed)
lock = threading.Lock()
opaque = {}  # fake ETag -> real, for --opaque-etags


def log(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def refused(self):
        """The append-only policy's verdict on this request: True when it is refused."""
        if args.append_only is None:
            return False
        path, _, query = self.path.partition("?")
        params = [q.split("=", 1)[0] for q in query.split("&") if q]
        key = path.lstrip("/").partition("/")[2]  # path-style: /bucket/key
        locks = args.append_only.strip("/") + "/locks/"
        if self.command == "DELETE":
            if "versionId" in params:
                return True
            return not (key.startswith(locks) or "uploadId" in params)
        if self.command in ("PUT", "POST") and key.startswith(args.append_only.strip("/") + "/forgotten/"):
            return True
        if self.command == "PUT" and key and not key.startswith(locks) and "partNumber" not in params:
            if "retention" in params or "legal-hold" in params:
                return False  # S3 itself refuses shortening a lock; lengthening is allowed
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            conn.request("HEAD", path)  # moto does not check signatures: an unsigned look is enough
            exists = conn.getresponse().status == 200
            conn.close()
            return exists
        return False

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.refused():
            self.rfile.read(length)
            body = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            log(f"REFUSED {self.command} {self.path}")
            self.send_response(403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if args.opaque_etags:
            log(f"REQ {self.command} {self.path}")
        with lock:
            roll = rng.random()
        if roll < args.fail:
            self.rfile.read(length)
            status, code = (503, "SlowDown") if rng.random() < 0.5 else (500, "InternalError")
            body = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
            log(f"FAULT {code} {self.command} {self.path}")
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        roll -= args.fail
        if roll < args.drop and length > 0:
            self.rfile.read(length // 2)
            log(f"FAULT drop-upload {self.command} {self.path}")
            self.drop()
            return
        body = self.rfile.read(length)
        if args.opaque_etags and self.command == "POST" and "uploadId=" in self.path:
            # The server knows the parts by their real ETags: translate the client's back.
            with lock:
                for fake, real in opaque.items():
                    body = body.replace(fake.encode(), real.encode())
        if roll < args.drop and self.command == "GET":
            drop_download = True
        else:
            drop_download = False
        roll -= args.drop
        if roll < args.corrupt and self.command == "PUT" and body:
            i = rng.randrange(len(body))
            body = body[:i] + bytes([body[i] ^ 0x40]) + body[i + 1:]
            log(f"FAULT corrupt {self.command} {self.path}")
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=body if length or self.command in ("PUT", "POST") else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if args.opaque_etags and self.command == "PUT" and k.lower() == "etag":
                real = v.strip('"')
                fake = hashlib.md5(b"kms key " + real.encode()).hexdigest()
                with lock:
                    opaque[fake] = real
                v = '"' + fake + '"'
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", resp.getheader("Content-Length") or "0")
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if drop_download and len(data) > 1:
            log(f"FAULT drop-download {self.command} {self.path}")
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.drop()
            return
        if self.command != "HEAD":
            self.wfile.write(data)

    def drop(self):
        """Resets the connection (RST, not a polite FIN), as a failing network does."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # The fd closes only when the file objects over it are closed too.
            for f in (self.rfile, self.wfile):
                try:
                    f.close()
                except OSError:
                    pass
            self.connection.close()
        except OSError:
            pass

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def watch_parent(parent=os.getppid()):
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()
server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
server.daemon_threads = True
log(f"PORT {server.server_address[1]}")
server.serve_forever()
