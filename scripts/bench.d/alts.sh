# alts.sh: TCP with TX alternatives (alts/, cmd/zfaltpingpong).
#   alts        zfaltpingpong pong (PONG_CPU; replies sent from the alternative queued with the
#               matching candidate, 3 alternatives) and ping (PING_CPU; the same plain TCP ping
#               as zftcppingpong) over net_memif between two processes, 64-byte messages, N
#               round trips; compare with row tcp of the same run
ROWS+=(alts)

alts_attr() { # role ip mac sock
	zk_tcp_attr "interface=net_memif0,role=$1,socket=$4;local_ip=$2/24;mac=$3;n_bufs=4095;max_tcp_endpoints=16;alt_count=3"
}

row_alts() {
	local sock pong out
	sock=$(zk_sock alts)
	ZF_ATTR=$(alts_attr server 198.18.0.1 02:00:00:00:00:01 "$sock") \
		zk_bg alts-pong "$BIN/zfaltpingpong" -v -c "$PONG_CPU" -s 64 -alts 3 pong 198.18.0.1:20002
	pong=$ZK_LAST_PID
	out=$(ZF_ATTR=$(alts_attr client 198.18.0.2 02:00:00:00:00:02 "$sock") \
		"$BIN/zfaltpingpong" -v -c "$PING_CPU" -s 64 -i "$N" ${ZK_HGRM:+-hgrm "$ZK_HGRM"} ping 198.18.0.1:20002 2>"$ZK_TMP/alts-ping.log") || {
		cat "$ZK_TMP/alts-ping.log" "$ZK_TMP/alts-pong.log" >&2
		return 1
	}
	zk_wait "$pong" 10
	grep -E '^(diag|pong:)' "$ZK_TMP/alts-ping.log" "$ZK_TMP/alts-pong.log" >&2 || true
	grep -v '^rtt_ns ' <<<"$out" >&2 || true
	out=$(grep '^rtt_ns ' <<<"$out" | tail -1) || return 1
	echo "row=alts $out"
}
