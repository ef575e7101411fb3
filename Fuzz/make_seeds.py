#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into OUTDIR/<target>/.

Seeds come from format-spec/vectors/*.json (the byte-exact encodings of every
stored object), the test fixtures (plan files in Tests/CairnOpsTests and Tests/CairnPlanTests), tar
archives written by Python's tarfile in the three formats Cairn reads, RDB
files saved by a real redis-server when one is installed, and hand-written
samples of the text formats servers send (backup_label, timeline history,
RESP replies, S3 XML). `cairn-fuzz TARGET --write-seeds DIR` adds seeds made
with Cairn's own encoders (zstd frames, sealed pack headers).

Each seed carries the target's leading parameter bytes (see the target's
source in Fuzz/Sources/CairnFuzz): a mode or piece-size byte, a length.
"""
import io, json, os, re, shutil, socket, struct, subprocess, sys, tarfile, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "format-spec", "vectors")


def vectors(name):
    with open(os.path.join(VECTORS, name)) as f:
        return json.load(f)


def hex_vectors(name):
    return [bytes.fromhex(v["hex"]) for v in vectors(name)["vectors"]]


def le32(n):
    return struct.pack("<I", n)


def le16(n):
    return struct.pack("<H", n)


def test_strings(path):
    """The triple-quoted Swift strings of a test file, indentation removed."""
    with open(os.path.join(ROOT, path)) as f:
        src = f.read()
    out = []
    for m in re.finditer(r'"""\n(.*?)\n([ \t]*)"""', src, re.S):
        indent = m.group(2)
        lines = [l[len(indent):] if l.startswith(indent) else l for l in m.group(1).split("\n")]
        out.append("\n".join(lines).replace('\\\\', '\\').replace('\\"', '"').encode())
    return out


def pack_seeds():
    out = []
    for v in vectors("pack-header.json")["vectors"]:
        out.append(b"\x01" + le32(v["dataLength"]) + bytes.fromhex(v["hex"]))
    return out


def envelope_seeds():
    d = vectors("object-envelope.json")["headers"]
    c = vectors("crypto.json")
    out = [bytes.fromhex(c["snapshot_envelope"]["object"])]
    bodies = {"config": "repository-config.json", "index": "index-delta.json", "snapshot": "snapshot.json", "lock": "lock.json",
              "key-replacement": "key-replacement.json", "forget-record": "forget-record.json"}
    for kind, name in bodies.items():
        for body in hex_vectors(name):
            out.append(bytes.fromhex(d[kind]) + body)
    return out


def blob_seeds():
    chunk = bytes.fromhex(vectors("crypto.json")["blob"]["chunk"])
    return [b"\x00" + le32(len(chunk)) + le16(0) + b"\x00" + chunk, b"\x02" + le32(0) + le16(0) + b"\x00"]


def tar_seeds():
    out = []
    for fmt in (tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
            def add(name, kind=tarfile.REGTYPE, data=b"", link=""):
                info = tarfile.TarInfo(name)
                info.type = kind
                info.mode = 0o640
                info.uid, info.gid, info.uname, info.gname = 26, 26, "postgres", "postgres"
                info.mtime = 1700000000
                info.linkname = link
                info.size = len(data) if kind == tarfile.REGTYPE else 0
                t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
            add("base", tarfile.DIRTYPE)
            add("base/PG_VERSION", data=b"15\n")
            add("backup_label", data=b"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n")
            add("pg_wal", tarfile.SYMTYPE, link="/var/lib/postgresql/wal")
            add("global/pg_control_copy", tarfile.LNKTYPE, link="base/PG_VERSION")
            if fmt != tarfile.USTAR_FORMAT:
                add("d/" + "x" * 120 + "/long-name-" + "y" * 40, data=b"long\n" * 30)
                add("l", tarfile.SYMTYPE, link="t" * 150)
        data = buf.getvalue()
        out += [b"\x00" + data, b"\x07" + data]
    return out


def crc64_jones(data):
    # Redis's CRC-64 (Jones polynomial, reflected), for a hand-made RDB with a valid checksum.
    poly, crc = 0x95AC9329AC4BC9B5, 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def rdb_seeds():
    def s(b):
        return bytes([len(b)]) + b
    body = b"REDIS0011" + b"\xfa" + s(b"redis-ver") + s(b"7.2.4") + b"\xfe\x00\xfb\x02\x00"
    body += b"\x00" + s(b"k") + s(b"v") + b"\x01" + s(b"l") + b"\x02" + s(b"a") + s(b"b")
    body += b"\xff"
    out = [b"\x00" + body + struct.pack("<Q", crc64_jones(body)), b"\x00" + body + b"\x00" * 8]
    out += [b"\x05" + x[1:] for x in out]
    out += redis_dumps()
    return out


def redis_dumps():
    """RDB files saved by a real redis-server (every value type and encoding it writes small)."""
    server = shutil.which("redis-server")
    if not server:
        print("make_seeds: no redis-server, RDB seeds are hand-made only", file=sys.stderr)
        return []
    d = tempfile.mkdtemp(prefix="cairn-fuzz-rdb-")
    sock = os.path.join(d, "redis.sock")
    proc = subprocess.Popen([server, "--port", "0", "--unixsocket", sock, "--dir", d, "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = []
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        c = socket.socket(socket.AF_UNIX)
        c.connect(sock)
        f = c.makefile("rb")

        def cmd(*args):
            msg = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in (x if isinstance(x, bytes) else str(x).encode() for x in args))
            c.sendall(msg)
            line = f.readline()
            if line[:1] == b"$" and line[1:3] != b"-1":
                f.read(int(line[1:]) + 2)
            elif line[:1] == b"*":
                for _ in range(max(0, int(line[1:]))):
                    l2 = f.readline()
                    if l2[:1] == b"$" and l2[1:3] != b"-1":
                        f.read(int(l2[1:]) + 2)
            return line

        def save(name):
            cmd("SAVE")
            with open(os.path.join(d, "dump.rdb"), "rb") as rdb:
                out.append(b"\x00" + rdb.read())

        cmd("SET", "s", "hello"); cmd("SET", "n", 12345); cmd("SET", "big", "x" * 300)
        cmd("RPUSH", "l", "a", "b", 3); cmd("SADD", "is", 1, 2, 3); cmd("SADD", "ss", "a", "b")
        cmd("HSET", "h", "f", "v", "g", 1); cmd("ZADD", "z", 1, "a", 2.5, "b"); cmd("PEXPIRE", "s", 100000000)
        save("small")
        cmd("FLUSHALL")
        cmd("XADD", "st", "*", "f", "v"); cmd("XGROUP", "CREATE", "st", "g", "0"); cmd("SET", "k", "v")
        save("stream")
        cmd("CONFIG", "SET", "rdbcompression", "no"); cmd("CONFIG", "SET", "rdbchecksum", "no")
        cmd("SET", "big", "y" * 300); cmd("HSET", "h", "f", "v"); cmd("SELECT", 3); cmd("SET", "db3", "z")
        save("plain")
        c.close()
    except OSError as e:
        print(f"make_seeds: redis-server failed ({e}); RDB seeds are hand-made only", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)
    return out


def resp_seeds():
    replies = [b"+OK\r\n", b"-ERR unknown command\r\n", b":42\r\n", b"$5\r\nhello\r\n", b"$-1\r\n", b"*-1\r\n",
               b"*2\r\n$3\r\nfoo\r\n*1\r\n:1\r\n", b"$0\r\n\r\n"]
    info = b"# Persistence\r\nloading:0\r\nrdb_bgsave_in_progress:0\r\nrdb_last_bgsave_status:ok\r\nrdb_last_save_time:1700000000\r\n"
    return [b"\x00" + b"".join(replies), b"\x00" + b"*3\r\n" + b"".join(replies[:3]),
            b"\x01" + b"$%d\r\n" % len(info) + info + b"\r\n", b"\x01-NOAUTH Authentication required.\r\n"]


def plan_seeds():
    return test_strings("Tests/CairnOpsTests/PlanDecoderTests.swift") + test_strings("Tests/CairnPlanTests/SourceDeclarationTests.swift") + test_strings("Tests/CairnPlanTests/TOMLParserTests.swift")


def s3_seeds():
    def response(selector, body, flags=0, extra=b""):
        return bytes([selector, flags]) + le16(len(body)) + body + extra

    listing = (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bucket</Name><Prefix>repo/snapshots/</Prefix>'
               b'<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>'
               b'<Contents><Key>repo/snapshots/aa&amp;b</Key><Size>120</Size><ETag>&quot;x&quot;</ETag></Contents>'
               b'<Contents><Key>repo/snapshots/cc</Key><Size>99</Size></Contents>'
               b'<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>')
    last = listing.replace(b"<IsTruncated>true", b"<IsTruncated>false").replace(b"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>", b"")
    data = (b'<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>repo/data/ab/' + b"ab" * 32 +
            b'</Key><Size>4096</Size></Contents></ListBucketResult>')
    error = b'<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Resource>/x</Resource></Error>'
    upload = b'<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>'
    etag = b'"5289df737df57326fcdd22597afb1fac"'
    ok, part206, not_found, slow = 0, 3, 5, 9
    return [
        response(ok, listing) + response(ok, last) + response(ok, data) + response(ok, b"snapshot bytes", 3)
        + response(part206, b"\x00" * 100, 3) + response(not_found, error) + response(ok, b"", 1, le16(7))
        + response(ok, b"", 4, etag) + response(ok, upload) + response(ok, b"", 4, etag) + response(ok, b"<CompleteMultipartUploadResult/>"),
        response(slow, b"<Error><Code>SlowDown</Code><Message>Reduce your request rate &#x26; retry &#38;</Message></Error>"),
        response(ok, listing),
    ]


def text_seeds():
    label = (b"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nCHECKPOINT LOCATION: 0/2000060\n"
             b"BACKUP METHOD: streamed\nBACKUP FROM: primary\nSTART TIME: 2024-01-01 00:00:00 UTC\nLABEL: cairn\n"
             b"START TIMELINE: 1\n")
    page = le16(0xD110) + le16(0x0002) + le32(1) + struct.pack("<Q", 0x2000000) + le32(0) + le32(0)
    page += struct.pack("<Q", 7300000000000000000) + le32(16 << 20) + le32(8192)
    history = b"1\t0/3000000\tno recovery target specified\n\n# comment\n2\t0/5000158\tbefore 2024-01-01 00:00:00+00\n"
    return {
        "backup-label": [label, label.replace(b"\n", b"\r\n")],
        "wal-header": [page, b"000000010000000A000000FE", b"00000002.history", b"000000010000000000000002.00000028.backup",
                       b"000000010000000000000003.partial", b"16/B374D848"],
        "timeline-history": [le32(3) + history, le32(2) + b"1\t0/3000000\tno recovery target specified\n"],
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py OUTDIR")
    out = sys.argv[1]
    seeds = {
        "pack": pack_seeds(),
        "index-delta": hex_vectors("index-delta.json"),
        "tree": hex_vectors("tree.json"),
        "content-list": hex_vectors("content-ref.json"),
        "snapshot": hex_vectors("snapshot.json"),
        "key-file": hex_vectors("key-file-layout.json"),
        "key-replacement": hex_vectors("key-replacement.json"),
        "forget-record": hex_vectors("forget-record.json"),
        "snapshot-catalogue": hex_vectors("v2-snapshot-catalogue.json"),
        "forget-record-set": hex_vectors("v2-forget-record-set.json"),
        "config": hex_vectors("repository-config.json"),
        "lock": hex_vectors("lock.json"),
        "envelope": envelope_seeds(),
        "blob": blob_seeds(),
        "rdb": rdb_seeds(),
        "resp": resp_seeds(),
        "tar": tar_seeds(),
        "plan": plan_seeds(),
        "s3": s3_seeds(),
    }
    seeds.update(text_seeds())
    for target, items in seeds.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for i, item in enumerate(items):
            with open(os.path.join(d, f"seed-{i:03d}"), "wb") as f:
                f.write(item)
    print(f"make_seeds: {sum(len(v) for v in seeds.values())} seeds for {len(seeds)} targets in {out}")


if __name__ == "__main__":
    main()
