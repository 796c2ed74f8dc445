# loss.sh: TCP under loss (issue 15).
#   loss      a Linux client streams 16 MiB through an echo and reads it back (SHA-256
#             checked) through a router namespace that drops 1 %, then 5 %, of the forwarded
#             TCP frames each way (nftables); the echo is zftcppingpong pong on net_tap or
#             Linux's socat … EXEC:cat behind a veth; 3 runs of each, interleaved, 120 s
#             limit per run (TestMeasureLoss in cmd/zftcppingpong/measure_test.go, whose
#             ZOCKET_LOSS_* variables pass through). Every run's line and the medians go to
#             stderr; the row is
#               row=loss loss1_zocket_s=… loss1_linux_s=… loss1_ratio=… loss5_zocket_s=… …
#             (ratio: median zocket / median Linux; "timeout" when a median timed out).
#             With ZOCKET_LAB_LOCK=/tmp/zlab.lock each run holds the lab lock.
#   tcp-loss  the tcp row (zftcppingpong ping-pong over net_memif, 64-byte messages, default
#             TCP attributes) with 0.1 % of the frames each side sends dropped by the stack's
#             fault shim (-faults drop=0.001, seeds 1 and 2: the same losses every run);
#             min(N, 50000) round trips, as each loss costs a retransmission timeout. The
#             memif client copies (zero-copy=no): its zero-copy link failed to come up in 3
#             of 4 runs on the lab machine ("memif_connect(): mmap failed: No such device"),
#             and its 0.1 µs is nothing next to the p99.9 this row is for
ROWS+=(loss tcp-loss)

row_loss() {
	local out
	out=$(cd "$ROOT" && ZOCKET_MEASURE=1 ZOCKET_PONG="$BIN/zftcppingpong" \
		go test -count=1 -v -timeout 60m -run '^TestMeasureLoss$' ./cmd/zftcppingpong 2>&1) || {
		echo "$out" >&2
		return 1
	}
	grep -E '^(row=loss[0-9]|ratio )' <<<"$out" >&2 || true
	grep '^row=loss ' <<<"$out" | tail -1
}

row_tcp_loss() {
	tcp_pingpong tcp-loss 20003 "$((N < 50000 ? N : 50000))" \
		"-faults drop=0.001,seed=2" "-faults drop=0.001,seed=1 -r 1000" ",zero-copy=no"
}
