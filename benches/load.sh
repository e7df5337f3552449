#!/usr/bin/env bash
# Load figures (issue 3): throughput, idle memory per connection and connection churn,
# for sse-pump's adapters against axum's `Sse` and a raw-bytes ceiling, on 127.0.0.1.
#
#   bash benches/load.sh                      # the full run (a few minutes)
#   LOAD_SCALE=10 bash benches/load.sh        # quick: every count divided by 10
#
# Knobs (environment): LOAD_SCALE (divides every count), LOAD_REPEAT (runs per throughput
# figure, median reported; default 3), LOAD_IDLE_REPEAT (default 2), LOAD_MODES,
# LOAD_IDLE_MODES, LOAD_CHURN_MODES (which servers; an empty list skips the part),
# LOAD_SERVER_FLAGS (extra flags for every load_server, e.g. "--half-close on"),
# LOAD_THREADS (server tokio workers, default 1: a current-thread runtime).
# Every server and client run has its own deadline, so the script stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${LOAD_SCALE:-1}
ONE=$((1000000 / SCALE))             # events for the single client
MANY=$((100 / SCALE > 0 ? 100 / SCALE : 1))
PER=$((10000 / SCALE))               # events per client of the many
IDLE=$((10000 / SCALE))              # idle streams held
CHURN=$((10000 / SCALE))             # churn cycles
REPEAT=${LOAD_REPEAT:-3}
IDLE_REPEAT=${LOAD_IDLE_REPEAT:-2}
MODES=${LOAD_MODES-"ceiling hyper-iter hyper-tokio hyper-send hyper-smol smol-raw axum-mpsc axum-sse"}
IDLE_MODES=${LOAD_IDLE_MODES-"hyper-tokio hyper-smol smol-raw axum-sse ceiling"}
CHURN_MODES=${LOAD_CHURN_MODES-"hyper-tokio hyper-smol smol-raw axum-sse"}
SERVER_FLAGS=${LOAD_SERVER_FLAGS:-}
THREADS=${LOAD_THREADS:-1}

cargo build --release --quiet --features hyper,smol,tokio --example load_server --example load
BIN=target/release/examples
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((IDLE + 200)) ]; then
    echo "ulimit -n is $(ulimit -n): too low for $IDLE streams; set LOAD_SCALE" >&2
    exit 1
fi
WORK=$(mktemp -d)
SERVER_PID=
SERVER_PIDS=()
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "# load.sh $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git rev-parse --short HEAD)"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); scale 1/$SCALE, repeat $REPEAT"

# start_server MODE [FLAGS...]: sets URL and SERVER_PID.
start_server() {
    local mode=$1
    shift
    # shellcheck disable=SC2086
    "$BIN/load_server" --mode "$mode" --max-secs 300 --threads "$THREADS" $SERVER_FLAGS "$@" \
        >"$WORK/server-$mode.out" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        URL=$(grep -o 'http://[0-9.:]*' "$WORK/server-$mode.out" || true)
        if [ -n "$URL" ]; then return 0; fi
        sleep 0.1
    done
    echo "load_server --mode $mode did not start" >&2
    cat "$WORK/server-$mode.out" >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

stats() { curl -s --max-time 5 "$URL/stats"; }
# field KEY TEXT: the value of KEY=value in TEXT.
field() { grep -o "$1=[^ ]*" <<<"$2" | head -1 | cut -d= -f2; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
client() { "$BIN/load" --url "$URL" --deadline 60 "$@" | tail -1; }

# ---- Throughput -----------------------------------------------------------------------
# Every mode's server runs at once, idle while another is measured, and the runs are
# interleaved (each repeat measures every mode in turn), so that the load of a shared
# machine, which drifts over a minute, weighs on every mode alike.
declare -A ONE_EPS MANY_EPS ONE_LAT MANY_LAT URLS PIDS ONE_RUNS MANY_RUNS ONE_CPU MANY_CPU
# cpu_ns PID: the CPU time its threads have used so far, in nanoseconds (schedstat).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.0f", t }'; }
# per_event NS_BEFORE NS_AFTER EVENTS: nanoseconds per event.
per_event() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.0f", (b - a) / n }'; }
for mode in $MODES; do
    start_server "$mode"
    URLS[$mode]=$URL
    PIDS[$mode]=$SERVER_PID
    SERVER_PIDS+=("$SERVER_PID")
    SERVER_PID=
    client --connections 1 --events-per-connection $((ONE / 10)) >/dev/null # warm-up
done
for _ in $(seq "$REPEAT"); do
    for mode in $MODES; do
        URL=${URLS[$mode]}
        t0=$(cpu_ns "${PIDS[$mode]}")
        ONE_RUNS[$mode]+="$(client --connections 1 --events-per-connection "$ONE")"$'\n'
        t1=$(cpu_ns "${PIDS[$mode]}")
        MANY_RUNS[$mode]+="$(client --connections "$MANY" --events-per-connection "$PER")"$'\n'
        t2=$(cpu_ns "${PIDS[$mode]}")
        ONE_CPU[$mode]+="$(per_event "$t0" "$t1" "$ONE") "
        MANY_CPU[$mode]+="$(per_event "$t1" "$t2" "$((MANY * PER))") "
    done
done
for pid in "${SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
SERVER_PIDS=()
for mode in $MODES; do
    mapfile -t one <<<"${ONE_RUNS[$mode]%$'\n'}"
    mapfile -t many <<<"${MANY_RUNS[$mode]%$'\n'}"
    for run in "${one[@]}" "${many[@]}"; do
        if [ "$(field failed "$run")" != 0 ] || [ "$(field deadline_hit "$run")" != false ]; then
            echo "warning: $mode: $run" >&2
        fi
    done
    ONE_EPS[$mode]=$(for r in "${one[@]}"; do field events_per_s "$r"; done | median)
    MANY_EPS[$mode]=$(for r in "${many[@]}"; do field events_per_s "$r"; done | median)
    ONE_LAT[$mode]=$(for r in "${one[@]}"; do echo "$(field p50_ms "$r")/$(field p99_ms "$r")"; done | median)
    MANY_LAT[$mode]=$(for r in "${many[@]}"; do echo "$(field p50_ms "$r")/$(field p99_ms "$r")"; done | median)
    ONE_CPU[$mode]=$(printf '%s\n' ${ONE_CPU[$mode]} | median)
    MANY_CPU[$mode]=$(printf '%s\n' ${MANY_CPU[$mode]} | median)
    printf "# $mode: %s\n" "${one[@]}" "${many[@]}" >&2
done
echo "# load after throughput: $(cut -d' ' -f1-3 /proc/loadavg)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mev() { awk -v a="$1" 'BEGIN { printf "%.2f", a / 1e6 }'; }
echo
echo "## Throughput: millions of events/s (median of $REPEAT), latency p50/p99 ms of that run set"
echo
echo "Ratios: against axum's \`Sse\` fed over a tokio mpsc channel (axum-mpsc, the fair comparator"
echo "for a producer task), against sse-pump's body fed by an iterator (hyper-iter), and against"
echo "the ceiling. hyper-tokio's producer sends \`Batch\`es of 32, hyper-send's one event per \`send\`;"
echo "hyper-send vs batch: $(ratio "${ONE_EPS[hyper-send]:-0}" "${ONE_EPS[hyper-tokio]:-0}") (1x), $(ratio "${MANY_EPS[hyper-send]:-0}" "${MANY_EPS[hyper-tokio]:-0}") (${MANY}x) in events/s,"
echo "$(ratio "${ONE_CPU[hyper-tokio]:-0}" "${ONE_CPU[hyper-send]:-0}") and $(ratio "${MANY_CPU[hyper-tokio]:-0}" "${MANY_CPU[hyper-send]:-0}") in server CPU per event."
echo
echo "| server | 1 x $ONE | 1x p50/p99 ms | $MANY x $PER | ${MANY}x p50/p99 ms | 1x vs axum-mpsc | 1x vs iter | 1x vs ceiling | ${MANY}x vs axum-mpsc | ${MANY}x vs iter | ${MANY}x vs ceiling |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for mode in $MODES; do
    echo "| $mode | $(mev "${ONE_EPS[$mode]}") | ${ONE_LAT[$mode]} | $(mev "${MANY_EPS[$mode]}") | ${MANY_LAT[$mode]} \
| $(ratio "${ONE_EPS[$mode]}" "${ONE_EPS[axum-mpsc]:-0}") | $(ratio "${ONE_EPS[$mode]}" "${ONE_EPS[hyper-iter]:-0}") | $(ratio "${ONE_EPS[$mode]}" "${ONE_EPS[ceiling]:-0}") \
| $(ratio "${MANY_EPS[$mode]}" "${MANY_EPS[axum-mpsc]:-0}") | $(ratio "${MANY_EPS[$mode]}" "${MANY_EPS[hyper-iter]:-0}") | $(ratio "${MANY_EPS[$mode]}" "${MANY_EPS[ceiling]:-0}") |"
done

echo
echo "Server CPU time (its threads' time on a CPU, from /proc schedstat) per event, median of $REPEAT: less noisy than"
echo "events/s on a shared machine, where the load client competes for the same cores."
echo
echo "Ratios as above: the other's time over this one's, so 5.00 means a fifth of the CPU."
echo
echo "| server | 1x ns/event | ${MANY}x ns/event | 1x vs axum-mpsc | ${MANY}x vs axum-mpsc | 1x vs iter | ${MANY}x vs iter |"
echo "|---|---|---|---|---|---|---|"
for mode in $MODES; do
    echo "| $mode | ${ONE_CPU[$mode]} | ${MANY_CPU[$mode]} \
| $(ratio "${ONE_CPU[axum-mpsc]:-0}" "${ONE_CPU[$mode]}") | $(ratio "${MANY_CPU[axum-mpsc]:-0}" "${MANY_CPU[$mode]}") \
| $(ratio "${ONE_CPU[hyper-iter]:-0}" "${ONE_CPU[$mode]}") | $(ratio "${MANY_CPU[hyper-iter]:-0}" "${MANY_CPU[$mode]}") |"
done

# ---- Idle memory ----------------------------------------------------------------------
echo
echo "## Idle: $IDLE streams of /idle held, server RSS delta / streams (run 1, run 2, ...)"
echo
echo "| server | bytes per stream | heap bytes per stream | streams seen | after release: streams, fds |"
echo "|---|---|---|---|---|"
declare -A IDLE_B
for mode in $IDLE_MODES; do
    per=() heap=() seen="" after=""
    for _ in $(seq "$IDLE_REPEAT"); do
        start_server "$mode" --heap
        client --hold --connections 200 --hold-secs 0 >/dev/null # warm-up
        sleep 0.5
        before=$(stats)
        "$BIN/load" --url "$URL" --deadline 90 --hold --connections "$IDLE" --hold-secs 3 \
            >"$WORK/hold.out" 2>&1 &
        hold_pid=$!
        for _ in $(seq 600); do
            if grep -q holding "$WORK/hold.out"; then break; fi
            sleep 0.1
        done
        sleep 0.5
        during=$(stats)
        wait "$hold_pid" || echo "warning: hold client: $(tail -2 "$WORK/hold.out")" >&2
        sleep 1
        released=$(stats)
        stop_server
        streams=$(field streams "$during")
        per+=("$(( ($(field rss_kib "$during") - $(field rss_kib "$before")) * 1024 / IDLE ))")
        heap+=("$(( ($(field heap_bytes "$during") - $(field heap_bytes "$before")) / IDLE ))")
        seen+="$streams "
        after+="$(field streams "$released"), $(( $(field fds "$released") - $(field fds "$before") )); "
    done
    IDLE_B[$mode]=$(printf '%s\n' "${per[@]}" | median)
    echo "| $mode | ${per[*]} | ${heap[*]} | $seen | $after |"
done
if [ -n "${IDLE_B[axum-sse]:-}" ]; then
    echo
    for mode in hyper-tokio hyper-smol smol-raw; do
        if [ -n "${IDLE_B[$mode]:-}" ]; then
            echo "- $mode / axum-sse (median RSS per stream): $(ratio "${IDLE_B[$mode]}" "${IDLE_B[axum-sse]}")"
        fi
    done
fi
echo "# load after idle: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- Churn ----------------------------------------------------------------------------
echo
echo "## Churn: $CHURN cycles of connect / read 3 events / disconnect, 32 at a time"
echo
echo "| server | path | cycles ok/failed | secs | left: producers, streams, conns | fds vs warm-up | RSS KiB warm-up -> after | RSS change |"
echo "|---|---|---|---|---|---|---|---|"
for mode in $CHURN_MODES; do
    for path in "/events?n=1000000000" "/idle"; do
        per=3
        if [ "$path" = /idle ]; then per=0; fi
        start_server "$mode"
        client --churn $((CHURN / 10)) --connections 32 --events-per-connection $per \
            --url "$URL$path" >/dev/null # warm-up
        sleep 1
        before=$(stats)
        run=$(client --churn "$CHURN" --connections 32 --events-per-connection $per --url "$URL$path")
        sleep 1
        after=$(stats)
        stop_server
        rss0=$(field rss_kib "$before") rss1=$(field rss_kib "$after")
        # The stats request itself is the one connection left.
        echo "| $mode | ${path%%\?*} | $(field ok "$run")/$(field failed "$run") | $(field secs "$run") \
| $(field producers "$after"), $(field streams "$after"), $(( $(field conns "$after") - 1 )) \
| $(( $(field fds "$after") - $(field fds "$before") )) | $rss0 -> $rss1 \
| $(awk -v a="$rss0" -v b="$rss1" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }') |"
    done
done
echo
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
