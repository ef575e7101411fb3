#!/usr/bin/env python3
"""Writes the pure-codec test vectors of format v1 (format-spec/v1.md) and v2 (v2.md).

This is a second, independent implementation of the encodings in v1.md,
written from the specification rather than from the Swift code: the Swift
test `SpecVectorTests` builds each object from the JSON fields, checks that
its encoding equals `hex`, and that decoding `hex` and encoding again gives
the same bytes. Crypto vectors are not made here (see crypto.json).

Run:  python3 make_vectors.py   (needs pyfastcdc 0.3.1 for fastcdc.json)
"""
import hashlib
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
M64 = (1 << 64) - 1


# --- primitives (v1.md "Primitive encodings") ---------------------------------

def u8(v): return struct.pack("<B", v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def i32(v): return struct.pack("<i", v)
def u64(v): return struct.pack("<Q", v)
def i64(v): return struct.pack("<q", v)


def varint(v):
    assert 0 <= v <= M64
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def data(b): return varint(len(b)) + b
def string(s): return data(s.encode("utf-8"))
def ident(h): b = bytes.fromhex(h); assert len(b) == 32; return b


def sha(label): return hashlib.sha256(label.encode()).hexdigest()


# --- structures ----------------------------------------------------------------

def content_ref(c):
    return u8(c["level"]) + varint(len(c["ids"])) + b"".join(ident(i) for i in c["ids"])


KINDS = {"file": 1, "directory": 2, "symlink": 3, "fifo": 4, "characterDevice": 5, "blockDevice": 6, "socket": 7}


I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


def node_time(n, which):
    """(seconds, nanoseconds) of a node's mtime or ctime, given as <which>Nanos or <which>Seconds + <which>Nanoseconds."""
    if which + "Seconds" in n:
        return n[which + "Seconds"], n[which + "Nanoseconds"]
    return divmod(n[which + "Nanos"], 10 ** 9)  # floor: the nanoseconds are never negative


def tree(t):
    nodes = sorted(t["nodes"], key=lambda n: bytes.fromhex(n["nameHex"]))
    # The lowest version that holds the tree (v1.md §12): 4 when a time does not fit i64 nanoseconds,
    # else 3 with a FIFO, device or socket, else 2 with an extended attribute, else 1.
    wide = any(not I64_MIN <= s * 10 ** 9 + ns <= I64_MAX
               for n in nodes for s, ns in (node_time(n, "mtime"), node_time(n, "ctime")))
    if wide:
        version = 4
    elif any(KINDS[n["kind"]] >= 4 for n in nodes):
        version = 3
    elif any(n.get("xattrs") for n in nodes):
        version = 2
    else:
        version = 1
    out = u8(version) + varint(len(nodes))
    for n in nodes:
        out += u8(KINDS[n["kind"]]) + data(bytes.fromhex(n["nameHex"])) + u32(n["mode"])
        out += varint(n["uid"]) + varint(n["gid"]) + string(n["user"]) + string(n["group"])
        for which in ("mtime", "ctime"):
            s, ns = node_time(n, which)
            out += i64(s) + u32(ns) if version == 4 else i64(s * 10 ** 9 + ns)
        out += varint(n["inode"]) + varint(n["device"]) + varint(n["size"])
        if n["kind"] == "file":
            out += content_ref(n["content"])
        elif n["kind"] == "directory":
            out += ident(n["subtree"])
        elif n["kind"] == "symlink":
            out += data(bytes.fromhex(n["linkTargetHex"]))
        elif n["kind"] in ("characterDevice", "blockDevice"):
            out += varint(n["deviceMajor"]) + varint(n["deviceMinor"])
        if version >= 2:
            xs = sorted(n.get("xattrs", []), key=lambda x: bytes.fromhex(x["nameHex"]))
            out += varint(len(xs)) + b"".join(data(bytes.fromhex(x["nameHex"])) + data(bytes.fromhex(x["valueHex"])) for x in xs)
    return out


def snapshot(s):
    out = u8(1) + i64(s["timeNanos"]) + string(s["name"]) + string(s["host"]) + string(s["user"])
    out += varint(len(s["tags"])) + b"".join(string(t) for t in s["tags"])
    out += varint(len(s["paths"])) + b"".join(string(p) for p in s["paths"])
    out += string(s["sourceKind"]) + ident(s["root"])
    out += u8(0) if s["parent"] is None else u8(1) + ident(s["parent"])
    for f in ["logicalBytes", "fileCount", "directoryCount", "newBytes"]:
        out += varint(s[f])
    keys = sorted(s["extra"], key=lambda k: k.encode("utf-8"))
    out += varint(len(keys)) + b"".join(string(k) + string(s["extra"][k]) for k in keys)
    return out + string(s["programVersion"])


BLOB_TYPES = {"data": 0, "tree": 1, "list": 2}
PACK_TYPES = {"data": 0, "metadata": 1}


def blob_entry(e):
    return (u8(BLOB_TYPES[e["type"]]) + ident(e["id"]) + varint(e["offset"])
            + varint(e["length"]) + varint(e["rawLength"]))


def pack_header(p):
    return (b"CRNP" + u8(1) + u8(PACK_TYPES[p["type"]]) + varint(len(p["entries"]))
            + b"".join(blob_entry(e) for e in p["entries"]))


def index_delta(d):
    out = u8(1) + varint(len(d["supersedes"])) + b"".join(ident(i) for i in d["supersedes"])
    out += varint(len(d["packs"]))
    for p in d["packs"]:
        out += ident(p["id"]) + u8(PACK_TYPES[p["type"]]) + varint(p["size"]) + varint(len(p["entries"]))
        out += b"".join(blob_entry(e) for e in p["entries"])
    return out


def repository_config(c):
    # Version 2 only when a shared chunker seed is present (appended as u64le).
    # Version 3 when an Object Lock is set: a seed flag (and the seed), the mode (1 governance, 2 compliance), u32 days.
    seed = c.get("chunkerSeedHex")
    lock = c.get("objectLock")
    version = 3 if lock else 2 if seed else 1
    out = u8(version) + bytes.fromhex(c["repositoryIDHex"]) + i64(c["createdNanos"]) + u32(c["packSize"])
    out += i32(c["compressionLevel"]) + varint(len(c["profiles"]))
    for p in c["profiles"]:
        out += string(p["name"]) + varint(p["minimumSize"]) + varint(p["averageSize"])
        out += varint(p["maximumSize"]) + u8(p["normalization"])
    if lock:
        out += u8(1 if seed else 0)
        if seed:
            out += struct.pack("<Q", int(seed, 16))
        out += u8({"governance": 1, "compliance": 2}[lock["mode"]]) + u32(lock["days"])
    elif seed:
        out += struct.pack("<Q", int(seed, 16))
    return out


def envelope_header(magic): return magic.encode() + u16(1)


def lock_record(l):
    return (u8(1) + u8(1 if l["exclusive"] else 0) + string(l["host"]) + u32(l["pid"]) + i64(l["startNanos"])
            + i64(l["refreshNanos"]) + string(l["user"]) + string(l["operation"]))


def key_replacement(r):
    return u8(1) + string(r["oldKey"]) + string(r["newKey"]) + i64(r["timeNanos"])


def forget_record(r):
    return u8(1) + i64(r["timeNanos"]) + varint(len(r["snapshots"])) + b"".join(ident(h) for h in r["snapshots"])


# --- format v2 (v2.md) -------------------------------------------------------------

def snapshot_catalogue(c):
    entries = sorted(c["entries"], key=lambda e: bytes.fromhex(e["id"]))
    assert len({e["id"] for e in entries}) == len(entries)
    out = u8(1) + varint(len(entries))
    for e in entries:
        out += ident(e["id"]) + data(snapshot(e["snapshot"]))
    return out


def forget_record_set(r):
    entries = sorted(r["entries"], key=lambda e: bytes.fromhex(e["id"]))
    assert len({e["id"] for e in entries}) == len(entries)
    return u8(1) + varint(len(entries)) + b"".join(ident(e["id"]) + i64(e["timeNanos"]) for e in entries)


def key_file_header(k):
    s = k["scrypt"]
    return (envelope_header("CRNK") + u8(1) + u8(s["logN"]) + u32(s["r"]) + u32(s["p"])
            + bytes.fromhex(k["saltHex"]) + i64(k["createdNanos"]) + string(k["host"]) + string(k["user"]))


def key_file(k): return key_file_header(k) + data(bytes.fromhex(k["sealedMasterKeyHex"]))


# --- the fixed objects -------------------------------------------------------------

def entries(pack_type, specs):
    out, offset = [], 0
    for t, label, length, raw in specs:
        out.append({"type": t, "id": sha(label), "offset": offset, "length": length, "rawLength": raw})
        offset += length
    return out, offset


def node(kind, name, **kw):
    n = {"kind": kind, "nameHex": name.hex(), "mode": 0o644, "uid": 0, "gid": 0, "user": "", "group": "",
         "mtimeNanos": 0, "ctimeNanos": 0, "inode": 0, "device": 0, "size": 0}
    n.update(kw)
    return n


def write(name, description, vectors, encode):
    for v in vectors:
        v["hex"] = encode(v["value"]).hex()
    with open(os.path.join(HERE, name), "w") as f:
        json.dump({"description": description, "vectors": vectors}, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    tree_vectors = [
        {"name": "empty", "value": {"nodes": []}},
        {"name": "mixed", "value": {"nodes": [
            node("file", b"README.md", uid=1000, gid=1000, user="alice", group="staff",
                 mtimeNanos=1700000000123456789, ctimeNanos=1700000001000000000, inode=1234567,
                 device=66306, size=5000, content={"level": 0, "ids": [sha("chunk a"), sha("chunk b")]}),
            node("directory", b"src", mode=0o755, uid=1000, gid=1000, user="alice", group="staff",
                 mtimeNanos=1700000000000000000, ctimeNanos=1700000000000000000, inode=99, device=66306,
                 subtree=sha("tree src")),
            node("symlink", b"latest", mode=0o777, linkTargetHex=b"../releases/2024-01".hex()),
            node("file", b"caf\xe9.txt", mode=0o4755, mtimeNanos=-1, ctimeNanos=-1000000000,
                 content={"level": 0, "ids": []}),
            node("file", b"big.bin", mode=0o600, uid=4294967295, gid=4294967294, inode=M64, device=1 << 63,
                 size=50_000_000_000, content={"level": 2, "ids": [sha("list 1")]}),
            node("file", "ärger 🗂".encode(), mode=0o640, size=1, content={"level": 0, "ids": [sha("chunk c")]}),
        ]}},
        {"name": "extended-attributes", "value": {"nodes": [
            node("file", b"labelled", mode=0o600, size=3, content={"level": 0, "ids": [sha("chunk d")]},
                 xattrs=[{"nameHex": b"user.note".hex(), "valueHex": b"\x00\xff binary".hex()},
                         {"nameHex": b"security.selinux".hex(), "valueHex": b"system_u:object_r:etc_t:s0\x00".hex()}]),
            node("directory", b"plain", mode=0o755, subtree=sha("tree plain")),
        ]}},
        {"name": "special-files", "value": {"nodes": [
            node("fifo", b"queue", mode=0o620, uid=999, gid=999, user="postgres", group="postgres",
                 mtimeNanos=1700000000000000001, ctimeNanos=1700000000000000002, inode=77, device=66306),
            node("socket", b"geth.ipc", mode=0o600, uid=1000, user="node", inode=78, device=66306),
            node("characterDevice", b"null", mode=0o666, deviceMajor=1, deviceMinor=3),
            node("blockDevice", b"sda1", mode=0o660, gid=6, group="disk", deviceMajor=8, deviceMinor=1),
            node("characterDevice", b"huge", mode=0o600, deviceMajor=4294967295, deviceMinor=1048576,
                 xattrs=[{"nameHex": b"user.x".hex(), "valueHex": ""}]),
            node("file", b"data", size=0, content={"level": 0, "ids": []}),
        ]}},
        # Version 4: a time outside i64 nanoseconds (touch -d 2300-01-01, touch -d 1600-01-01), with a FIFO
        # and an attribute (version 4 holds everything 2 and 3 do).
        {"name": "wide-times", "value": {"nodes": [
            node("file", b"future", mtimeSeconds=10413792000, mtimeNanoseconds=0, ctimeNanos=1700000000000000000,
                 content={"level": 0, "ids": []}),
            node("file", b"past", mtimeSeconds=-11676096000, mtimeNanoseconds=500000000,
                 ctimeSeconds=-11676096000, ctimeNanoseconds=999999999, content={"level": 0, "ids": []},
                 xattrs=[{"nameHex": b"user.a".hex(), "valueHex": ""}]),
            node("symlink", b"now", mode=0o777, mtimeNanos=-1500000000, linkTargetHex=b"future".hex()),
            node("fifo", b"pipe", mode=0o600, mtimeSeconds=-9223372037, mtimeNanoseconds=145224192, ctimeNanos=0),
        ]}},
    ]
    write("tree.json", "Tree (tree blob plaintext). Nodes are listed here in any order; the encoding sorts them by name "
          "bytes. nameHex, linkTargetHex and the xattrs' nameHex/valueHex are raw bytes in hex (names need not be UTF-8). "
          "A time is mtimeNanos (i64 nanoseconds) or mtimeSeconds + mtimeNanoseconds (the same for ctime). "
          "The version byte is the lowest that holds the tree: 4 when a time does not fit i64 nanoseconds, else 3 with a "
          "fifo, characterDevice, blockDevice or socket node, else 2 with an extended attribute, else 1.", tree_vectors, tree)

    snapshot_vectors = [
        {"name": "with-parent-and-extra", "value": {
            "timeNanos": 1700000000000000000, "name": "nightly", "host": "db1.example", "user": "root",
            "tags": ["daily", "pg"], "paths": ["/var/lib/postgresql", "-"], "sourceKind": "tree",
            "root": sha("root tree"), "parent": sha("parent snapshot"), "logicalBytes": 123456789012,
            "fileCount": 4242, "directoryCount": 17, "newBytes": 98765,
            # U+212B sorts before U+00C6 as a Swift String, after it as UTF-8 bytes.
            "extra": {"server_version": "16.2", "dump_seconds": "12.5", "\u212b": "angstrom sign", "\u00c6": "ae"},
            "programVersion": "cairn 0.1.0"}},
        {"name": "minimal", "value": {
            "timeNanos": -5, "name": "", "host": "h", "user": "", "tags": [], "paths": ["-"], "sourceKind": "stream",
            "root": sha("stream root"), "parent": None, "logicalBytes": 0, "fileCount": 0, "directoryCount": 0,
            "newBytes": 0, "extra": {}, "programVersion": ""}},
    ]
    write("snapshot.json", "Snapshot (plaintext of a snapshots/ object). extra is written sorted by UTF-8 key bytes.",
          snapshot_vectors, snapshot)

    catalogue_vectors = [
        {"name": "two-snapshots", "value": {"entries": [
            {"id": sha("snapshot two"), "snapshot": snapshot_vectors[1]["value"]},
            {"id": sha("snapshot one"), "snapshot": snapshot_vectors[0]["value"]}]}},
        {"name": "empty", "value": {"entries": []}},
    ]
    write("v2-snapshot-catalogue.json", "Format v2: SnapshotCatalogue (plaintext of a snapshots/ object of envelope "
          "version 2, v2.md). Entries are written in increasing order of id; each entry's plaintext is a Snapshot "
          "(v1.md §13) given here by its fields, as in snapshot.json.", catalogue_vectors, snapshot_catalogue)

    forget_set_vectors = [
        {"name": "three-ids", "value": {"entries": [
            {"id": sha("snapshot two"), "timeNanos": 1700000000000000000},
            {"id": sha("snapshot one"), "timeNanos": -1},
            {"id": sha("snapshot three"), "timeNanos": 1700000060000000000}]}},
        {"name": "empty", "value": {"entries": []}},
    ]
    write("v2-forget-record-set.json", "Format v2: ForgetRecordSet (plaintext of a forgotten/ object of envelope "
          "version 2, a merged forget record, v2.md). Entries in increasing order of id.", forget_set_vectors,
          forget_record_set)

    data_entries, data_len = entries("data", [("data", "chunk a", 4124, 4096), ("data", "chunk b", 70, 5000),
                                              ("data", "chunk c", 300, 300)])
    meta_entries, meta_len = entries("metadata", [("tree", "tree src", 861, 1200), ("list", "list 1", 160, 132)])
    pack_vectors = [
        {"name": "data", "dataLength": data_len, "value": {"type": "data", "entries": data_entries}},
        {"name": "metadata", "dataLength": meta_len, "value": {"type": "metadata", "entries": meta_entries}},
        {"name": "empty", "dataLength": 0, "value": {"type": "data", "entries": []}},
    ]
    write("pack-header.json", "PackHeader (plaintext of a pack's sealed header). dataLength is the byte length of the "
          "pack before the sealed header, which the decoder checks the entries cover exactly.", pack_vectors, pack_header)

    index_vectors = [
        {"name": "two-packs", "value": {"supersedes": [sha("old index 1"), sha("old index 2")], "packs": [
            {"id": sha("data pack"), "type": "data", "size": data_len + 200, "entries": data_entries},
            {"id": sha("metadata pack"), "type": "metadata", "size": meta_len + 150, "entries": meta_entries},
        ]}},
        {"name": "empty", "value": {"supersedes": [], "packs": []}},
    ]
    write("index-delta.json", "IndexDelta (plaintext of an index/ object).", index_vectors, index_delta)

    profiles = [
        {"name": "dump", "minimumSize": 4096, "averageSize": 16384, "maximumSize": 65536, "normalization": 1},
        {"name": "rdb", "minimumSize": 4096, "averageSize": 16384, "maximumSize": 65536, "normalization": 1},
        {"name": "wal", "minimumSize": 16384, "averageSize": 65536, "maximumSize": 262144, "normalization": 1},
        {"name": "file", "minimumSize": 16384, "averageSize": 65536, "maximumSize": 262144, "normalization": 1},
    ]
    config_vectors = [
        {"name": "defaults", "value": {"repositoryIDHex": bytes(range(32)).hex(), "createdNanos": 1700000000000000000,
                                       "packSize": 16 << 20, "compressionLevel": 3, "profiles": profiles}},
        {"name": "custom", "value": {"repositoryIDHex": bytes(range(0xE0, 0x100)).hex(), "createdNanos": -1,
                                     "packSize": 65536, "compressionLevel": -5, "profiles": [
                                         {"name": "odd", "minimumSize": 1001, "averageSize": 3000,
                                          "maximumSize": 9999, "normalization": 2}]}},
        {"name": "shared-chunker-seed", "value": {"repositoryIDHex": bytes(range(0x40, 0x60)).hex(),
                                                  "createdNanos": 1700000000000000001, "packSize": 16 << 20,
                                                  "compressionLevel": 3, "profiles": profiles,
                                                  "chunkerSeedHex": "f1e2d3c4b5a69788"}},
        {"name": "object-lock", "value": {"repositoryIDHex": bytes(range(0x60, 0x80)).hex(),
                                          "createdNanos": 1700000000000000002, "packSize": 16 << 20,
                                          "compressionLevel": 2, "profiles": profiles,
                                          "objectLock": {"mode": "compliance", "days": 400}}},
        {"name": "object-lock-shared-chunker-seed", "value": {"repositoryIDHex": bytes(range(0x80, 0xA0)).hex(),
                                                              "createdNanos": 1700000000000000003, "packSize": 16 << 20,
                                                              "compressionLevel": 2, "profiles": profiles,
                                                              "chunkerSeedHex": "0102030405060708",
                                                              "objectLock": {"mode": "governance", "days": 30}}},
    ]
    write("repository-config.json", "RepositoryConfig (plaintext of the config object).", config_vectors,
          repository_config)

    content_vectors = [
        {"name": "level-1", "value": {"level": 1, "ids": [sha("list a"), sha("list b"), sha("list c")]}},
        {"name": "level-0-empty", "value": {"level": 0, "ids": []}},
    ]
    write("content-ref.json", "ContentRef as the whole plaintext of a list blob (and as embedded in a file node).",
          content_vectors, content_ref)

    key_vectors = [
        {"name": "layout", "value": {"scrypt": {"logN": 15, "r": 8, "p": 1}, "saltHex": bytes(range(0xA0, 0xC0)).hex(),
                                     "createdNanos": 1700000000000000000, "host": "db1.example", "user": "root",
                                     "sealedMasterKeyHex": bytes(range(60)).hex()}},
    ]
    for v in key_vectors:
        v["headerHex"] = key_file_header(v["value"]).hex()
    write("key-file-layout.json", "KeyFile layout only: sealedMasterKeyHex is 60 placeholder bytes, not a real wrap "
          "(see crypto.json for that). headerHex is the AEAD associated data.", key_vectors, key_file)

    lock_vectors = [
        {"name": "exclusive-prune", "value": {"exclusive": True, "host": "db1.example", "pid": 4242,
                                              "startNanos": 1700000000000000000, "refreshNanos": 1700000300000000000,
                                              "user": "root", "operation": "prune"}},
        {"name": "shared-backup", "value": {"exclusive": False, "host": "höst", "pid": 4294967295,
                                            "startNanos": -1, "refreshNanos": 0, "user": "", "operation": "backup"}},
    ]
    write("lock.json", "LockRecord (plaintext of a locks/ object).", lock_vectors, lock_record)

    replacement_vectors = [
        {"name": "passwd", "value": {"oldKey": sha("old key"), "newKey": sha("new key"), "timeNanos": 1700000000000000000}},
        {"name": "renamed-old-key", "value": {"oldKey": "kéy", "newKey": sha("new key"), "timeNanos": -1}},
    ]
    forget_vectors = [
        {"name": "two-snapshots", "value": {"timeNanos": 1700000000000000000,
                                            "snapshots": [sha("snapshot one"), sha("snapshot two")]}},
        {"name": "empty", "value": {"timeNanos": -1, "snapshots": []}},
    ]
    write("forget-record.json", "ForgetRecord (plaintext of a forgotten/ object, sealed in a CRNF envelope).",
          forget_vectors, forget_record)

    write("key-replacement.json", "KeyReplacement (plaintext of a keys/replace-... record, sealed in a CRNR envelope).",
          replacement_vectors, key_replacement)

    env = {"description": "ObjectEnvelope headers: magic, then u16le format version 1; headersV2: the objects of "
                          "envelope version 2 (v2.md: the config of a format-2 repository, a snapshot catalogue, a merged "
                          "forget record).",
           "headers": {k: envelope_header(m).hex() for k, m in
                       [("config", "CRNC"), ("index", "CRNI"), ("snapshot", "CRNS"), ("key", "CRNK"),
                        ("lock", "CRNL"), ("key-replacement", "CRNR"),
                        ("forget-record", "CRNF")]},
           "headersV2": {k: (m.encode() + u16(2)).hex() for k, m in
                         [("config", "CRNC"), ("snapshot-catalogue", "CRNS"), ("forget-record-set", "CRNF")]}}
    with open(os.path.join(HERE, "object-envelope.json"), "w") as f:
        json.dump(env, f, indent=1)
        f.write("\n")

    write_fastcdc()


def splitmix64_bytes(seed, n):
    state, out = seed, bytearray()
    while len(out) < n:
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        out += struct.pack("<Q", z ^ (z >> 31))
    return bytes(out[:n])


def write_fastcdc():
    from pyfastcdc import FastCDC
    vectors = []
    for avg, mn, mx, nc, seed in [(1024, 256, 4096, 1, 0), (1024, 256, 4096, 2, 0x0123456789ABCDEF),
                                  (4096, 1024, 16384, 1, 0x1122334455667788)]:
        buf = splitmix64_bytes(1, 65536)
        cuts = [c.length for c in FastCDC(avg, min_size=mn, max_size=mx, normalized_chunking=nc,
                                          seed=seed).cut_buf(buf)]
        vectors.append({"input": {"generator": "splitmix64", "seed": "0x%016x" % 1, "size": len(buf),
                                  "prefixHex": buf[:16].hex()},
                        "parameters": {"minimumSize": mn, "averageSize": avg, "maximumSize": mx,
                                       "normalization": nc, "seed": "0x%016x" % seed},
                        "cuts": cuts})
    with open(os.path.join(HERE, "fastcdc.json"), "w") as f:
        json.dump({"description": "FastCDC cut lengths of a SplitMix64 input (v1.md, Chunking).",
                   "vectors": vectors}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
