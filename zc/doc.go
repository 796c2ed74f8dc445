// Package zc is zocket's zero-copy extension API, after Onload's onload_zc_* calls (user guide
// UG1586, "Zero-Copy TCP Send", "Zero-Copy UDP Receive") and io_uring's send_zc
// (io_uring_prep_send_zc(3)), on DPDK mbufs.
//
// # Buffers and ownership
//
// AllocBuffers hands out packet buffers of the stack's pool as IOVecs: a []byte over the
// buffer's payload room and a Handle. Kind says which headers the buffer keeps room for, as
// ONLOAD_ZC_BUFFER_HDR_*: HdrUDP and HdrTCP buffers start after the pool's 128-byte headroom
// and offer one MTU's payload (MTU − 28 and MTU − 40 bytes; a TCP connection with timestamps
// takes 12 bytes less per segment, so a fuller HdrTCP buffer is copied into segments by Send
// and SendZC); HdrNone buffers offer the whole 2 KiB data room and no header room. Allocate them in blocks, off the critical path: one bulk
// allocation per 64 buffers.
//
// The rules are Onload's: a buffer that Send sent belongs to the stack (TCP keeps it as the
// segment's frame until acknowledged, then recycles it; UDP hands it to the port, which frees
// it); a buffer Send did not send — a partial send, an error, MsgWarm — stays the caller's, to
// be sent again or released with ReleaseBuffers. Buffers a Recv callback kept are the caller's
// until ReleaseBuffers. SendZC never takes a buffer: it stays the caller's, and the caller
// must not write to it until the notification (below) says it may be reused; the stack never
// writes into the caller's bytes either (io_uring's send_zc rule: the kernel only reads the
// memory it was given). Tests check after every case that the pool's in-use count is back
// where it started.
//
// # How a buffer is sent without a copy
//
// A buffer of kind HdrUDP or HdrTCP is sent as a single-segment frame: the zocket's prebuilt
// header template is written into the buffer's headroom (what ONLOAD_ZC_BUFFER_HDR_* reserve
// it for) and patched there; the payload is not touched except to compute its checksum once
// (wire.Sum), which TCP keeps for every retransmission. This is a deliberate choice over
// chaining the buffer behind a separate header mbuf: a single segment needs no
// multi-segment TX offload (every PMD takes it, so no copying fallback is needed for PMDs
// without RTE_ETH_TX_OFFLOAD_MULTI_SEGS), peers that receive the very mbuf (net_ring) or whose
// receive paths take single segments only (udp and tcp drop chains) see an ordinary frame, and
// TCP's retransmission, window split and unshare code work on it unchanged. HdrNone buffers,
// messages of several buffers to a UDP zocket (one datagram gathered from several buffers), and
// SendZC payloads under CopyThreshold, views that do not start their buffer's payload room,
// and buffers already another SendZC's frame (below) are copied into a fresh frame instead
// (documented fallback; buffers sent with Send still become the stack's, as if sent).
//
// A TCP buffer carries at most the connection's MSS (one segment per buffer, as Onload's TCP
// zero-copy buffers); a UDP buffer at most the transmitter's MSS (zero-copy datagrams are not
// fragmented and carry DF).
//
// # Send
//
// Send sends many messages, each to its own zocket (*tcp.Conn or *udp.Transmitter), in one
// call, in order, and returns how many MMsg.Rc it set. Rc is the bytes sent or −errno; a TCP
// message is sent buffer by buffer until the send queue is full, so Rc tells which buffers went
// (those whose bytes fit in Rc); a UDP message is one datagram, all or nothing. MsgWarm runs
// the whole path (header, checksums, patching) and sends nothing; the buffers stay the
// caller's.
//
// # Recv
//
// Recv calls a Go callback for each datagram queued on a udp.Receiver, with a view of the
// payload in the received buffer (no copy, no C→Go transition: the receive ring is read from
// Go). The callback returns Continue, Terminate, and/or Keep; flags set by the stack say
// EndOfBurst (the last datagram queued) and Shared (the buffer has other references, e.g. the
// sender's on net_ring, and must be treated as read-only). Without DontWait, Recv performs the
// stack until a datagram arrives.
//
// # SendZC and notifications
//
// SendZC is io_uring's send_zc: it returns at once the bytes queued (or an errno), and later a
// notification on the stack's completion queue (Completions) tells that the buffer may be
// reused: for TCP once every byte in it is acknowledged and the port no longer holds the
// frame, for UDP once the port has freed it. zc holds a reference to the buffer (RefcntAdd)
// and a notification is posted when the count is back to that reference alone; the queue
// checks this when polled (the driver frees transmitted mbufs during Perform). Onload has no
// such signal at all. With ReportUsage the notification says whether the data was copied
// (payloads under CopyThreshold bytes, HdrNone buffers, memory that is not a zc buffer, views
// that do not start their buffer's payload room, buffers already another SendZC's frame, and
// TCP segments the port still held when they had to be retransmitted). SendZCFixed sends from
// buffers registered once (RegisterBuffers), io_uring_prep_send_zc_fixed's shape. ENOMEM when
// the pool cannot supply a buffer for a copy or the completion queue has no room for another
// notification (NotifyCap outstanding).
//
// Several SendZC may be outstanding on one buffer (several ranges of a registered buffer, or
// the same range twice), as io_uring allows for registered buffers: each sends its own bytes
// and gets its own notification. They are made correct rather than refused, but only one of
// them can be the buffer itself: a buffer sent without a copy is that frame until its
// notification (its headroom holds the frame's headers, its data offset and length are the
// frame's), which is Onload's rule that a buffer is in one place at a time. So SendZC sends a
// buffer without a copy only when the view starts the buffer's payload room (the headers then
// go into the headroom; in front of a view further in they would overwrite bytes of the
// caller's) and no other SendZC has the buffer as its frame; any other view is copied into a
// fresh frame and reported Copied. Later Sends on the connection never append into a SendZC
// frame's buffer either: TCP starts a new segment after one.
//
// # Stacks
//
// zc's state for a stack (its pool, bulk array, copy scratch and completion queue) lives with
// the stack: TCP's per-stack state keeps it (tcp.ZCOwner), and the stack's transport slot
// keeps that, so stacks polled by different goroutines share nothing in zc. Like the stack, it
// is used by one goroutine at a time. Forget drops it before the stack closes.
//
// # Hot paths
//
// Send, Recv (and its callbacks), SendZC and Completions().Poll allocate nothing and return
// bare syscall.Errno values; a UDP zero-copy send is one cgo call (the burst), a TCP one at most
// one (the burst, when the window allows).
package zc
