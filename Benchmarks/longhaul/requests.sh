# The store requests of one command, by kind, for run.sh and cold-open.sh (sourced; runs on demand).
#   s3_requests MOTO_LOG LINE          moto's log lines after line LINE: "GET 12 LIST 4 PUT 3 ..."
#   local_requests STRACE_LOG REPO_DIR an strace -f log of one command on the local repository REPO_DIR
#                                      (its own temporary files under REPO_DIR/tmp are not GETs)
s3_requests() {
  tail -n +"$(( $2 + 1 ))" "$1" | python3 -c '
import re, sys, collections
c = collections.Counter()
for line in sys.stdin:
    m = re.search(r"\"(GET|PUT|POST|DELETE|HEAD) (\S+)", line)
    if not m: continue
    verb, path = m.groups()
    if verb == "GET" and ("list-type" in path or path.rstrip("/").count("/") <= 1 and "?" in path): verb = "LIST"
    c[verb] += 1
print(" ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none")'
}
local_requests() {
  python3 - "$1" "$2" <<'PY'
import re, sys, collections
log, repo = sys.argv[1], sys.argv[2]
c = collections.Counter()
for line in open(log, errors="replace"):
    if repo not in line or "= -1" in line: continue
    if re.search(r'\bopenat\(.*O_DIRECTORY', line):
        if "O_NONBLOCK" in line or "getdents" in line: c["LIST"] += 1
    elif re.search(r'\bopenat\(', line) and "O_RDONLY" in line and "/tmp/" not in line.split(repo, 1)[1][:5]: c["GET"] += 1
    elif re.search(r'\brename(at2?)?\(', line): c["PUT"] += 1
    elif re.search(r'\bunlink(at)?\(', line): c["DELETE"] += 1
    elif re.search(r'\b(statx|newfstatat|stat)\(', line): c["HEAD"] += 1
print(" ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none")
PY
}

