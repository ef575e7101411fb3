#!/usr/bin/env python3
"""Tree restore speed: Cairn against restic on the same trees, in the same run (issue 16.4).

    Benchmarks/restore-small-files/run.py                     # 50,000 files of 1-16 KiB, and 4 files of 128 MiB
    Benchmarks/restore-small-files/run.py --files 200000      # the issue's second size
    Benchmarks/restore-small-files/run.py --baseline /tmp/cairn-old   # also time an older cairn binary on the same repository
    Benchmarks/restore-small-files/run.py --quick             # 5,000 files, 2 x 32 MiB, 1 repeat

Workloads (generated deterministically under --work, removed at the end unless --keep):
  small  --files files of 1-16 KiB (uniform), pseudo-random bytes (incompressible), 1,000 to a directory,
         like a LevelDB data directory of many small tables.
  large  --large-files files of --large-mib MiB each (pseudo-random): a restore of a few big files must keep
         today's speed.
Each tool backs up each workload once (not timed), then restores it --repeats times (default 3) into a fresh
target on the same file system, the tools taking turns so load drift on a shared machine hits them alike; the
median wall time is reported with user+sys CPU (from wait4). The first restore of each tool is compared file
by file with the source (content, mode, mtime). Repositories and inputs stay in the page cache for every tool.

Cairn's restore is durable when it ends (one syncfs, then its incomplete-restore marker removed); restic's
restore does not sync at all, so restic is timed with a `sync -f` of the target afterwards as well (both
numbers are printed; the ratio uses restic + sync, the same durability).

Where the restores go matters: on ext4 without a journal the kernel does not reuse an inode freed in
the last minutes, and a restore into a file system where many files were just deleted spends its time
looking for free inodes (Docs/performance.md, issue 16.4). Give --work on a new file system (a new
machine's, as after a disaster) for figures that do not depend on what was deleted before.

Needs: restic (apt-get install restic), a release build of cairn (built here unless --cairn is given).
Output: a Markdown table on stdout.
"""
import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def generate_small(path, files, seed=16):
    rnd = random.Random(seed)
    block = rnd.randbytes(1 << 20)
    per_dir = 1000
    for i in range(files):
        d = os.path.join(path, "d%03d" % (i // per_dir))
        if i % per_dir == 0:
            os.makedirs(d, exist_ok=True)
        size = rnd.randint(1024, 16384)
        off = rnd.randrange(0, len(block) - size)
        # A per-file header keeps every file distinct (no dedup between files).
        data = i.to_bytes(8, "little") + block[off:off + size - 8]
        with open(os.path.join(d, "%06d.ldb" % i), "wb") as f:
            f.write(data)


def generate_large(path, count, mib, seed=17):
    rnd = random.Random(seed)
    os.makedirs(path, exist_ok=True)
    for i in range(count):
        with open(os.path.join(path, "big%d.bin" % i), "wb") as f:
            for _ in range(mib):
                f.write(rnd.randbytes(1 << 20))


def run(argv, env=None, cwd=None):
    """Runs argv; returns (wall seconds, user+sys CPU seconds)."""
    start = time.monotonic()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited {code}: {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def tree_digest(path):
    """Per-file (relative path, sha256, mode, mtime ns), sorted."""
    out = []
    for d, dirs, files in os.walk(path):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            st = os.lstat(p)
            with open(p, "rb") as fh:
                h = hashlib.sha256(fh.read()).hexdigest()
            out.append((os.path.relpath(p, path), h, st.st_mode & 0o7777, st.st_mtime_ns))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--large-files", type=int, default=4)
    ap.add_argument("--large-mib", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", default="/tmp/cairn-restore-bench")
    ap.add_argument("--cairn", help="cairn binary (default: a release build of this checkout)")
    ap.add_argument("--baseline", help="an older cairn binary to time on the same repository")
    ap.add_argument("--workloads", default="small,large")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--no-restic", action="store_true", help="time cairn (and --baseline) only")
    ap.add_argument("--before-restores", metavar="CMD",
                    help="shell command run once every workload is generated and backed up, before the first timed "
                         "restore (e.g. taking a shared machine's quiet window)")
    ap.add_argument("--after-restores", metavar="CMD", help="shell command run after the last timed restore (even on failure)")
    a = ap.parse_args()
    if a.quick:
        a.files, a.large_files, a.large_mib, a.repeats = 5000, 2, 32, 1
    if not a.no_restic and not shutil.which("restic"):
        raise SystemExit("restic is not installed (apt-get install restic)")
    cairn = a.cairn
    if not cairn:
        log("building cairn (release)")
        subprocess.run(["swift", "build", "-c", "release", "--product", "cairn"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        cairn = os.path.join(ROOT, ".build", "release", "cairn")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    env = dict(os.environ, CAIRN_PASSWORD="bench", RESTIC_PASSWORD="bench", RESTIC_CACHE_DIR=os.path.join(a.work, "restic-cache"))
    tools = {"cairn": cairn}
    if a.baseline:
        tools["cairn-baseline"] = a.baseline
    if not a.no_restic:
        tools["restic"] = "restic"
    restic_version = "no restic" if a.no_restic else subprocess.run(["restic", "version"], capture_output=True, text=True).stdout.strip()
    log("restic:", restic_version, "| cores:", os.cpu_count())

    prepared = [prepare(a, workload, cairn, env) for workload in a.workloads.split(",")]
    if a.before_restores:
        subprocess.run(a.before_restores, shell=True, check=True)
    try:
        rows = [time_restores(a, p, tools) for p in prepared]
    finally:
        if a.after_restores:
            subprocess.run(a.after_restores, shell=True)
    report(a, rows, tools, restic_version)


def prepare(a, workload, cairn, env):
    """Generates `workload` and backs it up with each tool (not timed)."""
    src = os.path.join(a.work, "src-" + workload)
    log("generating", workload)
    if workload == "small":
        generate_small(src, a.files)
        what = f"{a.files:,} files of 1-16 KiB"
    else:
        generate_large(src, a.large_files, a.large_mib)
        what = f"{a.large_files} files of {a.large_mib} MiB"
    source = tree_digest(src)
    total = sum(os.path.getsize(os.path.join(a.work, "src-" + workload, r[0])) for r in source)
    crepo, rrepo = os.path.join(a.work, "cairn-" + workload), os.path.join(a.work, "restic-" + workload)
    cenv = dict(env, CAIRN_REPO=crepo, CAIRN_CACHE_DIR=os.path.join(a.work, "cairn-cache-" + workload))
    renv = dict(env, RESTIC_REPOSITORY=rrepo)
    log("backing up", workload)
    run([cairn, "init"], env=cenv)
    run([cairn, "backup", src, "--name", "bench"], env=cenv)
    if not a.no_restic:
        run(["restic", "init"], env=renv)
        run(["restic", "backup", src, "--quiet"], env=renv)
    return workload, src, what, source, total, cenv, renv


def time_restores(a, prepared, tools):
    """Restores one prepared workload --repeats times with each tool in turn; the first restore is compared with the source."""
    workload, src, what, source, total, cenv, renv = prepared
    times = {t: [] for t in tools}
    restic_sync = []
    targets = []
    for rep in range(a.repeats):
        for tool, binary in tools.items():
            # Every restore gets a new target, all removed after the last run: on ext4 without a journal
            # the kernel skips inodes freed in the last minute when it allocates one (recently_deleted), so a
            # restore started right after removing 50,000 files spent most of its time scanning for free
            # inodes (Docs/performance.md, "Tree restore of many small files"). A new machine has no such past.
            target = os.path.join(a.work, f"out-{workload}-{tool}-{rep + 1}")
            targets.append(target)
            os.sync()
            if tool == "restic":
                wall, cpu = run(["restic", "restore", "latest", "--target", target], env=renv)
                sync_wall, _ = run(["sync", "-f", target])
                restic_sync.append(wall + sync_wall)
            else:
                wall, cpu = run([binary, "restore", "latest", "--name", "bench", "--target", target], env=cenv)
            times[tool].append((wall, cpu))
            log(f"{workload} {tool} run {rep + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU, load {os.getloadavg()[0]:.1f}")
            if rep == 0:
                # restic restores the full path under the target; cairn too since snapshots record
                # full paths (older cairn binaries: the backed-up directory's name).
                full = os.path.join(target, src.lstrip("/"))
                got = tree_digest(full if os.path.isdir(full) else os.path.join(target, os.path.basename(src)))
                if got != source:
                    raise SystemExit(f"{tool}: the restored {workload} tree differs from the source")
    for target in targets:
        shutil.rmtree(target, ignore_errors=True)
    med = {t: statistics.median(w for w, _ in v) for t, v in times.items()}
    cpu = {t: statistics.median(c for _, c in v) for t, v in times.items()}
    rsync = statistics.median(restic_sync) if restic_sync else None
    return what, total, med, cpu, rsync, times


def report(a, rows, tools, restic_version):
    """Prints the Markdown table and removes the work directory unless --keep."""
    print(f"\nTree restore, {os.cpu_count()} cores, {restic_version}; median of {a.repeats} (tools taking turns).\n")
    if a.no_restic:
        head = "| workload | tool | wall s (runs) | median wall s | CPU s (median) | MB/s |"
        print(head)
        print("|" + "---|" * (head.count("|") - 1))
        for what, total, med, cpu, _, times in rows:
            for tool in tools:
                runs = ", ".join(f"{w:.2f}" for w, _ in times[tool])
                print(f"| {what} | {tool} | {runs} | {med[tool]:.2f} | {cpu[tool]:.2f} | {total / med[tool] / 1e6:.0f} |")
        if not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)
        return
    head = "| workload | tool | wall s | CPU s | MB/s | restic's time ÷ this | (restic + sync -f) ÷ this |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for what, total, med, cpu, rsync, _ in rows:
        for tool in tools:
            print(f"| {what} | {tool} | {med[tool]:.2f} | {cpu[tool]:.2f} | {total / med[tool] / 1e6:.0f} | "
                  f"{med['restic'] / med[tool]:.2f}× | {rsync / med[tool]:.2f}× |")
        print(f"| {what} | restic + sync -f | {rsync:.2f} | | {total / rsync / 1e6:.0f} | | |")
    if not a.keep:
        shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    main()
