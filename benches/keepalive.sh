#!/usr/bin/env bash
# What keep-alive costs at scale (issue 22): KA_PROCS server processes of
# examples/load_server, each holding KA_STREAMS idle streams of /idle (read by one
# examples/load client each, which holds them and reads nothing), pinged every KA_PING_MS.
# Reports the servers' CPU time over KA_SECS seconds (utime + stime from /proc/PID/stat)
# per ping and as a share of one core, and RSS per stream, with the load average.
#
#   bash benches/keepalive.sh                                   # 10,000 smol-raw streams, 1 s pings
#   KA_MODE=hyper-tokio KA_PROCS=5 KA_STREAMS=20000 KA_PING_MS=15000 bash benches/keepalive.sh
#
# KA_BIN: the directory of load_server and load (default: built here, target/release/examples),
# to compare against a baseline built elsewhere. KA_REPEAT: runs (each on fresh servers).
# Loopback only; every process has a deadline, so the script stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${KA_MODE:-smol-raw}
PROCS=${KA_PROCS:-1}
STREAMS=${KA_STREAMS:-10000}
PING_MS=${KA_PING_MS:-1000}
SECS=${KA_SECS:-20}
REPEAT=${KA_REPEAT:-1}
if [ -z "${KA_BIN:-}" ]; then
    cargo build --release --quiet --features hyper,smol,tokio --example load_server --example load
fi
BIN=${KA_BIN:-target/release/examples}
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((STREAMS + 200)) ]; then
    echo "ulimit -n is $(ulimit -n): too low for $STREAMS streams per process" >&2
    exit 1
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

HZ=$(getconf CLK_TCK)
field() { grep -o "$1=[^ ]*" <<<"$2" | head -1 | cut -d= -f2; }
# cpu_ticks PID...: utime + stime of the processes, in clock ticks.
cpu_ticks() { for pid in "$@"; do cut -d' ' -f14,15 /proc/"$pid"/stat; done | awk '{ t += $1 + $2 } END { print t }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# run: one measurement on fresh servers; prints one result line.
run() {
    local servers=() urls=() clients=() rss0=0 rss1=0
    for i in $(seq "$PROCS"); do
        "$BIN/load_server" --mode "$MODE" --ping-ms "$PING_MS" --max-secs $((SECS + 200)) \
            >"$WORK/server-$i.out" 2>&1 &
        servers+=("$!") PIDS+=("$!")
    done
    for i in $(seq "$PROCS"); do
        for _ in $(seq 100); do
            if grep -q 'http://' "$WORK/server-$i.out"; then break; fi
            sleep 0.1
        done
        urls+=("$(grep -o 'http://[0-9.:]*' "$WORK/server-$i.out")")
    done
    for url in "${urls[@]}"; do
        rss0=$((rss0 + $(field rss_kib "$(curl -s --max-time 5 "$url/stats")")))
    done
    for i in $(seq "$PROCS"); do
        "$BIN/load" --url "${urls[$((i - 1))]}" --deadline $((SECS + 150)) --hold \
            --connections "$STREAMS" --hold-secs $((SECS + 30)) >"$WORK/hold-$i.out" 2>&1 &
        clients+=("$!") PIDS+=("$!")
    done
    for i in $(seq "$PROCS"); do
        for _ in $(seq 1200); do
            if grep -q holding "$WORK/hold-$i.out"; then break; fi
            sleep 0.1
        done
    done
    sleep 3 # every stream past its first ping
    local streams=0
    for url in "${urls[@]}"; do
        local s
        s=$(curl -s --max-time 5 "$url/stats")
        rss1=$((rss1 + $(field rss_kib "$s"))) streams=$((streams + $(field streams "$s")))
    done
    local load0 t0 t1
    load0=$(loadavg)
    t0=$(cpu_ticks "${servers[@]}")
    sleep "$SECS"
    t1=$(cpu_ticks "${servers[@]}")
    awk -v t=$((t1 - t0)) -v hz="$HZ" -v s="$SECS" -v n="$streams" -v p="$PING_MS" \
        -v r0="$rss0" -v r1="$rss1" -v l0="$load0" -v l1="$(loadavg)" 'BEGIN {
        cpu = t / hz; pings = n * s * 1000 / p
        printf "streams=%d cpu_s=%.2f core_pct=%.2f pings=%.0f us_per_ping=%.2f rss_per_stream_b=%.0f load_before=%s load_after=%s\n",
            n, cpu, cpu * 100 / s, pings, cpu * 1e6 / pings, (r1 - r0) * 1024 / n, l0, l1 }' \
        | sed 's/load_before=\([^ ]*\) \([^ ]*\) \([^ ]*\)/load_before=\1,\2,\3/; s/load_after=\([^ ]*\) \([^ ]*\) \([^ ]*\)/load_after=\1,\2,\3/'
    for pid in "${clients[@]}" "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${clients[@]}" "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
}

echo "# keepalive.sh $(date -u '+%H:%M UTC') $BIN mode=$MODE procs=$PROCS streams/proc=$STREAMS ping_ms=$PING_MS secs=$SECS"
for _ in $(seq "$REPEAT"); do run; done
