#!/usr/bin/env python3
"""Records restic's `forget` decisions as a test oracle for Cairn's retention.

Makes a throwaway restic repository, backs up one tiny file once per snapshot
time below (`restic backup --time`, in the time zone TZ), then runs
`restic forget --dry-run --json --group-by ''` for each policy and writes the
kept snapshot times to restic-forget.json. The Swift test
(RetentionOracleTests) applies the same policies to the same times and must
keep exactly the same set.

Run on demand (needs restic on PATH; takes a minute):
    python3 Tests/CairnRetentionTests/Oracle/make_restic_oracle.py
"""
import datetime, json, os, random, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TZ = "Europe/Berlin"   # has DST: hour and day buckets cross the transitions

def snapshot_times():
    """Local wall-clock times, chosen to hit the corners of calendar arithmetic."""
    fixed = [
        # DST starts 2021-03-28 02:00 -> 03:00; ends 2021-10-31 03:00 -> 02:00.
        "2021-03-27 23:30:00", "2021-03-28 01:59:00", "2021-03-28 03:01:00", "2021-03-28 12:00:00",
        "2021-10-30 22:00:00", "2021-10-31 01:30:00", "2021-10-31 03:30:00", "2021-10-31 23:59:59",
        # ISO week 53 of 2020 runs Mon 2020-12-28 .. Sun 2021-01-03.
        "2020-12-27 18:00:00", "2020-12-28 08:00:00", "2020-12-31 23:00:00", "2021-01-01 00:30:00",
        "2021-01-03 23:00:00", "2021-01-04 00:10:00",
        # Month ends, for "within 1m" from the 31st (Go's AddDate normalises Feb 31 to Mar 3).
        "2022-01-31 10:00:00", "2022-02-28 10:00:00", "2022-03-01 09:00:00", "2022-03-02 09:00:00",
        "2022-03-03 09:59:00", "2022-03-03 10:01:00", "2022-03-04 10:00:00", "2022-03-30 10:00:00",
        "2022-03-31 10:00:00",
        # Several in one hour and one day.
        "2021-06-15 14:05:00", "2021-06-15 14:35:00", "2021-06-15 14:59:59", "2021-06-15 15:00:00",
        "2021-06-15 20:00:00",
        # Sparse years.
        "2019-07-04 12:00:00", "2019-12-31 23:59:00", "2020-01-01 00:00:01",
    ]
    rng = random.Random(20260131)
    start = datetime.datetime(2020, 2, 1)
    extra = set()
    while len(extra) < 30:
        t = start + datetime.timedelta(seconds=rng.randrange(0, 2 * 365 * 86400))
        extra.add(t.strftime("%Y-%m-%d %H:%M:%S"))
    times = sorted(set(fixed) | extra)
    return times

POLICIES = [
    ["--keep-last", "1"], ["--keep-last", "5"], ["--keep-hourly", "5"], ["--keep-hourly", "40"],
    ["--keep-daily", "7"], ["--keep-daily", "30"], ["--keep-weekly", "4"], ["--keep-weekly", "30"],
    ["--keep-monthly", "6"], ["--keep-monthly", "24"], ["--keep-yearly", "2"], ["--keep-yearly", "10"],
    ["--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "12"],
    ["--keep-last", "2", "--keep-daily", "3", "--keep-weekly", "2", "--keep-monthly", "2", "--keep-yearly", "3"],
    ["--keep-hourly", "3", "--keep-yearly", "1"],
    ["--keep-within", "1m"], ["--keep-within", "2d"], ["--keep-within", "36h"], ["--keep-within", "1y2m"],
    ["--keep-within", "5d12h"], ["--keep-within", "28d"], ["--keep-within", "1m1d"],
    ["--keep-within-hourly", "2d"], ["--keep-within-daily", "10d"], ["--keep-within-daily", "1m"],
    ["--keep-within-weekly", "2m"], ["--keep-within-monthly", "1y"], ["--keep-within-yearly", "5y"],
    ["--keep-within-daily", "7d", "--keep-within-weekly", "1m", "--keep-within-monthly", "1y", "--keep-within-yearly", "75y"],
    ["--keep-tag", "a"], ["--keep-tag", "a,b"], ["--keep-tag", "b", "--keep-tag", "c"], ["--keep-tag", ""],
    ["--keep-tag", "a", "--keep-daily", "2"], ["--keep-last", "3", "--keep-within", "3d"],
    ["--keep-weekly", "3", "--keep-within-daily", "3d", "--keep-tag", "c"],
]

def run(args, env, **kw):
    return subprocess.run(["restic", *args], env=env, check=True, capture_output=True, text=True, **kw).stdout

def main():
    version = run(["version"], os.environ).split()[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, TZ=TZ, RESTIC_PASSWORD="oracle", RESTIC_REPOSITORY=os.path.join(tmp, "repo"),
                   RESTIC_CACHE_DIR=os.path.join(tmp, "cache"))
        run(["init"], env)
        f = os.path.join(tmp, "f")
        with open(f, "w") as fh:
            fh.write("oracle\n")
        rng = random.Random(7)
        for t in snapshot_times():
            tags = [x for x in ("a", "b", "c") if rng.random() < 0.3]
            args = ["backup", "-q", "--host", "oracle", "--time", t, f]
            for x in tags:
                args += ["--tag", x]
            run(args, env)
        snaps = json.loads(run(["snapshots", "--json"], env))
        def ns(s):
            # restic prints RFC 3339 with an offset and up to 9 fractional digits.
            m = re.match(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", s)
            base = datetime.datetime.fromisoformat(m.group(1) + (m.group(3).replace("Z", "+00:00")))
            frac = int(((m.group(2) or ".")[1:] + "000000000")[:9])
            return int(base.timestamp()) * 1_000_000_000 + frac
        by_id = {s["id"]: ns(s["time"]) for s in snaps}
        cases = []
        for p in POLICIES:
            out = json.loads(run(["forget", "--dry-run", "--json", "--group-by", "", *p], env))
            keep = sorted(by_id[s["id"]] for g in out for s in g["keep"])
            cases.append({"args": p, "keep": keep})
            print(" ".join(p) or "''", "->", len(keep), "kept", file=sys.stderr)
        result = {
            "description": "restic forget --dry-run --json decisions for the snapshot times below (TZ %s); "
                           "made by make_restic_oracle.py" % TZ,
            "restic_version": version, "timezone": TZ,
            "snapshots": sorted(({"time_ns": by_id[s["id"]], "tags": sorted(s.get("tags") or [])} for s in snaps),
                                key=lambda s: s["time_ns"]),
            "cases": cases,
        }
    with open(os.path.join(HERE, "restic-forget.json"), "w") as fh:
        json.dump(result, fh, indent=1)
        fh.write("\n")

if __name__ == "__main__":
    main()
