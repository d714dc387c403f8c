#!/usr/bin/env bash
# Benchmark: `migrate-safe rewrite <dir> --all --dry-run` (or `lint <dir> --all`) against squawk and
# eugene, on the same files.
#
#   bench/run.sh                  documenso, rallly, inbox-zero (if present) + synthetic 1k, 5k, 10k
#   bench/run.sh --command lint   time `migrate-safe lint <dir> --all --format json` instead
#   bench/run.sh --quick          the real histories + synthetic 1k only, fewer runs
#   bench/run.sh --sizes "1000 2000"   other synthetic sizes
#   bench/run.sh --no-install     do not install missing tools (benchmark what is there)
#   bench/run.sh --skip-build     use target/release/migrate-safe as it is (no cargo build --release)
#
# Environment: DOCUMENSO_MIGRATIONS (default ../shared/corpus/documenso/migrations; rallly and
# inbox-zero are looked for beside documenso),
# MIGRATE_SAFE_BIN (default target/release/migrate-safe, implies --skip-build),
# BENCH_TIMER=loop (time with the script's own loop even when hyperfine is there).
#
# Results go to bench/.work/results/ (rewrite) or bench/.work/results-lint/ (lint).
# Prints figures; it is not a test. Exit status is 0 whenever the benchmark ran, whatever the
# PASS/FAIL lines say. See bench/README.md.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
cd "$ROOT" || exit 2

TOOLS=$HERE/.tools
WORK=$HERE/.work
LOGS=$WORK/logs
COMMAND=rewrite
SQUAWK_VERSION=2.70.0
EUGENE_VERSION=0.8.3
SIZES="1000 5000 10000"
QUICK=0
INSTALL=1
BUILD=1
DOCUMENSO=${DOCUMENSO_MIGRATIONS:-../shared/corpus/documenso/migrations}
MS=${MIGRATE_SAFE_BIN:-$ROOT/target/release/migrate-safe}
[ -n "${MIGRATE_SAFE_BIN:-}" ] && BUILD=0

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; SIZES="1000" ;;
        --sizes) SIZES="$2"; shift ;;
        --no-install) INSTALL=0 ;;
        --skip-build) BUILD=0 ;;
        --command) COMMAND="$2"; shift ;;
        -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/run.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# The migrate-safe command under test: `migrate-safe $COMMAND <dir> ${MS_ARGS[@]}`. Each command has
# its own results directory, so a lint run leaves the last rewrite figures in place (and the other
# way round).
case "$COMMAND" in
    rewrite) TAG=""; MS_ARGS=(--all --dry-run) ;;
    # JSON, so that the check can read `migrations_linted`; the timed runs use the same command
    # (the text output takes the same time). lint exits 1 when it has findings.
    lint) TAG="-lint"; MS_ARGS=(--all --format json) ;;
    *) echo "bench/run.sh: --command must be rewrite or lint, not: $COMMAND" >&2; exit 2 ;;
esac
RESULTS=$WORK/results$TAG

# Same conditions for every tool: no Rust backtrace capture on error exits (eugene exits through
# anyhow when it has findings).
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

mkdir -p "$TOOLS" "$WORK" "$LOGS"
rm -rf "$RESULTS"
mkdir -p "$RESULTS/out"

say() { printf '==> %s\n' "$*"; }
warn() { printf '!!! %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# Tools (each step is idempotent; a tool that cannot be had is reported and left out)
# ---------------------------------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
    [ "$INSTALL" = 1 ] || return 1
    command -v apt-get >/dev/null || return 1
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null && sudo -n true 2>/dev/null || return 1
        sudo="sudo -n"
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        $sudo apt-get update >>"$LOGS/apt.log" 2>&1 || true
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$@" >>"$LOGS/apt.log" 2>&1
}

HAVE_HYPERFINE=0
if [ "${BENCH_TIMER:-}" = loop ]; then
    say "BENCH_TIMER=loop: timing with the script's own loop"
elif command -v hyperfine >/dev/null || apt_install hyperfine; then
    HAVE_HYPERFINE=1
else
    warn "hyperfine is not installed and could not be installed: timing with the script's own loop"
fi

TIME_BIN=""
if [ -x /usr/bin/time ] || apt_install time; then
    if /usr/bin/time -f %M -o "$WORK/.time-probe" true 2>/dev/null; then
        TIME_BIN=/usr/bin/time
    fi
    rm -f "$WORK/.time-probe"
fi
# (No fallback: getrusage from a python or shell parent counts the parent's own pages too.)
[ -n "$TIME_BIN" ] || warn "GNU time (/usr/bin/time -f %M) unavailable: peak memory not measured"

SQUAWK=$TOOLS/venv/bin/squawk
squawk_ok() { [ -x "$SQUAWK" ] && "$SQUAWK" --version 2>/dev/null | grep -qF "$SQUAWK_VERSION"; }
if ! squawk_ok && [ "$INSTALL" = 1 ]; then
    say "installing squawk-cli $SQUAWK_VERSION into bench/.tools/venv (PyPI)"
    if [ ! -x "$TOOLS/venv/bin/pip" ]; then
        rm -rf "$TOOLS/venv"
        python3 -m venv "$TOOLS/venv" >>"$LOGS/squawk-install.log" 2>&1 \
            || { apt_install python3-venv && python3 -m venv "$TOOLS/venv" >>"$LOGS/squawk-install.log" 2>&1; }
    fi
    [ -x "$TOOLS/venv/bin/pip" ] \
        && "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "squawk-cli==$SQUAWK_VERSION" \
            >>"$LOGS/squawk-install.log" 2>&1
fi
if squawk_ok; then
    HAVE_SQUAWK=1
else
    HAVE_SQUAWK=0
    if [ "$INSTALL" = 1 ]; then
        warn "squawk $SQUAWK_VERSION could not be installed (see bench/.work/logs/squawk-install.log): leaving squawk out"
    else
        warn "squawk $SQUAWK_VERSION is not installed (--no-install): leaving squawk out"
    fi
fi

EUGENE=$TOOLS/eugene/bin/eugene
eugene_ok() { [ -x "$EUGENE" ] && "$EUGENE" --version 2>/dev/null | grep -qF "$EUGENE_VERSION"; }
if ! eugene_ok && [ "$INSTALL" = 1 ]; then
    say "installing eugene $EUGENE_VERSION into bench/.tools/eugene (crates.io; compiles libpg_query, takes a few minutes)"
    if ! dpkg -s libclang-dev >/dev/null 2>&1; then
        apt_install libclang-dev || warn "could not install libclang-dev (eugene's build needs it); trying anyway"
    fi
    if command -v cargo >/dev/null; then
        cargo install eugene --version "$EUGENE_VERSION" --root "$TOOLS/eugene" --locked \
            >>"$LOGS/eugene-install.log" 2>&1 \
            || cargo install eugene --version "$EUGENE_VERSION" --root "$TOOLS/eugene" \
                >>"$LOGS/eugene-install.log" 2>&1
    fi
fi
if eugene_ok; then
    HAVE_EUGENE=1
else
    HAVE_EUGENE=0
    if [ "$INSTALL" = 1 ]; then
        warn "eugene $EUGENE_VERSION could not be installed (see bench/.work/logs/eugene-install.log): leaving eugene out"
    else
        warn "eugene $EUGENE_VERSION is not installed (--no-install): leaving eugene out"
    fi
fi

if [ "$BUILD" = 1 ]; then
    say "cargo build --release"
    if ! cargo build --release >"$LOGS/cargo-build.log" 2>&1; then
        tail -20 "$LOGS/cargo-build.log"
        warn "cargo build --release failed: cannot benchmark migrate-safe"
        exit 1
    fi
fi
if [ ! -x "$MS" ]; then
    warn "no migrate-safe binary at $MS"
    exit 1
fi

# ---------------------------------------------------------------------------------------------
# Histories: name, Prisma migrations dir, flat copy for eugene
# ---------------------------------------------------------------------------------------------

HISTORIES=()
declare -A DIR FLAT COUNT

# The real histories: documenso, then rallly and inbox-zero beside it in the corpus.
CORPUS=$(dirname "$(dirname "$DOCUMENSO")")
for name in documenso rallly inbox-zero; do
    src=$CORPUS/$name/migrations
    [ "$name" = documenso ] && src=$DOCUMENSO
    if [ -f "$src/migration_lock.toml" ]; then
        DIR[$name]=$(cd "$src" && pwd)
        FLAT[$name]=$WORK/flat/$name
        COUNT[$name]=$(python3 "$HERE/flatten.py" "${DIR[$name]}" "${FLAT[$name]}") || exit 1
        HISTORIES+=("$name")
    else
        warn "$name history not found at $src (set DOCUMENSO_MIGRATIONS; the others are looked for beside it): skipping it"
    fi
done

SYNTH_SUM=$(cat "$HERE/synth.py" "$HERE/flatten.py" | sha256sum | cut -c1-16)
for n in $SIZES; do
    name=synth-$n
    dir=$WORK/histories/$name
    flat=$WORK/flat/$name
    stamp="$SYNTH_SUM $n"
    if [ "$(cat "$dir.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -d "$flat" ]; then
        say "generating $name (bench/synth.py $n)"
        rm -f "$dir.stamp"
        python3 "$HERE/synth.py" "$dir" "$n" || exit 1
        python3 "$HERE/flatten.py" "$dir" "$flat" >/dev/null || exit 1
        echo "$stamp" >"$dir.stamp"
    fi
    DIR[$name]=$dir
    FLAT[$name]=$flat
    COUNT[$name]=$n
    HISTORIES+=("$name")
done

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

TOOL_LIST=(migrate-safe)
[ "$HAVE_SQUAWK" = 1 ] && TOOL_LIST+=(squawk)
[ "$HAVE_EUGENE" = 1 ] && TOOL_LIST+=(eugene)

# cmd_for TOOL HISTORY -> fills CMD (array)
cmd_for() {
    local dir=${DIR[$2]} flat=${FLAT[$2]}
    case "$1" in
        migrate-safe) CMD=("$MS" "$COMMAND" "$dir" "${MS_ARGS[@]}") ;;
        # One invocation: squawk expands the quoted pattern itself (no shell glob, no xargs split).
        squawk) CMD=("$SQUAWK" "$dir/*/migration.sql") ;;
        # eugene lints a directory of scripts with leading sequence numbers, in order.
        eugene) CMD=("$EUGENE" lint "$flat") ;;
    esac
}

quote_cmd() { local out="" a; for a in "$@"; do out+="$(printf '%q' "$a") "; done; printf '%s' "${out% }"; }

# One run per tool and history, output kept: max RSS, exit status, and proof that the tool read
# every file. The timed runs below send the same command's output to /dev/null.
max_rss_kb() { # outfile cmd... -> prints KB ("" without GNU time)
    local out=$1; shift
    if [ -n "$TIME_BIN" ]; then
        "$TIME_BIN" -f %M -o "$RESULTS/.rss" "$@" >"$out" 2>&1
        echo $? >"$RESULTS/.rc"
        tail -1 "$RESULTS/.rss"
    else
        "$@" >"$out" 2>&1
        echo $? >"$RESULTS/.rc"
    fi
}

echo "$COMMAND" >"$RESULTS/command"
printf 'history\tmigrations\ttool\trss_kb\texit\tcheck\n' >"$RESULTS/runs.tsv"
for h in "${HISTORIES[@]}"; do
    for t in "${TOOL_LIST[@]}"; do
        cmd_for "$t" "$h"
        out=$RESULTS/out/$h.$t.txt
        say "$h: $t (checking run)"
        rss=$(max_rss_kb "$out" "${CMD[@]}")
        rc=$(cat "$RESULTS/.rc")
        check_tool=$t
        [ "$t" = migrate-safe ] && check_tool=migrate-safe-$COMMAND
        check=$(python3 "$HERE/check_output.py" "$check_tool" "${COUNT[$h]}" "$rc" "$out")
        printf '    %s\n' "$check"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$h" "${COUNT[$h]}" "$t" "$rss" "$rc" "$check" >>"$RESULTS/runs.tsv"
    done
done
rm -f "$RESULTS/.rss" "$RESULTS/.rc"

# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------

runs_for() { # history -> "warmup min_runs"
    local n=${COUNT[$1]}
    if [ "$QUICK" = 1 ]; then echo "1 3"
    elif [ "$n" -le 500 ]; then echo "3 10"
    elif [ "$n" -le 2000 ]; then echo "2 5"
    else echo "1 3"
    fi
}

fallback_time() { # json warmup runs name cmd...   (no hyperfine): same JSON shape as hyperfine's
    local json=$1 warmup=$2 runs=$3 name=$4; shift 4
    local i start end times=()
    for ((i = 0; i < warmup; i++)); do "$@" >/dev/null 2>&1; done
    for ((i = 0; i < runs; i++)); do
        start=$(date +%s%N); "$@" >/dev/null 2>&1; end=$(date +%s%N)
        times+=("$(( end - start ))")
    done
    python3 - "$json" "$name" "${times[@]}" <<'EOF'
import json, os, statistics, sys
path, name, times = sys.argv[1], sys.argv[2], [int(t) / 1e9 for t in sys.argv[3:]]
data = json.load(open(path)) if os.path.exists(path) else {"results": []}
data["results"].append({"command": name, "mean": statistics.mean(times),
    "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
    "min": min(times), "max": max(times), "times": times})
json.dump(data, open(path, "w"), indent=2)
EOF
}

for h in "${HISTORIES[@]}"; do
    read -r warmup runs <<<"$(runs_for "$h")"
    json=$RESULTS/$h.json
    say "$h: timing ${TOOL_LIST[*]} (warmup $warmup, at least $runs runs each)"
    if [ "$HAVE_HYPERFINE" = 1 ]; then
        args=()
        for t in "${TOOL_LIST[@]}"; do
            cmd_for "$t" "$h"
            args+=(--command-name "$t" "$(quote_cmd "${CMD[@]}")")
        done
        # -N: no intermediate shell; -i: linters exit non-zero when they find something.
        hyperfine -N -i --style basic --warmup "$warmup" --min-runs "$runs" \
            --export-json "$json" "${args[@]}" >"$LOGS/hyperfine$TAG-$h.log" 2>&1 \
            || { tail -20 "$LOGS/hyperfine$TAG-$h.log"; warn "hyperfine failed on $h"; }
        grep -E '^(Benchmark|  Time)' "$LOGS/hyperfine$TAG-$h.log" | sed 's/^/    /'
    else
        rm -f "$json"
        for t in "${TOOL_LIST[@]}"; do
            cmd_for "$t" "$h"
            fallback_time "$json" "$warmup" "$runs" "$t" "${CMD[@]}"
        done
    fi
done

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

{
    if [ -n "${MIGRATE_SAFE_BIN:-}" ]; then
        echo "migrate-safe: $("$MS" --version 2>/dev/null) (MIGRATE_SAFE_BIN=$MS)"
    else
        echo "migrate-safe: $("$MS" --version 2>/dev/null) (built from $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes'))"
    fi
    echo "command: migrate-safe $COMMAND <dir> ${MS_ARGS[*]}"
    [ "$HAVE_SQUAWK" = 1 ] && echo "squawk: $("$SQUAWK" --version 2>/dev/null) (PyPI squawk-cli)"
    [ "$HAVE_EUGENE" = 1 ] && echo "eugene: $("$EUGENE" --version 2>/dev/null) (crates.io)"
    [ "$HAVE_HYPERFINE" = 1 ] && echo "timing: $(hyperfine --version)" || echo "timing: shell loop (no hyperfine)"
    echo "machine: $(nproc) cores, $(uname -sr), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RESULTS/versions.txt"

echo
cat "$RESULTS/versions.txt"
echo
python3 "$HERE/report.py" "$RESULTS" | tee "$RESULTS/table.txt"
echo
echo "Raw results: bench/.work/results$TAG/ (hyperfine JSON per history, runs.tsv, tool outputs in out/)"
