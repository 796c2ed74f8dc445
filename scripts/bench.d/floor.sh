# floor.sh: the raw-DPDK floors every other row is divided by (cmd/zfpmd).
#   floor       L2 ping-pong over net_memif between two processes, 64-byte frames, pong on
#               PONG_CPU, ping on PING_CPU, N round trips
#   floor-bulk  txonly → rxonly over net_memif, 1,500-byte frames, for DURATION seconds
ROWS+=(floor floor-bulk)

row_floor() {
	local sock pong out
	sock=$(zk_sock floor)
	zk_bg floor-pong "$BIN/zfpmd" -v -c "$PONG_CPU" -dev "net_memif0,role=server,socket=$sock" pong
	pong=$ZK_LAST_PID
	out=$("$BIN/zfpmd" -v -c "$PING_CPU" -dev "net_memif0,role=client,socket=$sock" -s 64 -n "$N" ${ZK_HGRM:+-hgrm "$ZK_HGRM"} ping 2>"$ZK_TMP/floor-ping.log") || {
		cat "$ZK_TMP/floor-ping.log" "$ZK_TMP/floor-pong.log" >&2
		return 1
	}
	zk_wait "$pong" 10
	grep '^diag' "$ZK_TMP/floor-ping.log" "$ZK_TMP/floor-pong.log" >&2 || true
	out=$(grep '^rtt_ns ' <<<"$out" | tail -1) || return 1
	echo "row=floor $out"
}

row_floor_bulk() {
	local sock rx out g m
	sock=$(zk_sock floor-bulk)
	zk_bg floor-bulk-rx "$BIN/zfpmd" -c "$PONG_CPU" -dev "net_memif0,role=server,socket=$sock" \
		-stats 0 -t "${DURATION}s" rxonly
	rx=$ZK_LAST_PID
	# txonly outlives rxonly (-t counts from its first packet) and stops when the link goes down.
	"$BIN/zfpmd" -c "$PING_CPU" -dev "net_memif0,role=client,socket=$sock" -s 1500 -stats 0 \
		-t "$((DURATION + 10))s" txonly >"$ZK_TMP/floor-bulk-tx.log" 2>&1 || {
		cat "$ZK_TMP/floor-bulk-tx.log" "$ZK_TMP/floor-bulk-rx.log" >&2
		return 1
	}
	zk_wait "$rx" 10
	out=$(grep '^fwd ' "$ZK_TMP/floor-bulk-rx.log" | tail -1) || {
		cat "$ZK_TMP/floor-bulk-rx.log" >&2
		return 1
	}
	grep '^fwd ' "$ZK_TMP/floor-bulk-tx.log" >&2 || true
	zk_log "floor-bulk rx: $out"
	g=$(zk_field "$out" rx_gbps)
	m=$(zk_field "$out" rx_mpps)
	echo "row=floor-bulk gbps=$g mpps=$m"
}
