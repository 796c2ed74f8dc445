# tcp.sh: TCP rows (tcp/, cmd/zftcppingpong).
#   tcp         zftcppingpong pong (PONG_CPU) and ping (PING_CPU) over net_memif between two
#               processes, 64-byte messages, N round trips
#   tcp-bare    the tcp row with TCP's options off (tcp_sack=0, tcp_timestamps=0,
#               tcp_window_scaling=0: TCPDirect's bare 20-byte headers), to read their cost
#   kernel-tcp  Linux TCP between two network namespaces over a veth (198.18.201.0/24):
#               sockperf sr --tcp and sockperf pp --tcp --nonblocked (busy-polling), 64-byte
#               messages, about N round trips (sockperf runs for a time: N × 8 µs, at least
#               2 s); its --full-rtt percentiles become the rtt_ns line (zk_kernel_sockperf, lib.sh)
#   tcp-bulk    zftcppingpong -bulk (PING_CPU) → -sink (PONG_CPU) over net_memif for DURATION
#               seconds, one core each side; row=tcp-bulk gbps=… from the receiver
# The stacks of every TCP row (these, alts, tcp-loss) take ZK_TCP_ATTR's attributes last
# (zk_tcp_attr, lib.sh), e.g. ZK_TCP_ATTR="tcp_delayed_ack=0" scripts/bench tcp.
ROWS+=(tcp tcp-bare kernel-tcp tcp-bulk)

tcp_attr() { # role ip mac sock [memif devargs, e.g. ,zero-copy=no]
	zk_tcp_attr "interface=net_memif0,role=$1,socket=$4${5:-};local_ip=$2/24;mac=$3;n_bufs=4095;max_tcp_endpoints=16"
}

# tcp_pingpong ROW PORT ITERATIONS PONG_FLAGS PING_FLAGS [MEMIF_ARGS]: zftcppingpong pong
# (PONG_CPU) and ping (PING_CPU) over net_memif, 64-byte messages, each with its extra flags
# (word-split), MEMIF_ARGS appended to both memif devargs; prints row=ROW rtt_ns …
tcp_pingpong() {
	local row=$1 port=$2 iter=$3 pong_flags=$4 ping_flags=$5 memif=${6:-} sock pong out
	sock=$(zk_sock "$row")
	# shellcheck disable=SC2086
	ZF_ATTR=$(tcp_attr server 198.18.0.1 02:00:00:00:00:01 "$sock" "$memif") \
		zk_bg "$row-pong" "$BIN/zftcppingpong" -v -c "$PONG_CPU" -s 64 $pong_flags pong "198.18.0.1:$port"
	pong=$ZK_LAST_PID
	# shellcheck disable=SC2086
	out=$(ZF_ATTR=$(tcp_attr client 198.18.0.2 02:00:00:00:00:02 "$sock" "$memif") \
		"$BIN/zftcppingpong" -v -c "$PING_CPU" -s 64 -i "$iter" $ping_flags ${ZK_HGRM:+-hgrm "$ZK_HGRM"} ping "198.18.0.1:$port" 2>"$ZK_TMP/$row-ping.log") || {
		cat "$ZK_TMP/$row-ping.log" "$ZK_TMP/$row-pong.log" >&2
		return 1
	}
	zk_wait "$pong" 10
	grep '^diag' "$ZK_TMP/$row-ping.log" "$ZK_TMP/$row-pong.log" >&2 || true
	grep -v '^rtt_ns ' <<<"$out" >&2 || true
	out=$(grep '^rtt_ns ' <<<"$out" | tail -1) || return 1
	echo "row=$row $out"
}

row_tcp() { tcp_pingpong tcp 20000 "$N" "" ""; }

row_tcp_bare() {
	ZK_TCP_ATTR="tcp_sack=0;tcp_timestamps=0;tcp_window_scaling=0${ZK_TCP_ATTR:+;$ZK_TCP_ATTR}" \
		tcp_pingpong tcp-bare 20002 "$N" "" ""
}

row_kernel_tcp() { zk_kernel_sockperf kernel-tcp --tcp 201 11112 8e-6; }

row_tcp_bulk() {
	local sock rx out
	sock=$(zk_sock tcp-bulk)
	ZF_ATTR=$(tcp_attr server 198.18.0.1 02:00:00:00:00:01 "$sock") \
		zk_bg tcp-bulk-rx "$BIN/zftcppingpong" -v -c "$PONG_CPU" -sink pong 198.18.0.1:20001
	rx=$ZK_LAST_PID
	ZF_ATTR=$(tcp_attr client 198.18.0.2 02:00:00:00:00:02 "$sock") \
		"$BIN/zftcppingpong" -v -c "$PING_CPU" -bulk "${DURATION}s" ping 198.18.0.1:20001 \
		>"$ZK_TMP/tcp-bulk-tx.log" 2>&1 || {
		cat "$ZK_TMP/tcp-bulk-tx.log" "$ZK_TMP/tcp-bulk-rx.log" >&2
		return 1
	}
	zk_wait "$rx" 10
	grep -E '^(diag|bulk)' "$ZK_TMP/tcp-bulk-tx.log" >&2 || true
	out=$(grep '^bulk rx ' "$ZK_TMP/tcp-bulk-rx.log" | tail -1) || {
		cat "$ZK_TMP/tcp-bulk-rx.log" >&2
		return 1
	}
	zk_log "tcp-bulk: $out"
	echo "row=tcp-bulk gbps=$(zk_field "$out" gbps)"
}
