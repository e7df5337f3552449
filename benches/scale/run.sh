#!/usr/bin/env bash
# The scale harness (issue 22): many idle SSE streams of one Redis-backed hub on one machine.
#
#   bash benches/scale/run.sh                                   # 10,000 streams, smol-raw
#   SCALE_MODE=hyper-tokio SCALE_STREAMS=100000 bash benches/scale/run.sh
#   SCALE_STREAMS=2000 SCALE_PROCS=2 SCALE_CHECK=1 bash benches/scale/run.sh   # CI's smoke run
#
# It starts a redis-server on loopback (a free port, no persistence), SCALE_PROCS server
# processes of examples scale_server (benches/scale/server.rs) sharing one port with
# SO_REUSEPORT, and client processes of scale_client (benches/scale/client.rs), each from its
# own source address 127.0.0.2, .3, ... (at most SCALE_PER_CLIENT streams each: a process may
# open 20,000 files, and one source address has ip_local_port_range's ports). Then:
#
# 1. accept: the time until every stream is open (accept rate = streams / that time);
# 2. memory: the servers' RSS delta per stream (and the clients');
# 3. idle CPU: the servers' CPU time over SCALE_IDLE_SECS with the default 15 s keep-alive
#    (SCALE_PING_MS);
# 4. fan-out: SCALE_EVENTS events, one at a time, published on the hub (through Redis), and
#    the time until each reached every stream: p50, p99 and last, over the streams;
# 5. storm (SCALE_STORM=1, at least 2 processes): kill -9 of the server process holding the
#    most streams; every
#    client of it reconnects (after its retry time with jitter) with its Last-Event-ID to the
#    others while events keep coming; reports the time until the last resumed, the
#    survivors' peak RSS and CPU, and Redis's commands per second (total_commands_processed
#    over the storm); then one more event, read by every stream;
# 6. shutdown (SCALE_SHUTDOWN=1): `Shutdown` of the first surviving process (GET /shutdown):
#    the farewells counted by the clients against its streams, and its time to exit.
#
# Each client checks every stream's events (in order, each once, no reset); SCALE_CHECK=1
# makes the script exit 1 on any loss, duplicate, reset, failed open or step that did not
# finish. Every process has a deadline, every wait a time limit, and the trap kills
# everything the script started on exit. Loopback only.
#
# Knobs: SCALE_MODE (smol-raw | hyper-tokio), SCALE_STREAMS (10000), SCALE_PROCS (default:
# one per 13,000 streams, at least 2), SCALE_PER_CLIENT (18000), SCALE_IDLE_SECS (30),
# SCALE_EVENTS (5), SCALE_STORM (1), SCALE_SHUTDOWN (1), SCALE_RAMP (connects in flight per
# client, 100), SCALE_HISTORY (the hub's history, 10000), SCALE_PING_MS (the keep-alive,
# 15000), SCALE_BIN (a directory with the two binaries; default: built here).
set -euo pipefail
cd "$(dirname "$0")/../.."

MODE=${SCALE_MODE:-smol-raw}
STREAMS=${SCALE_STREAMS:-10000}
# 13,000 streams a process: SO_REUSEPORT spread them unevenly here (the last listener of
# 3 got 11,067 of 30,000), and after a storm the survivors must stay under 20,000 files.
PROCS=${SCALE_PROCS:-$(((STREAMS + 12999) / 13000 > 2 ? (STREAMS + 12999) / 13000 : 2))}
PER_CLIENT=${SCALE_PER_CLIENT:-18000}
CLIENTS=$(((STREAMS + PER_CLIENT - 1) / PER_CLIENT))
IDLE_SECS=${SCALE_IDLE_SECS:-30}
EVENTS=${SCALE_EVENTS:-5}
STORM=${SCALE_STORM:-1}
SHUTDOWN=${SCALE_SHUTDOWN:-1}
RAMP=${SCALE_RAMP:-100}
HISTORY=${SCALE_HISTORY:-10000}
CHECK=${SCALE_CHECK:-0}
PING_MS=${SCALE_PING_MS:-15000}
MAX_SECS=$((900 + STREAMS / 1000))
if [ "$STORM" = 1 ] && [ "$PROCS" -ge 2 ] && [ $((STREAMS / (PROCS - 1))) -gt 18500 ]; then
    echo "after the storm, each of $((PROCS - 1)) servers would hold $((STREAMS / (PROCS - 1))) streams: over 20,000 files with their overhead; more SCALE_PROCS" >&2
    exit 2
fi
if [ "$CLIENTS" -gt 250 ]; then
    echo "too many client processes ($CLIENTS) for 127.0.0.2-127.0.0.251" >&2
    exit 2
fi

if [ -z "${SCALE_BIN:-}" ]; then
    cargo build --release --quiet --features hyper,smol,tokio,redis \
        --example scale_server --example scale_client
fi
BIN=${SCALE_BIN:-target/release/examples}
ulimit -n "$(ulimit -Hn)"
WORK=$(mktemp -d /tmp/scale.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILED=()
fail() {
    echo "FAIL: $*" >&2
    FAILED+=("$*")
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,; }
field() { grep -o "\b$1=[^ ]*" <<<"$2" | head -1 | cut -d= -f2; }
now_ms() { date +%s%3N; }
HZ=$(getconf CLK_TCK)
cpu_ticks() { for pid in "$@"; do cut -d' ' -f14,15 /proc/"$pid"/stat 2>/dev/null || true; done | awk '{ t += $1 + $2 } END { print t + 0 }'; }
rss_kib() { for pid in "$@"; do awk '/^VmRSS:/ { print $2 }' /proc/"$pid"/status 2>/dev/null || true; done | awk '{ t += $1 } END { print t + 0 }'; }
# sum KEY: the sum of KEY over every client's status line.
sum() { cat "$WORK"/c*.status 2>/dev/null | grep -o "\b$1=[0-9]*" | cut -d= -f2 | awk '{ t += $1 } END { print t + 0 }'; }
# max_of KEY: the largest KEY over the clients.
max_of() { cat "$WORK"/c*.status 2>/dev/null | grep -o "\b$1=[0-9]*" | cut -d= -f2 | sort -n | tail -1; }
# wait_for SECS COMMAND...: runs COMMAND every 0.2 s until it succeeds; false after SECS.
wait_for() {
    local until=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        if [ "$(now_ms)" -gt "$until" ]; then return 1; fi
        sleep 0.2
    done
}

echo "# scale/run.sh $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git rev-parse --short HEAD 2>/dev/null || echo -)"
echo "# mode=$MODE streams=$STREAMS server_procs=$PROCS client_procs=$CLIENTS ping_ms=$PING_MS load=$(loadavg)"

# ---- Redis --------------------------------------------------------------------------------
REDIS_PORT=
for _ in $(seq 20); do
    port=$((20000 + RANDOM % 20000))
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --maxclients 4000 --logfile "$WORK/redis.log" >/dev/null 2>&1 &
    pid=$!
    if wait_for 5 redis-cli -p "$port" ping >/dev/null 2>&1; then
        REDIS_PORT=$port PIDS+=("$pid")
        break
    fi
    kill -9 "$pid" 2>/dev/null || true
done
[ -n "$REDIS_PORT" ] || { echo "no redis-server started" >&2; exit 1; }
redis_stat() { redis-cli -p "$REDIS_PORT" info stats | tr -d '\r' | grep "^$1:" | cut -d: -f2; }

# ---- Servers ------------------------------------------------------------------------------
SERVERS=() CONTROLS=() OUTS=()
start_server() {
    local i=$1 port=$2
    "$BIN/scale_server" --mode "$MODE" --port "$port" --redis "redis://127.0.0.1:$REDIS_PORT" \
        --history "$HISTORY" --ping-ms "$PING_MS" --max-secs "$MAX_SECS" >"$WORK/server-$i.out" 2>&1 &
    SERVERS+=("$!") PIDS+=("$!") OUTS+=("$WORK/server-$i.out")
    wait_for 10 grep -qs control "$WORK/server-$i.out" || { echo "server $i did not start" >&2; cat "$WORK/server-$i.out" >&2; exit 1; }
    CONTROLS+=("$(grep -o 'control http://[0-9.:]*' "$WORK/server-$i.out" | cut -d' ' -f2)")
}
start_server 1 0
PORT=$(grep -o 'listening on http://[0-9.:]*' "$WORK/server-1.out" | grep -o '[0-9]*$')
for i in $(seq 2 "$PROCS"); do start_server "$i" "$PORT"; done
stats() { curl -s --max-time 10 "$1/stats"; }
server_sum() {
    local total=0
    for control in "${CONTROLS[@]}"; do total=$((total + $(field "$1" "$(stats "$control")"))); done
    echo "$total"
}
RSS0=$(rss_kib "${SERVERS[@]}")

# ---- Clients and accept rate --------------------------------------------------------------
T0=$(now_ms)
for i in $(seq "$CLIENTS"); do
    n=$((STREAMS / CLIENTS + (i <= STREAMS % CLIENTS ? 1 : 0)))
    "$BIN/scale_client" --url "http://127.0.0.1:$PORT" --source "127.0.0.$((i + 1))" \
        --connections "$n" --ramp "$RAMP" --deadline "$MAX_SECS" --out "$WORK/c$i" \
        >"$WORK/client-$i.out" 2>&1 &
    PIDS+=("$!")
done
all_open() { [ "$(sum open)" -ge "$STREAMS" ]; }
if ! wait_for $((60 + STREAMS / 1000)) all_open; then
    fail "only $(sum open) of $STREAMS streams opened: $(cat "$WORK"/c*.status | grep -m1 'first_error=.')"
fi
T1=$(now_ms)
OPEN=$(sum open)
echo "accept: $OPEN streams open in $((T1 - T0)) ms: $(awk -v n="$OPEN" -v t=$((T1 - T0)) 'BEGIN { printf "%.0f", n * 1000 / t }') streams/s (load $(loadavg))"

# ---- Memory ---------------------------------------------------------------------------------
sleep 2
RSS1=$(rss_kib "${SERVERS[@]}")
CLIENT_RSS=$(sum rss_kib)
echo "memory: servers $((RSS1 - RSS0)) KiB for $OPEN streams: $(((RSS1 - RSS0) * 1024 / (OPEN > 0 ? OPEN : 1))) B per stream; clients $((CLIENT_RSS * 1024 / (OPEN > 0 ? OPEN : 1))) B per stream (load $(loadavg))"

per_server() {
    local counts=""
    for control in "${CONTROLS[@]}"; do counts+="$(field streams "$(stats "$control")") "; done
    echo "$counts"
}
echo "streams per server: $(per_server)"

# ---- Idle CPU -------------------------------------------------------------------------------
C0=$(cpu_ticks "${SERVERS[@]}")
L0=$(loadavg)
sleep "$IDLE_SECS"
C1=$(cpu_ticks "${SERVERS[@]}")
awk -v t=$((C1 - C0)) -v hz="$HZ" -v s="$IDLE_SECS" -v n="$OPEN" -v p="$PING_MS" -v l0="$L0" -v l1="$(loadavg)" 'BEGIN {
    cpu = t / hz; pings = n * s * 1000 / p
    printf "idle: %.2f CPU s in %d s = %.2f%% of a core; %.0f pings: %.2f us per ping (load %s -> %s)\n",
        cpu, s, cpu * 100 / s, pings, (pings > 0 ? cpu * 1e6 / pings : 0), l0, l1 }'

# ---- Fan-out latency ------------------------------------------------------------------------
SEQ=0
got() { cat "$WORK"/c*.lat."$1" 2>/dev/null | wc -l; }
# reached SEQ WANT: whether WANT streams have read SEQ.
reached() { [ "$(got "$1")" -ge "$2" ]; }
# latency SEQ WANT: waits until WANT streams have read SEQ, then prints p50/p99/last in ms
# over them (LATENCY); a failure if they do not within 60 s.
latency() {
    if ! wait_for 60 reached "$1" "$2"; then fail "event $1 reached $(got "$1") of $2 streams"; fi
    LATENCY=$(cat "$WORK"/c*.lat."$1" | sort -n | awk '{ a[NR] = $1 } END {
        printf "n=%d p50_ms=%.1f p99_ms=%.1f last_ms=%.1f", NR, a[int(NR * 0.5 + 0.5)] / 1000, a[int(NR * 0.99 + 0.5)] / 1000, a[NR] / 1000 }')
}
publish() {
    SEQ=$((SEQ + 1))
    curl -s --max-time 10 "$1/publish?seq=$SEQ" | grep -q '^id=' || fail "publish $SEQ refused"
}
for _ in $(seq "$EVENTS"); do
    publish "${CONTROLS[0]}"
    latency "$SEQ" "$OPEN"
    echo "fan-out: event $SEQ: $LATENCY (load $(loadavg))"
    sleep 1
done

checks() {
    local bad=""
    for key in lost dup resets errors; do
        if [ "$(sum "$key")" != 0 ]; then bad+=" $key=$(sum "$key")"; fi
    done
    echo "${bad:- none}"
}
PROBLEMS=$(checks)
echo "check after fan-out: problems:$PROBLEMS"
[ "$PROBLEMS" = " none" ] || fail "after fan-out:$PROBLEMS"

# ---- Reconnect storm ------------------------------------------------------------------------
if [ "$STORM" = 1 ] && [ "$PROCS" -ge 2 ]; then
    # The victim: the process holding the most streams; the rest survive.
    read -r -a COUNTS <<<"$(per_server)"
    V=0
    for i in "${!COUNTS[@]}"; do if [ "${COUNTS[$i]}" -gt "${COUNTS[$V]}" ]; then V=$i; fi; done
    VICTIM=${SERVERS[$V]} HELD=${COUNTS[$V]}
    SURVIVORS=("${SERVERS[@]:0:$V}" "${SERVERS[@]:$((V + 1))}")
    CONTROLS=("${CONTROLS[@]:0:$V}" "${CONTROLS[@]:$((V + 1))}")
    OUTS=("${OUTS[@]:0:$V}" "${OUTS[@]:$((V + 1))}")
    SERVERS=("${SURVIVORS[@]}")
    R0=$(redis_stat total_commands_processed)
    RESUMED0=$(sum resumed)
    C0=$(cpu_ticks "${SURVIVORS[@]}")
    PEAK_RSS=0 PEAK_OPS=0 PEAK_CPU=0 FIRST_SEQ=$((SEQ + 1))
    K0=$(now_ms)
    kill -9 "$VICTIM"
    wait "$VICTIM" 2>/dev/null || true
    T_KILL_NS=$(date +%s%N)
    # Events keep coming during the storm (5 a second): the resumed must catch up.
    last_tick=$(cpu_ticks "${SURVIVORS[@]}") last_ms=$(now_ms)
    until [ "$(( $(sum resumed) - RESUMED0 ))" -ge "$HELD" ] && all_open; do
        if [ $(($(now_ms) - K0)) -gt $((120000 + HELD * 2)) ]; then
            fail "storm: $(( $(sum resumed) - RESUMED0 )) of $HELD resumed, $(sum open) open"
            break
        fi
        publish "${CONTROLS[0]}"
        rss=$(rss_kib "${SURVIVORS[@]}") ops=$(redis_stat instantaneous_ops_per_sec)
        tick=$(cpu_ticks "${SURVIVORS[@]}") ms=$(now_ms)
        cpu=$(((tick - last_tick) * 100000 / HZ / (ms - last_ms > 0 ? ms - last_ms : 1)))
        last_tick=$tick last_ms=$ms
        PEAK_RSS=$((rss > PEAK_RSS ? rss : PEAK_RSS)) PEAK_OPS=$((ops > PEAK_OPS ? ops : PEAK_OPS))
        PEAK_CPU=$((cpu > PEAK_CPU ? cpu : PEAK_CPU))
        sleep 0.2
    done
    K1=$(now_ms)
    R1=$(redis_stat total_commands_processed)
    C1=$(cpu_ticks "${SURVIVORS[@]}")
    LAST_NS=$(max_of last_resume_ns)
    echo "storm: killed a process holding $HELD streams; $(( $(sum resumed) - RESUMED0 )) resumed, the last $(( (LAST_NS - T_KILL_NS) / 1000000 )) ms after the kill (load $(loadavg))"
    echo "storm: survivors peak RSS $((PEAK_RSS / 1024)) MiB (before: $((RSS1 / 1024)) MiB for all $PROCS), CPU $(awk -v t=$((C1 - C0)) -v hz="$HZ" -v ms=$((K1 - K0)) 'BEGIN { printf "%.0f", t / hz * 100000 / ms }')% of a core on average over $((K1 - K0)) ms, peak ${PEAK_CPU}% over 0.2 s"
    echo "storm: redis $((R1 - R0)) commands in $((K1 - K0)) ms ($(( (R1 - R0) * 1000 / (K1 - K0 > 0 ? K1 - K0 : 1) ))/s, peak instantaneous_ops_per_sec $PEAK_OPS) for $HELD resumed clients and $((SEQ - FIRST_SEQ + 1)) events published"
    publish "${CONTROLS[0]}"
    latency "$SEQ" "$STREAMS"
    echo "storm: after it, event $SEQ: $LATENCY"
    PROBLEMS=$(checks)
    echo "check after storm: problems:$PROBLEMS; streams per server: $(per_server)"
    [ "$PROBLEMS" = " none" ] || fail "after the storm:$PROBLEMS"
fi

# ---- Graceful shutdown ----------------------------------------------------------------------
if [ "$SHUTDOWN" = 1 ]; then
    TARGET=${SERVERS[0]}
    HELD=$(field streams "$(stats "${CONTROLS[0]}")")
    F0=$(sum farewells)
    curl -s --max-time 10 "${CONTROLS[0]}/shutdown" >/dev/null
    if ! wait_for 30 grep -q '^shutdown' "${OUTS[0]}"; then fail "shutdown: no exit"; fi
    sleep 2 # the clients' status files are a second old at most
    LINE=$(grep '^shutdown' "${OUTS[0]}" || true)
    FAREWELLS=$(($(sum farewells) - F0))
    echo "shutdown: $LINE; farewells read by clients: $FAREWELLS of $HELD (load $(loadavg))"
    if [ "$FAREWELLS" -lt "$HELD" ] || [ "$(field left "$LINE")" != 0 ]; then fail "shutdown: $FAREWELLS farewells of $HELD, $LINE"; fi
    if kill -0 "$TARGET" 2>/dev/null; then fail "shutdown: the process is still running"; fi
fi

for key in lost dup resets; do
    if [ "$(sum "$key")" != 0 ]; then fail "$key=$(sum "$key")"; fi
done
echo "# done: ${#FAILED[@]} failures (load $(loadavg))"
if [ "$CHECK" = 1 ] && [ "${#FAILED[@]}" -gt 0 ]; then exit 1; fi
