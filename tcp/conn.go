package tcp

import (
	"net/netip"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// State is a TCP connection state, numbered as Linux's TCP_* constants (zft_state).
type State int

// TCP states, with Linux's numbering (include/net/tcp_states.h).
const (
	StateEstablished State = 1
	StateSynSent     State = 2
	StateSynRecv     State = 3
	StateFinWait1    State = 4
	StateFinWait2    State = 5
	StateTimeWait    State = 6
	StateClose       State = 7
	StateCloseWait   State = 8
	StateLastAck     State = 9
	StateListen      State = 10
	StateClosing     State = 11
)

var stateNames = [...]string{"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"}

// String is the state's name as Linux's ss prints it, e.g. "ESTABLISHED".
func (s State) String() string {
	if s > 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// synchronized reports whether the state is past the handshake (RFC 9293's synchronized states).
func (s State) synchronized() bool {
	return s != StateSynSent && s != StateSynRecv && s != StateClose && s != StateListen
}

// Flags for Send and SendSingle.
const (
	// MsgMore holds back a last segment that is not full (MSG_MORE): see Conn.Send.
	MsgMore = syscall.MSG_MORE
)

// Msg is a zero-copy receive message (TCPDirect's zft_msg): the caller sizes Iov once (its
// capacity is how many entries ZcRecv may fill, zft_msg's iovcnt on input) and reuses the Msg,
// so that receiving allocates nothing.
type Msg struct {
	// Iov is, on return from ZcRecv, the in-order payload as views into the received buffers,
	// one entry per buffer, followed by an empty entry when the stream has ended (EOF or
	// error; ZcRecvDone tells which). Its capacity is the caller's array; ZcRecv reslices it.
	// The views are valid until ZcRecvDone or ZcRecvDoneSome.
	Iov [][]byte
	// PktsLeft is, on return from ZcRecv, how many buffers of in-order data are still queued
	// after those returned.
	PktsLeft int
	// Flags is reserved.
	Flags int

	held int  // receive-queue entries held
	eof  bool // the end-of-stream entry was returned
}

// NewMsg returns a Msg whose Iov can hold n entries (n ≥ 1).
func NewMsg(n int) *Msg { return &Msg{Iov: make([][]byte, 0, max(n, 1))} }

// rxEnt is a buffer of in-order payload: bytes [off, off+len) of m.Data().
type rxEnt struct {
	m   *dpdk.Mbuf
	off uint16
	len uint16
}

// oooEnt is a buffer of out-of-order payload starting at seq.
type oooEnt struct {
	seq wire.Seq
	rxEnt
}

// txSeg is a queued outgoing segment: a complete frame in m (headers from the template, then
// the payload), its first sequence number, payload length and the payload's partial checksum.
type txSeg struct {
	m    *dpdk.Mbuf
	seq  wire.Seq
	len  uint16
	fin  bool
	psum uint32
	zc   uint32 // zero-copy completion tag (tcp/zc.go); 0: an ordinary buffer
	// sentAt is when the segment last left (the stack's clock; RTT samples, RACK); 0: never.
	sentAt int64
	// rexmit says the segment left more than once: an RTT sample from sentAt would be
	// ambiguous (Karn), so the timestamps' echo gives it (rtt.go).
	rexmit bool
	sb     sbFlags // the SACK scoreboard's marks (sack.go)
}

// Conn is a connected TCP zocket (TCPDirect's zft): made by Handle.Connect or Listener.Accept.
// It belongs to its stack's polling goroutine.
type Conn struct {
	s        *state
	key      uint64
	rip      [4]byte
	rport    uint16
	lport    uint16
	state    State
	err      syscall.Errno
	inTable  bool
	live     bool  // taken from the pool (connect.go's newConn), not yet freed
	orphan   bool  // the application closed it; the stack finishes the close
	twPrev   *Conn // neighbours in the state's TIME-WAIT list (timewait.go)
	twNext   *Conn
	inTW     bool
	freed    bool // resources and endpoint count given back
	ownPort  bool // the local port is this connection's to release
	txShut   bool // ShutdownTx or Close queued a FIN
	l        *Listener
	accepted bool

	// Header template: Ethernet, IPv4 and TCP with this connection's addresses and ports, then
	// the options every segment carries (timestamps, when negotiated).
	tmpl    [80]byte
	l2      int // Ethernet header size
	hlen    int // l2 + 40 + tcpOpt
	tcpOpt  int // option bytes of the template: 12 with timestamps, else 0
	nexthop [4]byte
	macOK   bool
	phSum   uint32 // pseudo-header partial sum without the length
	ipSum   uint32 // partial sum of the template's IPv4 header (no length, no identification)
	tcpSum  uint32 // phSum plus the ports
	ipID    uint16

	// Options negotiated on the handshake (both SYNs carried them). Before the peer's SYN
	// arrives they are what our SYN offers.
	sackOK             bool  // SACK (RFC 2018)
	tsOK               bool  // timestamps (RFC 7323 §3)
	wsOK               bool  // window scale (RFC 7323 §2)
	sndShift, rcvShift uint8 // window scale (RFC 7323 §2): the peer's, ours; 0 without

	// Timestamps (RFC 7323 §3-5, options.go).
	tsOff       uint32   // added to the millisecond clock for our TSval
	tsRecent    uint32   // TS.Recent: the peer's TSval to echo
	tsRecentAt  int64    // when TS.Recent was taken (PAWS's 24-day rule)
	lastAckSent wire.Seq // Last.ACK.sent: RCV.NXT in the last ACK we sent

	// SACK blocks to send (RFC 2018, RFC 2883; sackrcv.go).
	sackBlk  [4]wire.SACKBlock // out-of-order data held, the block most recently added to first
	nsack    int
	dsack    wire.SACKBlock // a duplicate received, reported first in the next ACK (D-SACK)
	dsackSet bool
	sackDue  bool // the SACK information changed: the next ACK must carry it

	// Send sequence space (RFC 9293 §3.3.1).
	iss, sndUna, sndNxt wire.Seq
	sndMax              wire.Seq // highest sequence number sent + 1
	sndWnd, maxSndWnd   uint32
	sndWl1, sndWl2      wire.Seq
	mss                 int // effective send MSS: payload bytes per segment
	cwnd, ssthresh      uint32
	ccs                 ccState // the congestion-control algorithm's own (cc.go)
	sq                  []txSeg // the send queue, a ring of a power-of-two length (seg)
	sqMask              uint32
	sqHead, sqNext      uint32 // oldest unacknowledged, next to send
	sqTail              uint32
	sqBytes             int
	more                bool // the last Send said MsgMore: hold a partial last segment
	dupAcks             int
	holeDupLimit        int    // duplicates beyond which the hole's retransmission was lost
	limitedTx           uint32 // segments limited transmit lets past cwnd (RFC 3042): 0..2

	// Retransmission (RFC 6298).
	srtt, rttvar, rto int64
	retries           int
	synRetried        bool

	// Receive sequence space.
	irs, rcvNxt wire.Seq
	rcvAdv      wire.Seq // right edge of the window last advertised
	rcvMSS      int
	slots       int // receive buffers of one MSS the window is made of
	maxBufs     int // receive buffers this connection may hold (in order and out of order)
	rq          []rxEnt
	rqMask      uint32
	rqHead      uint32
	rqTail      uint32
	rqBytes     int
	ooo         []oooEnt // out-of-order queue, sorted; its capacity is made at pool set-up
	nooo        int
	oooFin      bool
	oooFinSeq   wire.Seq
	finRcvd     bool
	held        uint32 // receive-queue entries held by ZcRecv
	ackPending  int    // segments received since the last ACK sent
	ackNow      bool

	rtxT, delackT, waitT stack.Timer
	kaT                  stack.Timer // keepalive (keepalive.go)
	ka                   Keepalive
	txT                  stack.Timer // transmit retry: segments a full ring refused (snd.go)
	retryFlush           bool        // the refused push was a flush
	lastRcv              int64       // when the last segment arrived (keepalive)
	kaSent               int         // keepalive probes unanswered
	probes               int         // window probes unanswered (Linux's icsk_probes_out)
	probeAt              int64       // when the last window probe went
	challengeAt          int64       // when the last challenge ACK went (0: never)
	rtxAt, delackAt      int64       // the lazy timers' deadlines (timers.go); 0: none
	w                    stack.Waitable

	finSeq     wire.Seq // sequence number of our FIN, once queued
	finOwed    bool     // the FIN is queued (finSeq) but not yet in the send queue (snd.go)
	appClosed  bool     // Close was called
	inRecovery bool
	persisting bool // the retransmission timer is probing a closed window
	probe      bool // the persist timer fired: a window too small for a segment may be used
	rtoRecover bool // an RTO happened and SND.UNA has not yet passed recover (RFC 6582 §4.1)
	recover    wire.Seq
	rec        recovery // SACK scoreboard totals, PRR, RACK-TLP and undo (recovery.go)
}

// seg is send-queue entry i (a free-running index: sqHead, sqNext, sqTail and those between).
func (c *Conn) seg(i uint32) *txSeg { return &c.sq[i&c.sqMask] }

// sqCap is the send queue's capacity in segments.
func (c *Conn) sqCap() int { return len(c.sq) }

// State returns the TCP state (zft_state), with Linux's TCP_* numbering.
func (c *Conn) State() State { return c.state }

// Err returns the error that ended the connection, like SO_ERROR (zft_error), or nil:
//
//   - ECONNREFUSED: the connection attempt was refused (RST or ICMP port unreachable).
//   - ECONNRESET: the connection was reset by the peer after it was established.
//   - ETIMEDOUT: the connection timed out (SYN or data retransmissions, window probes or
//     keepalive probes exhausted).
//   - EHOSTUNREACH: the next hop did not answer ARP while connecting, or ICMP said so.
//   - EPIPE: the peer closed gracefully (all its data was received) but reset the connection
//     when we sent more.
func (c *Conn) Err() error {
	if c.err == 0 {
		return nil
	}
	return c.err
}

// LocalAddr returns the connection's local address and port.
func (c *Conn) LocalAddr() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(c.s.ip), c.lport)
}

// RemoteAddr returns the peer's address and port.
func (c *Conn) RemoteAddr() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(c.rip), c.rport)
}

// MSS returns the maximum segment size for sending (zft_get_mss): the peer's MSS option (536
// without one), at most the link MTU less 40.
//
// Errors: ENOTCONN when the connection is not in a state that sends (not yet established, or
// closed).
func (c *Conn) MSS() (int, error) {
	switch c.state {
	case StateSynSent, StateSynRecv, StateClose, StateTimeWait:
		return 0, syscall.ENOTCONN
	}
	return c.mss, nil
}

// HeaderSize returns the size of every header an outgoing segment carries (zft_get_header_size):
// Ethernet (14, or 18 with a VLAN tag), IPv4 (20) and TCP (20). A segment's frame is exactly this
// plus its payload.
func (c *Conn) HeaderSize() int { return c.hlen }

// ShutdownTx closes the sending direction (zft_shutdown_tx): a FIN follows the data already
// queued, however full the send queue is (it leaves after the last byte, as soon as the queue
// and the buffers allow); receiving goes on.
//
// Errors: ENOTCONN when not connected or already shut down.
func (c *Conn) ShutdownTx() error {
	if !c.canSend() {
		return syscall.ENOTCONN
	}
	c.queueFin()
	c.txShut = true
	if c.state == StateEstablished {
		c.setState(StateFinWait1)
	} else {
		c.setState(StateLastAck)
	}
	c.more = false
	c.push(true)
	return nil
}

// Close releases the zocket (zft_free). A connection still open is shut down: a FIN after the
// queued data, however full the send queue (or a RST when in-order data was left unread, as
// Linux does; out-of-order data is dropped silently), and the stack finishes the close on its
// own (FIN-WAIT, TIME-WAIT) while the endpoint stays counted. The application must not use c
// afterwards: once the close is finished its memory serves a new connection (connections come
// from a pool). Close always returns nil.
func (c *Conn) Close() error {
	if c.appClosed {
		return nil
	}
	c.appClosed = true
	c.orphan = true
	c.w.Detach()
	switch c.state {
	case StateClose:
		c.free()
		return nil
	case StateSynSent:
		c.abort(0)
		return nil
	case StateSynRecv:
		c.sendRst()
		c.abort(0)
		return nil
	}
	if c.rqHead != c.rqTail {
		c.sendRst()
		c.abort(0)
		return nil
	}
	// Out-of-order data nobody can read now goes silently, as Linux's tcp_close purges it:
	// only unread in-order data is a reason to reset.
	c.freeOOO()
	if c.canSend() {
		_ = c.ShutdownTx() // cannot fail here: the connection sends
	}
	switch c.state {
	case StateTimeWait:
		c.s.tw.add(c) // orphaned now: recyclable (timewait.go)
		return nil
	case StateClose:
		return nil
	}
	c.armFinwait()
	return nil
}

// setState moves the connection to st.
func (c *Conn) setState(st State) {
	c.state = st
	c.updateReady()
}

// abort ends the connection now with errno (0 for none): every queue is dropped, timers stop,
// and the connection leaves the table. An orphaned connection is freed.
func (c *Conn) abort(errno syscall.Errno) {
	if errno != 0 {
		c.err = errno
	}
	c.closeDown()
}

// closeDown moves to CLOSE: out of the table, timers stopped, send queue and out-of-order data
// freed. In-order data stays readable until the application closes.
func (c *Conn) closeDown() {
	s := c.s
	if c.l != nil && !c.accepted {
		c.l.forget(c)
	}
	c.state = StateClose
	c.updateReady()
	s.remove(c)
	s.tw.remove(c)
	s.st.StopTimer(&c.rtxT)
	s.st.StopTimer(&c.delackT)
	c.rtxAt, c.delackAt = 0, 0
	s.st.StopTimer(&c.waitT)
	s.st.StopTimer(&c.kaT)
	s.st.StopTimer(&c.txT)
	c.freeSendQueue()
	c.freeOOO()
	if c.ownPort {
		c.ownPort = false
		s.releasePort(c.lport)
	}
	if c.orphan {
		c.free()
	}
}

// free gives the connection's buffers and endpoint slot back.
func (c *Conn) free() {
	if c.freed {
		return
	}
	if c.state != StateClose {
		c.closeDown()
		if c.freed {
			return
		}
	}
	c.freed = true
	c.s.putConn(c)
	for c.rqHead != c.rqTail {
		e := &c.rq[c.rqHead&c.rqMask]
		c.s.recycle(e.m)
		e.m = nil
		c.rqHead++
	}
	c.rqBytes = 0
	c.s.nconns--
	c.s.release()
}

func (c *Conn) freeSendQueue() {
	for c.sqHead != c.sqTail {
		e := c.seg(c.sqHead)
		c.releaseBuf(e, false, ZCAborted)
		e.m = nil
		c.sqHead++
	}
	c.sqNext = c.sqHead
	c.sqBytes = 0
	c.finOwed = false
}

func (c *Conn) freeOOO() {
	for i := range c.ooo[:c.nooo] {
		c.s.recycle(c.ooo[i].m)
		c.ooo[i].m = nil
	}
	c.nooo = 0
	c.oooFin = false
	c.nsack, c.dsackSet, c.sackDue = 0, false, false
}
