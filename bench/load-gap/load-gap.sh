#!/usr/bin/env bash
# Run a command while pgbench writers write, and say what the writers saw: failed transactions and the
# longest gap between completed writes while the command ran. Adapted from ../shared/tools/load-gap.
#
#   bench/load-gap/load-gap.sh DB SECONDS DELAY WRITER.sql[@WEIGHT]... -- COMMAND [ARGS...]
#
# pgbench: CLIENTS clients (default 4) at RATE transactions/s in all (default 160), for SECONDS, each
# transaction drawn from the WRITER scripts by weight; COMMAND starts DELAY seconds in. Prints one line:
#   failed=N deadlocks=D gap_ms=G quiet_gap_ms=Q command_ms=C command_rc=R
# failed counts every writer transaction that did not commit (pgbench's log marks them "failed";
# --failures-detailed sorts them; aborted clients count too). gap_ms is the longest interval between
# consecutive completed writes that overlaps the command's run (a stall over the whole run is measured
# too); quiet_gap_ms the longest before the command started, the machine's own noise on this load.
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), CLIENTS, RATE, LOAD_GAP_KEEP (a
# directory to keep pgbench's logs in).
set -euo pipefail
usage() { echo "usage: $0 DB SECONDS DELAY WRITER.sql[@W]... -- COMMAND..." >&2; exit 2; }
[ $# -ge 6 ] || usage
db=$1 secs=$2 delay=$3; shift 3
scripts=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  file=${1%@*}; weight=""; [ "$file" != "$1" ] && weight="@${1##*@}"
  scripts+=(-f "$(realpath "$file")$weight"); shift
done
[ "${1:-}" = "--" ] && [ ${#scripts[@]} -gt 0 ] || usage
shift
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
T0=$(date +%s.%N)
( cd "$t" && timeout $((secs + 30)) pgbench -n -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U "${PGUSER:-postgres}" \
    -c "${CLIENTS:-4}" -j 2 -R "${RATE:-160}" -T "$secs" --failures-detailed "${scripts[@]}" \
    -l --log-prefix=pgb "$db" >pgbench.out 2>&1 ) & pgb=$!
sleep "$delay"
DS=$(date +%s.%N); set +e; "$@"; rc=$?; set -e; DE=$(date +%s.%N)
wait $pgb || true
[ -n "${LOAD_GAP_KEEP:-}" ] && { mkdir -p "$LOAD_GAP_KEEP"; cp "$t"/* "$LOAD_GAP_KEEP"/; }
python3 - "$t" "$DS" "$DE" "$T0" "$rc" <<'PY'
import glob, re, sys
d, ds, de, t0, rc = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
ok, failed = [], 0
for p in glob.glob(d + "/pgb.*"):
    for line in open(p):
        x = line.split()
        if len(x) < 6: continue
        if x[2] in ("failed", "serialization", "deadlock", "skipped"): failed += x[2] != "skipped"; continue
        ok.append(int(x[4]) + int(x[5]) / 1e6)
out = open(d + "/pgbench.out").read()
aborted = len(re.findall(r"client \d+ aborted", out))
deadlocks = sum(int(m) for m in re.findall(r"deadlock failures: (\d+)", out)[:1])
ok.sort()
def gap(a, b):
    return max((y - x for x, y in zip(ok, ok[1:]) if y >= a and x <= b), default=0) * 1000
print(f"failed={failed + aborted} deadlocks={deadlocks} gap_ms={gap(ds, de):.0f} quiet_gap_ms={gap(t0 + 0.5, ds - 0.3):.0f} command_ms={(de - ds) * 1000:.0f} command_rc={rc}")
if aborted: print(out[-2000:], file=sys.stderr)
PY
