# tcp.sh: TCP rows (tcp/, cmd/zftcppingpong).
#   tcp         zftcppingpong pong (PONG_CPU) and ping (PING_CPU) over net_memif between two
#               processes, 64-byte messages, N round trips
#   kernel-tcp  Linux TCP between two network namespaces over a veth (198.18.201.0/24):
#               sockperf sr --tcp and sockperf pp --tcp --nonblocked (busy-polling), 64-byte
#               messages, about N round trips (sockperf runs for a time: N × 8 µs, at least
#               2 s); its --full-rtt percentiles become the rtt_ns line (sockperf_rtt, udp.sh)
#   tcp-bulk    zftcppingpong -bulk (PING_CPU) → -sink (PONG_CPU) over net_memif for DURATION
#               seconds, one core each side; row=tcp-bulk gbps=… from the receiver
ROWS+=(tcp kernel-tcp tcp-bulk)

tcp_attr() { # role ip mac sock
	echo "interface=net_memif0,role=$1,socket=$4;local_ip=$2/24;mac=$3;n_bufs=4095;max_tcp_endpoints=16"
}

row_tcp() {
	local sock pong out
	sock=$(zk_sock tcp)
	ZF_ATTR=$(tcp_attr server 198.18.0.1 02:00:00:00:00:01 "$sock") \
		zk_bg tcp-pong "$BIN/zftcppingpong" -v -c "$PONG_CPU" -s 64 pong 198.18.0.1:20000
	pong=$ZK_LAST_PID
	out=$(ZF_ATTR=$(tcp_attr client 198.18.0.2 02:00:00:00:00:02 "$sock") \
		"$BIN/zftcppingpong" -v -c "$PING_CPU" -s 64 -i "$N" ping 198.18.0.1:20000 2>"$ZK_TMP/tcp-ping.log") || {
		cat "$ZK_TMP/tcp-ping.log" "$ZK_TMP/tcp-pong.log" >&2
		return 1
	}
	zk_wait "$pong" 10
	grep '^diag' "$ZK_TMP/tcp-ping.log" "$ZK_TMP/tcp-pong.log" >&2 || true
	grep -v '^rtt_ns ' <<<"$out" >&2 || true
	out=$(grep '^rtt_ns ' <<<"$out" | tail -1) || return 1
	echo "row=tcp $out"
}

row_kernel_tcp() {
	local ns1=zkt$$a ns2=zkt$$b srv secs out
	declare -F sockperf_rtt >/dev/null || {
		zk_log "kernel-tcp: sockperf_rtt (scripts/bench.d/udp.sh) is missing"
		return 1
	}
	# Namespaces and veth are removed however the row ends.
	trap "ip netns del $ns1 2>/dev/null; ip netns del $ns2 2>/dev/null; trap - RETURN" RETURN
	ip netns add "$ns1" && ip netns add "$ns2" || return 1
	ip link add zkt$$v1 netns "$ns1" type veth peer name zkt$$v2 netns "$ns2" || return 1
	ip -n "$ns1" addr add 198.18.201.1/24 dev zkt$$v1
	ip -n "$ns2" addr add 198.18.201.2/24 dev zkt$$v2
	ip -n "$ns1" link set zkt$$v1 up
	ip -n "$ns2" link set zkt$$v2 up
	ip -n "$ns1" link set lo up
	ip -n "$ns2" link set lo up
	secs=$(awk -v n="$N" 'BEGIN { s = int(n * 8e-6 + 0.999); if (s < 2) s = 2; print s }')
	zk_bg kernel-tcp-sr ip netns exec "$ns1" taskset -c "$PONG_CPU" sockperf sr --tcp -i 198.18.201.1 -p 11112 --nonblocked
	srv=$ZK_LAST_PID
	sleep 0.5
	out=$(ip netns exec "$ns2" taskset -c "$PING_CPU" sockperf pp --tcp -i 198.18.201.1 -p 11112 --nonblocked \
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
	echo "row=kernel-tcp $out"
}

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
