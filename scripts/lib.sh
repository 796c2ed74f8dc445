# lib.sh: shell helpers shared by scripts/bench, its rows in scripts/bench.d/ and scripts/floor-runs.
# Source it from bash (set -euo pipefail friendly); it defines functions and a few variables only:
#
#   ROOT            the repository root
#   BIN             where zk_build puts the tools ($ROOT/bin)
#   ZK_TMP          a private temporary directory, removed by zk_cleanup
#   PING_CPU, PONG_CPU   the two polling cores (default 0 and 1; override in the environment)
#   ZK_TCP_ATTR     extra attributes for the stacks of the TCP rows, in ZF_ATTR's syntax
#                   ("tcp_delayed_ack=0;tcp_rto_min_ms=20"); set by the caller, default none
#
#   zk_build                 go build -o $BIN/ ./cmd/... (once per process)
#   zk_setup                 scripts/setup (DPDK, hugepages), quietly unless it fails
#   zk_bg NAME CMD...        start CMD in the background, output to $ZK_TMP/NAME.log; remembered
#                            for zk_cleanup; its pid is in ZK_LAST_PID
#   zk_wait PID [SECONDS]    wait for a background process to exit (default 10 s), then kill it
#   zk_sock NAME             a memif socket name unique to this run (abstract: leaves no file; a
#                            path socket with socket-abstract=no would be removed by zk_cleanup)
#   zk_reap                  kill every process zk_bg started (by pid) that is still running
#   zk_cleanup               zk_reap, then remove sockets and ZK_TMP; install it with:
#                            trap zk_cleanup EXIT
#   zk_tcp_attr ATTR         ATTR (a ZF_ATTR string) followed by ZK_TCP_ATTR's attributes, which
#                            so override the row's own
#   zk_field LINE KEY        the value of KEY=value in LINE
#   zk_load                  one line on the machine's load, for the record
#   zk_log MSG...            a message on stderr
#   zk_kernel_sockperf ROW FLAG NET PORT SECS_PER_RT
#                            Linux's own ping-pong for a kernel-* row: sockperf sr / pp
#                            --nonblocked (FLAG "" or --tcp) between two namespaces joined by a
#                            veth on 198.18.NET.0/24, about N round trips; prints row=ROW rtt_ns …

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BIN=${BIN:-$ROOT/bin}
PING_CPU=${PING_CPU:-0}
PONG_CPU=${PONG_CPU:-1}
ZK_TMP=${ZK_TMP:-$(mktemp -d /tmp/zocket-bench.XXXXXX)}
ZK_PIDS=()
ZK_SOCKS=()
ZK_BUILT=${ZK_BUILT:-}

zk_log() { echo "$*" >&2; }

zk_build() {
	[ -n "$ZK_BUILT" ] && return 0
	mkdir -p "$BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || { zk_log "build failed"; return 1; }
	ZK_BUILT=1
}

zk_setup() {
	local out
	if ! out=$("$ROOT/scripts/setup" 2>&1); then
		zk_log "$out"
		return 1
	fi
	zk_log "$out"
}

zk_bg() {
	local name=$1
	shift
	"$@" >"$ZK_TMP/$name.log" 2>&1 &
	ZK_LAST_PID=$!
	ZK_PIDS+=("$ZK_LAST_PID")
}

zk_wait() {
	local pid=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		sleep 0.5
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

zk_sock() {
	local s=/run/zocket/bench-$$-$1.sock
	ZK_SOCKS+=("$s")
	echo "$s"
}

zk_reap() {
	local pid
	for pid in "${ZK_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${ZK_PIDS[@]}"; do
		zk_wait "$pid" 3
	done
	ZK_PIDS=()
}

zk_cleanup() {
	local s
	zk_reap
	for s in "${ZK_SOCKS[@]}"; do
		rm -f "$s"
	done
	ZK_SOCKS=()
	[ -n "${ZK_TMP:-}" ] && [ -d "$ZK_TMP" ] && rm -rf "$ZK_TMP"
	return 0
}

zk_tcp_attr() {
	if [ -n "${ZK_TCP_ATTR:-}" ]; then
		echo "$1;$ZK_TCP_ATTR"
	else
		echo "$1"
	fi
}

zk_field() {
	local line=$1 key=$2
	sed -n "s/.*[[:space:]]$key=\([^[:space:]]*\).*/\1/p; s/^$key=\([^[:space:]]*\).*/\1/p" <<<"$line" | head -1
}

zk_load() {
	local busy
	busy=$(top -bn1 -w 200 | awk 'NR > 7 && $9 + 0 >= 10 { printf "%s(%s%%) ", $12, $9 }')
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg); busy processes: ${busy:-none}"
}

# sockperf_rtt converts sockperf pp --full-rtt output (µs) into the rtt_ns line.
sockperf_rtt() {
	awk '
	{ gsub(/\033\[[0-9;]*m/, "") }
	/Total [0-9]+ observations/ { for (i = 1; i <= NF; i++) if ($i == "Total") n = $(i + 1) }
	/avg-rtt=/ { sub(/.*avg-rtt=/, ""); sub(/ .*/, ""); mean = $0 }
	/<MAX> observation/ { max = $NF }
	/<MIN> observation/ { min = $NF }
	/percentile 50.000/ { p50 = $NF }
	/percentile 99.000/ { p99 = $NF }
	/percentile 99.900/ { p999 = $NF }
	END {
		if (n == "" || p50 == "") exit 1
		printf "rtt_ns n=%d min=%d mean=%d p50=%d p99=%d p999=%d max=%d\n", n, min * 1000, mean * 1000, p50 * 1000, p99 * 1000, p999 * 1000, max * 1000
	}'
}

zk_kernel_sockperf() {
	local row=$1 flag=$2 net=$3 port=$4 per=$5
	local ns1=zkk$$a$net ns2=zkk$$b$net v1=zkk$$x$net v2=zkk$$y$net srv secs out
	# Namespaces and veth are removed however the row ends.
	trap "ip netns del $ns1 2>/dev/null; ip netns del $ns2 2>/dev/null; trap - RETURN" RETURN
	ip netns add "$ns1" && ip netns add "$ns2" || return 1
	ip link add "$v1" netns "$ns1" type veth peer name "$v2" netns "$ns2" || return 1
	ip -n "$ns1" addr add "198.18.$net.1/24" dev "$v1"
	ip -n "$ns2" addr add "198.18.$net.2/24" dev "$v2"
	ip -n "$ns1" link set "$v1" up
	ip -n "$ns2" link set "$v2" up
	ip -n "$ns1" link set lo up
	ip -n "$ns2" link set lo up
	secs=$(awk -v n="$N" -v per="$per" 'BEGIN { s = int(n * per + 0.999); if (s < 2) s = 2; print s }')
	# shellcheck disable=SC2086
	zk_bg "$row-sr" ip netns exec "$ns1" taskset -c "$PONG_CPU" sockperf sr $flag -i "198.18.$net.1" -p "$port" --nonblocked
	srv=$ZK_LAST_PID
	sleep 0.5
	# shellcheck disable=SC2086
	out=$(ip netns exec "$ns2" taskset -c "$PING_CPU" sockperf pp $flag -i "198.18.$net.1" -p "$port" --nonblocked \
		-m 64 -t "$secs" --full-rtt 2>&1) || {
		echo "$out" >&2
		return 1
	}
	kill -TERM "$srv" 2>/dev/null
	zk_wait "$srv" 5
	grep -E 'avg-rtt|percentile (50|99)\.' <<<"$out" >&2 || true
	out=$(sockperf_rtt <<<"$out") || {
		echo "$out" >&2
		return 1
	}
	echo "row=$row $out"
}
