#!/usr/bin/env python3
"""Uploads a local Cairn repository byte for byte to an S3 server without authentication (moto on
loopback): every object under config, keys, data, index, snapshots and forgotten, at the key the S3
backend uses (PREFIX/ + the object's path; locks and scratch files are left out). The long-haul
benchmark grows its history far faster on a local store than through moto, so the S3 disaster open
of a large history is measured on such a mirror of the local repository.

    Benchmarks/longhaul/mirror-to-s3.py REPO_DIR http://127.0.0.1:PORT BUCKET PREFIX [--jobs N]

Then: CAIRN_REPO=s3:http://127.0.0.1:PORT/BUCKET/PREFIX. Runs on demand, never in CI.
"""
import concurrent.futures
import os
import sys
import urllib.error
import urllib.request

NAMESPACES = ("keys", "data", "index", "snapshots", "forgotten")


def main() -> int:
    args = sys.argv[1:]
    jobs = 8
    if "--jobs" in args:
        i = args.index("--jobs")
        jobs = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 4:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    repo, endpoint, bucket, prefix = args
    endpoint = endpoint.rstrip("/")
    try:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")).read()
    except urllib.error.HTTPError as e:
        if e.code != 409:  # already there
            raise
    paths = ["config"]
    for ns in NAMESPACES:
        for dirpath, _, files in os.walk(os.path.join(repo, ns)):
            for f in files:
                paths.append(os.path.relpath(os.path.join(dirpath, f), repo))

    def put(path: str) -> int:
        with open(os.path.join(repo, path), "rb") as f:
            body = f.read()
        req = urllib.request.Request(f"{endpoint}/{bucket}/{prefix}/{path}", data=body, method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(req).read()
        return len(body)

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        total = sum(pool.map(put, paths))
    counts = {ns: sum(1 for p in paths if p.startswith(ns + "/")) for ns in NAMESPACES}
    print(f"uploaded {len(paths)} objects ({total >> 20} MiB): " + ", ".join(f"{ns} {n}" for ns, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
