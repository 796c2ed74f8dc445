// Package udp is zocket's UDP: receive zockets (Receiver, TCPDirect's zfur) and transmit zockets
// (Transmitter, zfut), with the behaviour of zf_udp.h (TCPDirect user guide §5.6, §5.7, §11.11).
//
// # Model
//
// As in TCPDirect, a UDP zocket either receives or transmits. A Receiver is bound to one or more
// local addresses (the stack's own address, a multicast group, or a broadcast address) with an
// optional remote filter; a Transmitter has a fixed local and remote address and a prebuilt
// header. The first zocket made on a stack installs this package's demultiplexer into the
// stack's transport slot for protocol 17 (stack.SetTransport); the per-stack state is found
// there again (stack.Transport), so no map keyed by stack exists.
//
// # Receive path
//
// The reactor (stack.Perform) validates Ethernet and IPv4 and hands the packet to Deliver, which
// checks the UDP header (length, checksum unless the port verified it), finds the endpoint —
// the most specific bind wins: full 4-tuple, then remote address with any port, then local
// address and port only — and queues the mbuf pointer on the receiver's ring. Nothing is copied.
// ZcRecv hands out one datagram as a []byte view of the payload inside the mbuf, ZcRecvDone
// gives the buffer back. With a few binds per stack the lookup is a
// linear scan of the local buckets; past eight local addresses a map (keyed by value, so lookups
// do not allocate) finds the bucket.
//
// The receive queue holds at most udp_rx_queue_len datagrams (attribute, per receiver); beyond
// that datagrams are dropped and counted (q_drops), and the reactor never blocks.
//
// # Dropped on receive, each counted by reason (Counters.Drops)
//
//   - IPv4 fragments: not reassembled, as in TCPDirect. The stack drops them before UDP sees them
//     (stack.DropIPFragment).
//   - A UDP header under 8 bytes (udp_truncated), a UDP length under 8 or beyond the IP payload
//     (udp_length; a length shorter than the IP payload trims it), a checksum that does not
//     verify (udp_checksum; a zero checksum means none, RFC 768), destination port 0
//     (udp_port0), no endpoint (udp_no_endpoint), a full queue (udp_queue_full).
//   - A source port of 0 is legal (RFC 768) and delivered.
//
// # Send path
//
// Send and SendSingle take a buffer from a small per-stack cache (stack.BufCache) of buffers
// that ZcRecvDone gave back (LIFO, still warm in the CPU cache; refilled by one bulk allocation
// when empty), copy the header
// template (Ethernet, IPv4, UDP: 42 bytes, 46 with a VLAN tag), copy the payload, patch the IP
// total length, identification, flags and checksum (from a precomputed partial sum) and the UDP
// length and checksum, and hand the frame to the port in one burst (stack.Transmit, one cgo
// call). When the port offloads checksums (stack.TxChecksumOffload), the IP checksum is left to
// it and the UDP field carries the pseudo-header sum with the offload flags set (not for IP
// fragments, whose UDP checksum covers several frames). Buffers the cache cannot hold are freed
// in bulk, 32 at a time.
//
// The destination MAC comes from the stack's ARP table (or the group's MAC for multicast, the
// broadcast MAC for broadcast). While ARP resolves, datagrams wait in the stack's per-neighbour
// queue and leave when the reply comes; a resolved MAC is checked again once a second of stack
// time, so a changed neighbour is followed.
//
// A datagram larger than MSS (mtu − 28) is sent as IPv4 fragments of (mtu − 20) rounded down to
// 8 bytes, unless DontFragment is given, which makes it EMSGSIZE; so does any datagram over
// 65507 bytes. SendSingle always sets DF and refuses more than MSS. Unicast datagrams carry the
// udp_ttl attribute's TTL, multicast ones multicast_ttl's; with multicast_ttl 0 ("this host
// only") nothing leaves and the datagram is counted as TxHostOnly, since the stack has no
// loopback.
//
// # Multicast
//
// Binding a receiver to a multicast address joins the group on the stack
// (stack.JoinMulticast): the group's MAC enters the port's multicast filter (all-multicast or
// promiscuous mode where the PMD has none) and IGMPv2 membership reports go out; general and
// group queries are answered. The membership lasts until Unbind or Close, which send a leave
// when the last reference goes.
//
// # Ports
//
// A receiver bound with port 0 gets an ephemeral port from stack.EphemeralFirst..EphemeralLast
// (Linux's default ip_local_port_range), chosen at random among those no receiver of the stack
// has bound (stack.PortSet, RFC 6056). A transmitter needs an explicit local port, as
// zfut_alloc does.
//
// # Muxer
//
// Receiver.Waitable is ready for EPOLLIN while datagrams are queued, with an edge for each new
// one; Transmitter.Waitable is always ready for EPOLLOUT. Close takes a zocket out of its muxer.
//
// # Snapshots
//
// The per-stack state is a stack.Dumper: zfstackdump and the metrics see one "UDP RX" row per
// receiver bind (unread, received, release_n, q_drops, queue_len) and one "UDP TX" row per
// transmitter (sent, sent_bytes, mss, resolved), the stack-wide UDP counters and every drop
// reason.
//
// # Errors
//
// Errors are syscall.Errno values where zf_udp.h returns them, so errors.Is works. Calls that
// set things up (NewReceiver, Bind, NewTransmitter…) wrap them with a message naming what
// failed; the hot-path calls (ZcRecv, ZcRecvDone, Send, SendSingle) return the bare Errno and
// never allocate.
//
// # Tests
//
// Two stacks over a net_ring pair on a manual clock cover unicast, multicast, remote filters,
// ephemeral ports, fragmentation (checked by the receiver's drop counters) and queue overflow;
// packet scripts against a raw port cover malformed datagrams; and the Linux kernel is the peer
// for interoperability. The kernel peer sits in a network namespace behind a veth whose other
// end DPDK opens with net_af_packet rather than net_tap: it is the same kernel UDP on the other
// side, and af_packet over veth was the more robust of the two here (no rx-interrupt signal
// warnings, no tap queue set-up). One test does use net_tap, the virtual PMD with checksum
// offload, to exercise the offloaded send path against the kernel's checksum verification.
package udp
