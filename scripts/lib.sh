# lib.sh: shell helpers shared by scripts/bench, its rows in scripts/bench.d/ and scripts/floor-runs.
# Source it from bash (set -euo pipefail friendly); it defines functions and a few variables only:
#
#   ROOT            the repository root
#   BIN             where zk_build puts the tools ($ROOT/bin)
#   ZK_TMP          a private temporary directory, removed by zk_cleanup
#   PING_CPU, PONG_CPU   the two polling cores (default 0 and 1; override in the environment)
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
#   zk_field LINE KEY        the value of KEY=value in LINE
#   zk_load                  one line on the machine's load, for the record
#   zk_log MSG...            a message on stderr

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

zk_field() {
	local line=$1 key=$2
	sed -n "s/.*[[:space:]]$key=\([^[:space:]]*\).*/\1/p; s/^$key=\([^[:space:]]*\).*/\1/p" <<<"$line" | head -1
}

zk_load() {
	local busy
	busy=$(top -bn1 -w 200 | awk 'NR > 7 && $9 + 0 >= 10 { printf "%s(%s%%) ", $12, $9 }')
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg); busy processes: ${busy:-none}"
}
