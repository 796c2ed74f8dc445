# udp.sh: UDP rows (udp/, cmd/zfudppingpong, cmd/zfsink).
#   udp         zfudppingpong pong (PONG_CPU) and ping (PING_CPU) over net_memif between two
#               processes, 64-byte payload, N round trips
#   kernel-udp  Linux UDP between two network namespaces over a veth: sockperf sr and
#               sockperf pp --nonblocked (busy-polling), 64-byte messages, about N round trips
#               (sockperf runs for a time: N × 7 µs, at least 2 s); its --full-rtt percentiles
#               are converted to the rtt_ns line
#   udp-rx      receive rate of one core: zfsink -q on net_pcap replaying (infinite_rx) a
#               capture of 64-byte UDP datagrams for DURATION seconds; row=udp-rx mpps=…
ROWS+=(udp kernel-udp udp-rx)

row_udp() {
	local sock pong out
	sock=$(zk_sock udp)
	ZF_ATTR="interface=net_memif0,role=server,socket=$sock;local_ip=198.18.0.1/24;mac=02:00:00:00:00:01;n_bufs=2047" \
		zk_bg udp-pong "$BIN/zfudppingpong" -v -c "$PONG_CPU" -s 64 -i "$N" pong 198.18.0.1:20000 198.18.0.2:20000
	pong=$ZK_LAST_PID
	out=$(ZF_ATTR="interface=net_memif0,role=client,socket=$sock;local_ip=198.18.0.2/24;mac=02:00:00:00:00:02;n_bufs=2047" \
		"$BIN/zfudppingpong" -v -c "$PING_CPU" -s 64 -i "$N" ${ZK_HGRM:+-hgrm "$ZK_HGRM"} ping 198.18.0.2:20000 198.18.0.1:20000 2>"$ZK_TMP/udp-ping.log") || {
		cat "$ZK_TMP/udp-ping.log" "$ZK_TMP/udp-pong.log" >&2
		return 1
	}
	zk_wait "$pong" 10
	grep '^diag' "$ZK_TMP/udp-ping.log" "$ZK_TMP/udp-pong.log" >&2 || true
	grep -v '^rtt_ns ' <<<"$out" >&2 || true
	out=$(grep '^rtt_ns ' <<<"$out" | tail -1) || return 1
	echo "row=udp $out"
}


row_kernel_udp() { zk_kernel_sockperf kernel-udp "" 200 11111 7e-6; }

# udp_pcap writes a capture of n Ethernet/IPv4/UDP frames with 64-byte payloads from
# 198.18.0.2:(4000+i%64) to 198.18.0.1:20000 (MAC 02:00:00:00:00:01), checksums correct.
udp_pcap() {
	python3 - "$1" "${2:-4096}" <<'EOF'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst = bytes([198, 18, 0, 2]), bytes([198, 18, 0, 1])
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(n):
        payload = bytes((i + j) & 0xff for j in range(64))
        sport = 4000 + i % 64
        udp = struct.pack("!HHHH", sport, 20000, 8 + len(payload), 0) + payload
        c = csum(src + dst + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xffff
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = bytes.fromhex("020000000001020000000002") + b"\x08\x00" + ip + udp
        f.write(struct.pack("<IIII", 0, i, len(frame), len(frame)) + frame)
EOF
}

row_udp_rx() {
	local pcap=$ZK_TMP/udp64.pcap out
	udp_pcap "$pcap" 4096 || return 1
	out=$(ZF_ATTR="local_ip=198.18.0.1/24;rx_burst=64;udp_rx_queue_len=256" \
		"$BIN/zfsink" -q -v -c "$PONG_CPU" -t "${DURATION}s" -pcap "$pcap" 198.18.0.1:20000 2>"$ZK_TMP/udp-rx.log") || {
		cat "$ZK_TMP/udp-rx.log" >&2
		return 1
	}
	grep '^diag' "$ZK_TMP/udp-rx.log" >&2 || true
	out=$(grep '^zfsink: ' <<<"$out" | tail -1) || return 1
	zk_log "udp-rx: $out"
	echo "row=udp-rx mpps=$(zk_field "$out" mpps)"
}
