// Package alts is zocket's TCP TX alternatives (TCPDirect's zf_alts.h; user guide §3.4, §5.10,
// §11.6): several candidate sequences of TCP messages are built in advance, each into an
// alternative queue, and when the application knows which one it needs it sends that queue in
// one transmit burst and cancels the others.
//
// # Model
//
// On a Solarflare NIC the alternatives are held in the adapter; on DPDK an alternative is a
// prebuilt array of complete frames in mbufs: Queue copies the payload behind the
// connection's header template and fills in every header field and both checksums for the
// sequence point the alternative is built for, so that Send only patches the fields that
// may have changed since (the ACK and the window, and the timestamps when the connection
// negotiated them, with an incremental checksum update) and hands the array to one tx_burst. The bookkeeping — the frames joining the connection's send
// queue as ordinary unacknowledged segments, counters — comes after the burst, in a separate
// function (STYLE.md habit 5). Each queued frame holds two references: one the driver drops
// when it has transmitted the frame, one the connection keeps for retransmission.
//
// alts touches TCP state only through the hook on tcp.Conn (AltStart, AltSegment, AltReady,
// AltCommit in tcp/alt.go), never through unsafe.
//
// # Rules (TCPDirect's, as zocket applies them)
//
//   - An alternative holds messages of one connection; each Queue call is one message and one
//     packet (at most the MSS), and a packet belongs to one alternative.
//   - An alternative is built for the point where the connection's queued data ends at its
//     first Queue. Once anything moves that point — the connection sends other data (Send,
//     SendSingle), queues a FIN (ShutdownTx, Close), or another alternative of the connection
//     is sent — every alternative built for the old point is stale: Send returns EINVAL
//     (zf_alternatives_send's "inconsistent TCP state") and Queue on it returns EINVAL; the
//     application cancels it and may requeue the data (the edit-by-requeue of §5.10).
//   - ACK, window and timestamps are patched at Send to the connection's current values, so
//     outgoing ACKs never go backwards and a frame built long before passes the peer's PAWS
//     test; tcp_alt_ack_rewind bounds how stale an alternative may be: when the
//     connection has received more than tcp_alt_ack_rewind bytes since the alternative's
//     frames were built, Send returns EINVAL (cancel and requeue). With 0, any received data
//     invalidates queued alternatives.
//   - Send commits the messages to the stream whatever the windows: what the peer's window and
//     the congestion window admit leaves in the burst, the rest (or everything, when earlier
//     data of the connection is still to leave) joins the send queue and TCP sends it as a
//     normal Send's data. Send returns EBUSY, leaving the alternative queued and valid, only
//     when the connection's send queue (at least 64 segments) has no room for its packets; retry after
//     Perform.
//   - Cancel and Send complete synchronously: the alternative is empty and reusable on return
//     (also for another connection), so Queue never returns EBUSY here — the code exists in
//     TCPDirect's contract for NIC-held queues that drain asynchronously.
//   - alt_buf_size is shared by the stack's alternatives and counts whole frames (headers and
//     payload, as zf_alternatives_free_space reports), not only payload: FreeSpace returns
//     what is left, and a message whose frame does not fit gets ENOMEM.
//   - Release every alternative before closing the stack, as every zocket: a stack's alts
//     state (buffer cache, burst arrays, snapshot Dumper) is freed with its last alternative.
//
// # Files
//
// alts.go (Alloc, Release, Queue, Cancel, FreeSpace, QueryOverheadTCP, counters), send.go (Send:
// the hot path), dump.go (snapshot rows and counters for zfstackdump and the metrics).
//
// # Costs
//
// Queue: one buffer from a per-stack cache (refilled in bulk), one copy, one checksum of the
// payload; no allocation. Send: a few compares (AltReady), per frame a 4-byte, a 2-byte and a
// 2-byte store when the ACK or window moved (two more 4-byte stores with timestamps), one tx_burst, then AltCommit; no allocation.
// Cancel: the buffers go back to the cache; no cgo call, no allocation.
package alts
