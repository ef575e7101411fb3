#!/usr/bin/env python3
"""Chunk-size study for Cairn's FastCDC profiles (see Docs/chunking.md).

Needs: Python 3.9+, `pip install pyfastcdc zstandard`, PostgreSQL 15 server binaries
(Debian: /usr/lib/postgresql/15/bin, override with --pg-bin), redis-server and redis-cli,
~4 GB free under --work at the peak (big inputs are deleted at the end). Run as root (the
cluster then runs as the `postgres` user via runuser) or as an ordinary user (it runs as that user).

    python3 Benchmarks/chunk-sizes/study.py --out /tmp/x            # full run, ~3.5 min on 2 cores
    python3 Benchmarks/chunk-sizes/study.py --out /tmp/x --scale 0.1 # quick smoke run
    python3 Benchmarks/chunk-sizes/study.py --out /tmp/x --phases analyze --keep  # re-analyse kept inputs

It generates the inputs under --work (default /tmp/chunkstudy): a throwaway PostgreSQL cluster
and Redis server on free loopback ports (both stopped afterwards), daily dumps / RDB files,
archived WAL segments and two versions of a directory of ordinary files; then chunks every input
at each average size and writes results.json and results.md to --out. Big inputs are deleted at
the end unless --keep is given. Everything is seeded: the PostgreSQL numbers repeat exactly;
Redis hashes keys with a random per-process seed, so RDB key order and its numbers move by a few
tenths of a percent between runs; the file tree is read from the live system.
"""
import argparse
import bisect
import hashlib
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import time

from pyfastcdc import FastCDC
import zstandard

KiB = 1024
MiB = 1024 * KiB
AVG_SIZES = [4 * KiB, 8 * KiB, 16 * KiB, 32 * KiB, 64 * KiB, 256 * KiB, 1 * MiB]
INDEX_BYTES_PER_CHUNK = 100   # index entry (assumption from the brief)
AEAD_BYTES_PER_CHUNK = 28     # nonce + tag per stored blob
ID_BYTES_PER_REF = 32         # one chunk id in a ContentRef list, per reference, per snapshot
SUB_AVG = 1 * KiB             # sub-chunk size used to find delta bases

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar "
         "papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu order invoice payment "
         "shipment customer account balance refund pending shipped delivered cancelled warehouse berlin "
         "paris tokyo london madrid oslo lisbon vienna prague dublin red green blue black white small "
         "large medium premium basic standard express priority return exchange warranty coupon gift "
         "card loyalty member guest admin session token login logout error warning notice debug info "
         "request response timeout retry cache miss hit backend frontend worker queue job task report "
         "daily weekly monthly the a of and to in for with on at by from is was be are this that").split()


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    kw.setdefault("check", True)
    return subprocess.run(cmd, **kw)


# --------------------------------------------------------------------------------------------
# PostgreSQL: database, daily dumps, WAL segments
# --------------------------------------------------------------------------------------------

class Postgres:
    def __init__(self, work, pg_bin, scale):
        self.work = work
        self.bin = pg_bin
        self.scale = scale
        self.data = os.path.join(work, "pg", "data")
        self.sock = os.path.join(work, "pg", "sock")
        self.arch = os.path.join(work, "pg", "walarchive")
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _own(self, path):
        os.makedirs(path, exist_ok=True)
        if self.as_user:
            shutil.chown(path, "postgres", "postgres")

    def start(self):
        for p in (os.path.join(self.work, "pg"), self.sock, self.arch):
            self._own(p)
        run(self.as_user + [f"{self.bin}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                            "--no-sync", "-E", "UTF8", "--locale=C"], stdout=subprocess.DEVNULL)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"""
port = {self.port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{self.sock}'
wal_level = replica
archive_mode = on
archive_command = 'test ! -f {self.arch}/%f && cp %p {self.arch}/%f'
max_wal_size = 1GB
fsync = off
synchronous_commit = off
shared_buffers = 256MB
maintenance_work_mem = 256MB
autovacuum = off
""")
        run(self.as_user + [f"{self.bin}/pg_ctl", "-D", self.data, "-l",
                            os.path.join(self.work, "pg", "server.log"), "-w", "start"],
            stdout=subprocess.DEVNULL)
        log(f"postgres started on 127.0.0.1:{self.port}, socket {self.sock}")

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            run(self.as_user + [f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"],
                check=False, stdout=subprocess.DEVNULL)
            log("postgres stopped")

    def conn(self, db="cairnstudy"):
        return ["-h", self.sock, "-p", str(self.port), "-U", "postgres", "-d", db]

    def sql(self, text, db="cairnstudy"):
        r = run([f"{self.bin}/psql", *self.conn(db), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
                input=text, text=True, capture_output=True, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}")
        return r.stdout.strip()

    def dump(self, path, compressed=False, db="cairnstudy"):
        args = [f"{self.bin}/pg_dump", *self.conn(db), "-Fc", "-f", path]
        if not compressed:
            args.insert(-2, "-Z0")
        run(args)
        return os.path.getsize(path)

    def populate(self):
        s = self.scale
        nc, no, ne = int(110_000 * s), int(340_000 * s), int(225_000 * s)
        words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
        self.sql("CREATE DATABASE cairnstudy", db="postgres")
        self.sql(f"""
SELECT setseed(0.42);
CREATE FUNCTION words(n int) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT string_agg(({words})[1 + floor(random() * {len(WORDS)})::int], ' ') FROM generate_series(1, n) $$;
CREATE FUNCTION item() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
  SELECT jsonb_build_object('sku', 'SKU-' || lpad((floor(random()*99999))::int::text, 5, '0'),
                            'qty', 1 + floor(random()*5)::int,
                            'price', round((random()*200)::numeric, 2)) $$;
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text, created_at timestamptz,
                        balance numeric(12,2), tier smallint, prefs jsonb);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, placed_at timestamptz NOT NULL,
                     amount numeric(10,2), status text, items jsonb, note text);
CREATE TABLE events (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, kind smallint, host text,
                     message text, payload jsonb);
INSERT INTO customers (name, email, created_at, balance, tier, prefs)
  SELECT initcap(words(2)), 'user' || i || '@example.' || (ARRAY['com','org','net'])[1 + i % 3],
         timestamptz '2021-01-01' + random() * interval '1000 days', round((random()*10000)::numeric, 2),
         floor(random()*4)::smallint,
         jsonb_build_object('lang', (ARRAY['en','de','fr','ja'])[1 + i % 4], 'newsletter', random() < 0.5,
                            'score', floor(random()*100)::int, 'city', words(1))
  FROM generate_series(1, {nc}) i;
INSERT INTO orders (customer_id, placed_at, amount, status, items, note)
  SELECT 1 + floor(random() * {nc})::int, timestamptz '2022-01-01' + random() * interval '700 days',
         round((random()*500)::numeric, 2),
         (ARRAY['pending','paid','shipped','delivered','cancelled'])[1 + floor(random()*5)::int],
         CASE WHEN random() < 0.5 THEN jsonb_build_array(item()) ELSE jsonb_build_array(item(), item(), item()) END,
         CASE WHEN random() < 0.3 THEN words(5 + floor(random()*10)::int) END
  FROM generate_series(1, {no}) i;
INSERT INTO events (ts, kind, host, message, payload)
  SELECT timestamptz '2023-06-01' + i * interval '20 seconds', floor(random()*8)::smallint,
         'web-' || lpad(floor(random()*40)::int::text, 2, '0'), words(4 + floor(random()*8)::int),
         CASE WHEN random() < 0.4 THEN jsonb_build_object('latency_ms', floor(random()*900)::int,
                                                          'status', (ARRAY[200,200,200,404,500])[1 + floor(random()*5)::int]) END
  FROM generate_series(1, {ne}) i;
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX events_ts ON events (ts);
VACUUM ANALYZE;
""")
        size = self.sql("SELECT pg_database_size('cairnstudy')")
        log(f"database populated: {int(size) / MiB:.1f} MiB")
        return int(size)

    def mutate(self, day, db="cairnstudy", skew=False):
        """One simulated day: update 1-3 % of rows, insert ~1 %, delete ~0.5 %, vacuum, checkpoint.

        Uniform: updated and deleted rows are drawn uniformly from each table. Skewed: 90 % of the
        updates hit the newest 10 % of rows (recent orders change status, recent customers log in)
        and orders are deleted oldest first (retention), the rest as in the uniform model."""
        def pick(table, p):
            if not skew:
                return f"random() < {p}"
            return (f"((id > (SELECT max(id) FROM {table}) * 0.9 AND random() < {p * 9}) OR random() < {p * 0.1})")
        order_delete = ("id IN (SELECT id FROM orders ORDER BY id LIMIT (SELECT count(*) / 200 FROM orders))"
                        if skew else "random() < 0.005")
        self.sql(f"""
SELECT setseed({(day % 97) / 100});
UPDATE customers SET balance = round((random()*10000)::numeric, 2),
                     prefs = prefs || jsonb_build_object('last_login', timestamptz '2024-01-01' + {day} * interval '1 day' + random() * interval '1 day')
  WHERE {pick('customers', 0.03)};
UPDATE orders SET status = (ARRAY['paid','shipped','delivered','cancelled'])[1 + floor(random()*4)::int],
                  note = CASE WHEN random() < 0.3 THEN words(5 + floor(random()*10)::int) ELSE note END
  WHERE {pick('orders', 0.02)};
UPDATE events SET payload = coalesce(payload, '{{}}'::jsonb) || jsonb_build_object('acked', true) WHERE {pick('events', 0.01)};
INSERT INTO customers (name, email, created_at, balance, tier, prefs)
  SELECT initcap(words(2)), 'new' || {day} || '-' || i || '@example.com', timestamptz '2024-01-01' + {day} * interval '1 day',
         0, 0, jsonb_build_object('lang', 'en', 'newsletter', random() < 0.5, 'score', 0, 'city', words(1))
  FROM generate_series(1, (SELECT count(*) / 100 FROM customers)) i;
INSERT INTO orders (customer_id, placed_at, amount, status, items, note)
  SELECT 1 + floor(random() * (SELECT max(id) FROM customers))::int,
         timestamptz '2024-01-01' + {day} * interval '1 day' + random() * interval '1 day',
         round((random()*500)::numeric, 2), 'pending', jsonb_build_array(item(), item()),
         CASE WHEN random() < 0.3 THEN words(8) END
  FROM generate_series(1, (SELECT count(*) / 100 FROM orders)) i;
INSERT INTO events (ts, kind, host, message, payload)
  SELECT (SELECT max(ts) FROM events) + i * interval '20 seconds', floor(random()*8)::smallint,
         'web-' || lpad(floor(random()*40)::int::text, 2, '0'), words(4 + floor(random()*8)::int), NULL
  FROM generate_series(1, (SELECT count(*) / 100 FROM events)) i;
DELETE FROM customers WHERE random() < 0.005;
DELETE FROM orders WHERE {order_delete};
DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT (SELECT count(*) / 200 FROM events));
VACUUM ANALYZE;
CHECKPOINT;
""", db=db)

    def wal_position(self):
        return self.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")

    def flush_wal_archive(self, upto_name, timeout=120):
        self.sql("SELECT pg_switch_wal()")
        self.sql("CHECKPOINT")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(os.path.join(self.arch, upto_name)):
                return True
            time.sleep(0.5)
        return False


def generate_pg(args, manifest):
    shutil.rmtree(os.path.join(args.work, "pg"), ignore_errors=True)   # leftovers of a killed run
    pg = Postgres(args.work, args.pg_bin, args.scale)
    out = os.path.join(args.work, "inputs", "pg")
    os.makedirs(out, exist_ok=True)
    os.chmod(out, 0o777)
    try:
        pg.start()
        t0 = time.time()
        manifest["pg_database_bytes_day0"] = pg.populate()
        manifest["pg_populate_seconds"] = round(time.time() - t0, 1)
        pg.sql("CREATE DATABASE cairnstudy_skew TEMPLATE cairnstudy", db="postgres")
        days, sdays, zdays, wal_ranges = [], [], [], []
        for day in range(args.days):
            if day > 0:
                start = pg.wal_position()
                pg.mutate(day)
                wal_ranges.append((start, pg.wal_position()))
                pg.mutate(day, db="cairnstudy_skew", skew=True)
            p = os.path.join(out, f"day{day}.dump")
            size = pg.dump(p)
            days.append(p)
            sp = os.path.join(out, f"day{day}.skew.dump")
            pg.dump(sp, db="cairnstudy_skew")
            sdays.append(sp)
            log(f"pg day {day}: -Z0 dump {size / MiB:.1f} MiB (skewed-update database: {os.path.getsize(sp) / MiB:.1f} MiB)")
            if day < 2:
                zp = os.path.join(out, f"day{day}.zlib.dump")
                pg.dump(zp, compressed=True)
                zdays.append(zp)
                log(f"pg day {day}: default -Fc dump {os.path.getsize(zp) / MiB:.1f} MiB")
        manifest["pg_database_bytes_last"] = int(pg.sql("SELECT pg_database_size('cairnstudy')"))
        manifest["pg"] = days
        manifest["pg_skew"] = sdays
        manifest["pg_zlib"] = zdays
        # WAL: consecutive full segments written by the (uniform) daily mutations; more mutation
        # days are run, without dumps, until there are enough of them.
        first = wal_ranges[0][0] if wal_ranges else pg.wal_position()
        extra = 0
        while int(pg.wal_position(), 16) - int(first, 16) < args.wal_segments + 1 and extra < 20:
            extra += 1
            pg.mutate(100 + extra)
        last = pg.wal_position()
        manifest["wal_extra_days"] = extra
        pg.flush_wal_archive(last)
        segs = sorted(f for f in os.listdir(pg.arch) if len(f) == 24 and first < f < last)
        segs = segs[: args.wal_segments]
        wal_dir = os.path.join(args.work, "inputs", "wal")
        os.makedirs(wal_dir, exist_ok=True)
        manifest["wal"] = []
        for s in segs:
            dst = os.path.join(wal_dir, s)
            shutil.copyfile(os.path.join(pg.arch, s), dst)
            manifest["wal"].append(dst)
        log(f"wal: {len(segs)} consecutive segments ({first}..{last}, {extra} extra mutation days)")
    finally:
        pg.stop()
        shutil.rmtree(os.path.join(args.work, "pg"), ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Redis: mixed keyspace, ~2 % churn per day
# --------------------------------------------------------------------------------------------

def resp(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        if not isinstance(p, bytes):
            p = str(p).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


class RedisGen:
    KINDS = ["string", "counter", "hash", "bighash", "set", "zset", "list"]
    WEIGHTS = [35, 10, 25, 1, 10, 10, 9]

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.keys = []          # (name, kind)
        self.next_id = 0

    def words(self, n):
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def value_cmds(self, name, kind):
        r = self.rng
        if kind == "string":
            v = json.dumps({"user": r.randrange(10**6), "cart": [r.randrange(10**5) for _ in range(r.randrange(1, 8))],
                            "note": self.words(r.randrange(5, 60)), "ts": 1700000000 + r.randrange(10**7)})
            return [resp("SET", name, v)]
        if kind == "counter":
            return [resp("SET", name, r.randrange(10**9))]
        if kind == "hash":
            fields = []
            for f in ("name", "email", "city", "plan", "bio"):
                fields += [f, self.words(r.randrange(1, 12))]
            fields += ["age", r.randrange(18, 90), "visits", r.randrange(10**5)]
            return [resp("HSET", name, *fields)]
        if kind == "bighash":  # > 128 fields: stored as a real hash table, fields in hash order
            fields = []
            for i in range(r.randrange(150, 400)):
                fields += [f"sku:{r.randrange(10**6)}", f"{r.randrange(1, 99)}|{r.random()*200:.2f}|{self.words(3)}"]
            return [resp("HSET", name, *fields)]
        if kind == "set":
            return [resp("SADD", name, *[f"tag:{self.rng.choice(WORDS)}:{r.randrange(5000)}" for _ in range(r.randrange(3, 60))])]
        if kind == "zset":
            args = []
            for _ in range(r.randrange(5, 80)):
                args += [r.randrange(10**6), f"player:{r.randrange(10**7)}"]
            return [resp("ZADD", name, *args)]
        if kind == "list":
            return [resp("RPUSH", name, *[self.words(r.randrange(3, 20)) for _ in range(r.randrange(5, 40))])]
        raise ValueError(kind)

    def new_key(self):
        kind = self.rng.choices(self.KINDS, self.WEIGHTS)[0]
        name = f"{kind}:{self.next_id:09d}"
        self.next_id += 1
        self.keys.append((name, kind))
        return self.value_cmds(name, kind)

    def update_cmds(self, name, kind):
        r = self.rng
        if kind in ("string", "counter"):
            return self.value_cmds(name, kind)
        if kind == "hash":
            return [resp("HSET", name, "visits", r.randrange(10**5), "city", self.words(1))]
        if kind == "bighash":
            return [resp("HSET", name, f"sku:{r.randrange(10**6)}", f"{r.randrange(1, 99)}|{r.random()*200:.2f}|{self.words(3)}")]
        if kind == "set":
            return [resp("SADD", name, f"tag:{self.rng.choice(WORDS)}:{r.randrange(5000)}")]
        if kind == "zset":
            return [resp("ZADD", name, r.randrange(10**6), f"player:{r.randrange(10**7)}")]
        if kind == "list":
            return [resp("RPUSH", name, self.words(8)), resp("LPOP", name)]
        raise ValueError(kind)

    def day_cmds(self, churn):
        n = len(self.keys)
        n_upd, n_ins, n_del = int(n * churn / 2), int(n * churn / 4), int(n * churn / 4)
        cmds = []
        for name, kind in self.rng.sample(self.keys, n_upd):
            cmds += self.update_cmds(name, kind)
        doomed = set(self.rng.sample(range(n), n_del))
        for i in sorted(doomed):
            cmds.append(resp("DEL", self.keys[i][0]))
        self.keys = [k for i, k in enumerate(self.keys) if i not in doomed]
        for _ in range(n_ins):
            cmds += self.new_key()
        return cmds


def generate_redis(args, manifest):
    d = os.path.join(args.work, "redis")
    shutil.rmtree(d, ignore_errors=True)
    out = os.path.join(args.work, "inputs", "rdb")
    os.makedirs(d, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    port = free_port()
    cli = ["redis-cli", "-h", "127.0.0.1", "-p", str(port)]
    run(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--dbfilename", "dump.rdb",
         "--save", "", "--appendonly", "no", "--daemonize", "yes", "--pidfile", os.path.join(d, "redis.pid"),
         "--logfile", os.path.join(d, "redis.log")])
    for _ in range(100):
        if run(cli + ["ping"], capture_output=True, check=False).stdout.strip() == b"PONG":
            break
        time.sleep(0.1)
    log(f"redis started on 127.0.0.1:{port}")

    def pipe(cmds):
        r = run(cli + ["--pipe"], input=b"".join(cmds), capture_output=True)
        if b"errors: 0" not in r.stdout:
            raise RuntimeError(r.stdout.decode())

    def save(day):
        paths = {}
        for variant, comp in (("lzf", "yes"), ("raw", "no")):
            run(cli + ["config", "set", "rdbcompression", comp], capture_output=True)
            run(cli + ["save"], capture_output=True)
            p = os.path.join(out, f"day{day}.{variant}.rdb")
            shutil.copyfile(os.path.join(d, "dump.rdb"), p)
            paths[variant] = p
        return paths

    try:
        gen = RedisGen(seed=7)
        n_keys = int(args.scale * 200_000)
        batch = []
        for _ in range(n_keys):
            batch += gen.new_key()
            if len(batch) > 20000:
                pipe(batch)
                batch = []
        if batch:
            pipe(batch)
        used = run(cli + ["info", "memory"], capture_output=True, text=True).stdout
        used = [l for l in used.splitlines() if l.startswith("used_memory_human")]
        log(f"redis filled: {n_keys} keys, {used}")
        lzf, raw = [], []
        for day in range(args.days):
            if day > 0:
                pipe(gen.day_cmds(0.02))
            p = save(day)
            lzf.append(p["lzf"])
            raw.append(p["raw"])
            log(f"redis day {day}: rdb {os.path.getsize(p['lzf']) / MiB:.1f} MiB "
                f"(rdbcompression no: {os.path.getsize(p['raw']) / MiB:.1f} MiB), {len(gen.keys)} keys")
        manifest["rdb"] = lzf
        manifest["rdb_nolzf"] = raw
    finally:
        run(cli + ["shutdown", "nosave"], check=False, capture_output=True)
        log("redis stopped")
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Ordinary files: two versions of a mixed tree, a few files modified in between
# --------------------------------------------------------------------------------------------

def read_tree(roots):
    files = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                p = os.path.join(dirpath, fn)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                try:
                    with open(p, "rb") as f:
                        files[p] = f.read()
                except OSError:
                    pass
    return files


def modify_tree(files, seed):
    """Day-2 version: a handful of edits, appends, binary patches, new and deleted files."""
    rng = random.Random(seed)
    new = dict(files)
    names = sorted(files)
    text = [n for n in names if n.endswith((".py", ".txt", ".md", ".html", ".rst")) and len(files[n]) > 20_000]
    big = sorted(names, key=lambda n: -len(files[n]))[:20]
    changes = []
    for n in rng.sample(text, min(8, len(text))):           # edit in the middle
        b = files[n]
        at = rng.randrange(len(b))
        new[n] = b[:at] + ("\n# edited: " + " ".join(rng.choice(WORDS) for _ in range(12)) + "\n").encode() + b[at:]
        changes.append(("edit", n))
    for n in rng.sample(text, min(4, len(text))):           # append
        new[n] = new[n] + (" ".join(rng.choice(WORDS) for _ in range(400))).encode()
        changes.append(("append", n))
    for n in rng.sample(big, 2):                            # binary patch of a few bytes
        b = bytearray(new[n])
        for _ in range(3):
            at = rng.randrange(len(b) - 64)
            b[at:at + 64] = bytes(rng.randrange(256) for _ in range(64))
        new[n] = bytes(b)
        changes.append(("patch", n))
    for i in range(3):                                      # new files
        n = f"/new/file{i}.txt"
        new[n] = (" ".join(rng.choice(WORDS) for _ in range(rng.randrange(2_000, 20_000)))).encode()
        changes.append(("new", n))
    for n in rng.sample(names, 2):                          # deleted
        new.pop(n, None)
        changes.append(("delete", n))
    return new, changes


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------

def cut(data, avg):
    return FastCDC(avg, min_size=avg // 4, max_size=avg * 4, normalized_chunking=1).cut_buf(data)


def chunk_streams(streams, avg):
    """[(digest, offset, length, stream_index)] for every chunk of every stream."""
    out = []
    for si, data in enumerate(streams):
        mv = memoryview(data)
        for c in cut(data, avg):
            out.append((hashlib.sha256(mv[c.offset:c.offset + c.length]).digest(), c.offset, c.length, si))
    return out


def sub_digests(data):
    """Content-defined ~1 KiB sub-chunks of a stream: [(offset, digest, length)], sorted by offset."""
    mv = memoryview(data)
    return [(c.offset, hashlib.blake2b(mv[c.offset:c.offset + c.length], digest_size=12).digest(), c.length)
            for c in cut(data, SUB_AVG)]


def subs_within(subs, off, ln):
    lo = bisect.bisect_left(subs, (off,))
    out = []
    for j in range(lo, len(subs)):
        so, h, sl = subs[j]
        if so + sl > off + ln:
            break
        out.append((h, sl))
    return out


def delta_size(base, data):
    """zstd level 3 of `data` with `base` as a raw-content dictionary. Window and match tables are
    sized for base + data: with level 3's own tables (hashLog 17) a dictionary of a few MiB is mostly
    invisible and 1 MiB-average deltas come out ~10x larger than they need to be."""
    d = zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    bits = (len(base) + len(data)).bit_length()
    tables = min(25, max(17, bits))
    p = zstandard.ZstdCompressionParameters.from_level(3, source_size=len(data), dict_size=len(base),
                                                       window_log=max(17, bits), hash_log=tables, chain_log=tables)
    return len(zstandard.ZstdCompressor(compression_params=p, dict_data=d).compress(data))


def analyze_series(name, days, avg_sizes, delta=False, label=None):
    """days: list of lists of byte strings (one list of streams per day).

    Store model: a chunk is stored once (content-addressed); each new chunk is compressed on its
    own with zstd level 3. With `delta`, a new chunk may instead be stored as a zstd delta against
    the most similar chunk that is stored whole (found by voting with ~1 KiB sub-chunk digests;
    the freshest whole chunk wins ties of digest ownership); it is stored whole (and becomes a
    base candidate) when the delta is not smaller. Day 0 is stored whole.
    """
    cctx = zstandard.ZstdCompressor(level=3)
    res = {"series": name, "label": label or name, "days": len(days),
           "day_bytes": [sum(len(s) for s in d) for d in days], "by_avg": {},
           # reference: the first input compressed as one stream (what per-chunk compression gives up)
           "day0_whole_zstd": len(cctx.compress(b"".join(days[0])))}
    subs = None
    if delta:
        t0 = time.time()
        subs = [[sub_digests(s) for s in streams] for streams in days]
        log(f"  {name}: sub-chunk digests in {time.time() - t0:.1f}s")
    for avg in avg_sizes:
        t0 = time.time()
        store = set()
        prev_set = None
        pool = {}             # sub digest -> (day, stream, offset, length) of a chunk stored whole
        rows = []
        for di, streams in enumerate(days):
            chunks = chunk_streams(streams, avg)
            total = sum(c[2] for c in chunks)
            cur_set = {c[0] for c in chunks}
            row = {"day": di, "bytes": total, "chunks": len(chunks), "unique_chunks": len(cur_set)}
            if prev_set is not None:
                row["reuse_prev"] = sum(c[2] for c in chunks if c[0] in prev_set) / total if total else 0
            # id lists rewritten this day: every stream (its chunk-id list) whose content changed
            changed = set()
            new_raw = new_z = new_n = new_delta = n_delta = 0
            seen = set()
            whole = []
            for c in chunks:
                if prev_set is None or c[0] not in prev_set:
                    changed.add(c[3])
                if c[0] in store or c[0] in seen:
                    continue
                seen.add(c[0])
                _, off, ln, si = c
                data = streams[si][off:off + ln]
                z = len(cctx.compress(data))
                new_raw += ln
                new_z += z
                new_n += 1
                if delta:
                    best = None
                    if di > 0 and pool:
                        votes = {}
                        for h, sl in subs_within(subs[di][si], off, ln):
                            k = pool.get(h)
                            if k is not None:
                                votes[k] = votes.get(k, 0) + sl
                        if votes:
                            bd, bs, bo, bl = max(votes, key=votes.get)
                            dz = delta_size(days[bd][bs][bo:bo + bl], data)
                            if dz < z:
                                best = dz
                    if best is None:
                        new_delta += z
                        whole.append((si, off, ln))
                    else:
                        new_delta += best
                        n_delta += 1
            if delta:
                for si, off, ln in whole:
                    for h, _ in subs_within(subs[di][si], off, ln):
                        pool[h] = (di, si, off, ln)
                row["new_bytes_delta"] = new_delta
                row["delta_chunks"] = n_delta
            row.update(new_bytes_raw=new_raw, new_bytes_zstd=new_z, new_chunks=new_n,
                       idlist_refs=sum(1 for c in chunks if c[3] in changed))
            store |= seen
            rows.append(row)
            prev_set = cur_set
        res["by_avg"][avg] = {"rows": rows, "seconds": round(time.time() - t0, 1)}
        log(f"  {name} avg {avg // KiB} KiB ({time.time() - t0:.0f}s): " + ", ".join(
            f"d{r['day']} reuse {r.get('reuse_prev', float('nan')) * 100:.1f}% new {r['new_bytes_zstd'] / MiB:.1f}MiB"
            + (f" delta {r['new_bytes_delta'] / MiB:.1f}MiB" if 'new_bytes_delta' in r else "")
            for r in rows))
    return res


def summarize(res):
    """Per avg size: mean over days 1.. of reuse, new zstd bytes, overheads."""
    out = []
    for avg, v in res["by_avg"].items():
        rows = v["rows"]
        later = rows[1:]
        tot_bytes = sum(r["bytes"] for r in rows)
        tot_chunks = sum(r["chunks"] for r in rows)
        per_gb = tot_chunks / tot_bytes * (1 << 30) if tot_bytes else 0
        s = {
            "avg": int(avg),
            "reuse_mean": sum(r["reuse_prev"] for r in later) / len(later) if later else None,
            "reuse_min": min(r["reuse_prev"] for r in later) if later else None,
            "reuse_max": max(r["reuse_prev"] for r in later) if later else None,
            "chunks_per_gb": per_gb,
            "overhead_per_gb": per_gb * (INDEX_BYTES_PER_CHUNK + AEAD_BYTES_PER_CHUNK),
            "day0_zstd": rows[0]["new_bytes_zstd"],
            "day0_chunks": rows[0]["new_chunks"],
            "day_bytes_mean": sum(r["bytes"] for r in later) / len(later) if later else rows[0]["bytes"],
        }
        if later:
            n = len(later)
            s["new_raw_mean"] = sum(r["new_bytes_raw"] for r in later) / n
            s["new_zstd_mean"] = sum(r["new_bytes_zstd"] for r in later) / n
            s["new_chunks_mean"] = sum(r["new_chunks"] for r in later) / n
            s["new_overhead_mean"] = s["new_chunks_mean"] * (INDEX_BYTES_PER_CHUNK + AEAD_BYTES_PER_CHUNK)
            s["idlist_mean"] = sum(r["idlist_refs"] for r in later) / n * ID_BYTES_PER_REF
            s["new_total_mean"] = s["new_zstd_mean"] + s["new_overhead_mean"] + s["idlist_mean"]
            if all("new_bytes_delta" in r for r in later):
                s["new_delta_mean"] = sum(r["new_bytes_delta"] for r in later) / n
                s["delta_last"] = later[-1]["new_bytes_delta"]
                s["new_delta_total_mean"] = s["new_delta_mean"] + s["new_overhead_mean"] + s["idlist_mean"]
        out.append(s)
    return out


def fmt_mb(b):
    return f"{b / 1e6:.1f}" if b is not None else "–"


def markdown(results, manifest):
    lines = []
    for res in results:
        summ = summarize(res)
        lines.append(f"### {res['label']}\n")
        db = res["day_bytes"]
        lines.append(f"{res['days']} inputs, {min(db) / 1e6:.1f}–{max(db) / 1e6:.1f} MB each; the first one "
                     f"compressed as a single zstd-3 stream: {res.get('day0_whole_zstd', 0) / 1e6:.1f} MB.\n")
        has_delta = any("new_delta_mean" in s for s in summ)
        hdr = ["avg (min/max)", "reuse N→N+1 (min–max)", "chunks/GB", "index+AEAD MB/GB",
               "first day stored MB (zstd)", "new raw MB/day", "new zstd MB/day", "+ per-chunk MB/day",
               "+ id lists MB/day", "= total MB/day"]
        if has_delta:
            hdr += ["delta MB/day", "delta last day MB", "delta total MB/day"]
        lines.append("| " + " | ".join(hdr) + " |")
        lines.append("|" + "---|" * len(hdr))
        for s in summ:
            a = s["avg"]
            size = f"{a // KiB} KiB" if a < MiB else f"{a // MiB} MiB"
            if s["reuse_mean"] is None:
                reuse = "–"
            else:
                reuse = f"{s['reuse_mean'] * 100:.1f} % ({s['reuse_min'] * 100:.1f}–{s['reuse_max'] * 100:.1f})"
            row = [size, reuse, f"{s['chunks_per_gb']:,.0f}", f"{s['overhead_per_gb'] / 1e6:.1f}",
                   fmt_mb(s["day0_zstd"]), fmt_mb(s.get("new_raw_mean")), fmt_mb(s.get("new_zstd_mean")),
                   fmt_mb(s.get("new_overhead_mean")), fmt_mb(s.get("idlist_mean")), fmt_mb(s.get("new_total_mean"))]
            if has_delta:
                row += [fmt_mb(s.get("new_delta_mean")), fmt_mb(s.get("delta_last")), fmt_mb(s.get("new_delta_total_mean"))]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def load(paths):
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out.append([f.read()])
    return out


def machine_info():
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":")[1].strip()
    except OSError:
        pass
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":")[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "mem": mem, "cpu": cpu, "python": platform.python_version(),
            "kernel": platform.release(), "zstandard": zstandard.__version__}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for results.json and results.md")
    ap.add_argument("--work", default="/tmp/chunkstudy", help="scratch directory for generated inputs")
    ap.add_argument("--phases", default="pg,redis,files,analyze",
                    help="comma list of pg, redis, files (generate) and analyze")
    ap.add_argument("--scale", type=float, default=1.0, help="data volume multiplier (1.0: ~150 MB database, ~95 MB dumps, ~80 MB RDB)")
    ap.add_argument("--days", type=int, default=5, help="inputs per series (day 0 plus N-1 mutated days)")
    ap.add_argument("--wal-segments", type=int, default=6)
    ap.add_argument("--pg-bin", default="/usr/lib/postgresql/15/bin")
    ap.add_argument("--files", default="/usr/share/doc,/usr/lib/python3.11,/usr/lib/postgresql/15",
                    help="directories used as the ordinary-files series")
    ap.add_argument("--avg", default=",".join(str(a) for a in AVG_SIZES), help="average sizes in bytes")
    ap.add_argument("--no-delta", action="store_true", help="skip the delta-compression estimate")
    ap.add_argument("--keep", action="store_true", help="keep generated inputs under --work")
    args = ap.parse_args()

    phases = set(args.phases.split(","))
    avg_sizes = [int(a) for a in args.avg.split(",")]
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    mpath = os.path.join(args.work, "manifest.json")
    manifest = {}
    if os.path.exists(mpath):
        with open(mpath) as f:
            manifest = json.load(f)
    manifest["machine"] = machine_info()
    timings = manifest.setdefault("timings", {})

    def save_manifest():
        with open(mpath, "w") as f:
            json.dump(manifest, f, indent=1)

    t_all = time.time()
    if "pg" in phases:
        t = time.time()
        generate_pg(args, manifest)
        timings["pg_generate"] = round(time.time() - t, 1)
        save_manifest()
    if "redis" in phases:
        t = time.time()
        generate_redis(args, manifest)
        timings["redis_generate"] = round(time.time() - t, 1)
        save_manifest()
    if "files" in phases:
        manifest["files_roots"] = args.files.split(",")
        save_manifest()

    if "analyze" in phases:
        results = []
        t = time.time()
        if manifest.get("pg"):
            results.append(analyze_series("pg", load(manifest["pg"]), avg_sizes, delta=not args.no_delta,
                                          label="PostgreSQL pg_dump -Fc -Z0, daily, uniform random updates"))
        if manifest.get("pg_skew"):
            results.append(analyze_series("pg_skew", load(manifest["pg_skew"]), avg_sizes, delta=not args.no_delta,
                                          label="PostgreSQL pg_dump -Fc -Z0, daily, updates skewed to recent rows"))
        if manifest.get("pg_zlib"):
            results.append(analyze_series("pg_zlib", load(manifest["pg_zlib"]), avg_sizes,
                                          label="PostgreSQL pg_dump -Fc (default zlib), two days"))
        if manifest.get("rdb"):
            results.append(analyze_series("rdb", load(manifest["rdb"]), avg_sizes, delta=not args.no_delta,
                                          label="Redis RDB (default rdbcompression yes), daily"))
        if manifest.get("rdb_nolzf"):
            results.append(analyze_series("rdb_nolzf", load(manifest["rdb_nolzf"]), avg_sizes, delta=not args.no_delta,
                                          label="Redis RDB with rdbcompression no, daily"))
        if manifest.get("wal"):
            results.append(analyze_series("wal", load(manifest["wal"]), avg_sizes, delta=not args.no_delta,
                                          label="PostgreSQL WAL, consecutive 16 MiB segments"))
        if manifest.get("files_roots"):
            v1 = read_tree(manifest["files_roots"])
            v2, changes = modify_tree(v1, seed=11)
            manifest["files_changes"] = changes
            manifest["files_count"] = [len(v1), len(v2)]
            days = [[v1[k] for k in sorted(v1)], [v2[k] for k in sorted(v2)]]
            results.append(analyze_series("files", days, avg_sizes,
                                          label="Ordinary files (per-file chunking), two backups"))
            del v1, v2, days
        timings["analyze"] = round(time.time() - t, 1)
        timings["total_this_run"] = round(time.time() - t_all, 1)
        save_manifest()
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump({"manifest": manifest, "results": results,
                       "summary": {r["series"]: summarize(r) for r in results}}, f, indent=1)
        with open(os.path.join(args.out, "results.md"), "w") as f:
            f.write(markdown(results, manifest))
        log(f"wrote {args.out}/results.md and results.json")

    if not args.keep:
        shutil.rmtree(os.path.join(args.work, "inputs"), ignore_errors=True)
        shutil.rmtree(os.path.join(args.work, "pg"), ignore_errors=True)
        shutil.rmtree(os.path.join(args.work, "redis"), ignore_errors=True)
        if os.path.exists(mpath):
            os.remove(mpath)


if __name__ == "__main__":
    main()
