package tcp

// congestionControl is a congestion-control algorithm: how cwnd opens as data is acknowledged
// and where ssthresh falls when a loss is detected. Loss recovery itself (which segments go
// again, and cwnd during the recovery) is the recovery code's; the algorithm only sets the
// target it recovers to. One value per stack (state.cc) serves every connection; what an
// algorithm remembers per connection lives in Conn.ccs, so choosing one allocates nothing.
type congestionControl interface {
	// name is the algorithm's name, as tcp_congestion spells it.
	name() string
	// start sets the initial cwnd and ssthresh once the send MSS is known.
	start(c *Conn)
	// onAck opens cwnd for acked bytes of new data acknowledged outside loss recovery.
	onAck(c *Conn, acked uint32)
	// onCongestion is a loss (a fast retransmit or SACK recovery starting, or with timeout a
	// retransmission timeout): it returns the new ssthresh and notes what it needs to grow
	// back afterwards.
	onCongestion(c *Conn, timeout bool) uint32
}

// ccState is what a congestion-control algorithm keeps per connection.
type ccState struct{}

// newReno is RFC 5681's window growth with RFC 6582's reduction (TCPDirect's and, before
// CUBIC, Linux's): slow start below ssthresh, one SMSS per window above, half the flight on a
// loss.
type newReno struct{}

func (newReno) name() string { return "newreno" }

func (newReno) start(c *Conn) {
	if c.s.cfg.initialCwnd > 0 {
		c.cwnd = uint32(c.s.cfg.initialCwnd)
	} else {
		c.cwnd = uint32(10 * c.mss) // RFC 6928
	}
	c.ssthresh = 1 << 30
}

func (newReno) onAck(c *Conn, acked uint32) {
	if c.cwnd < c.ssthresh {
		c.cwnd += min(acked, uint32(c.mss)) // slow start, RFC 5681 §3.1 eq. (2)
		return
	}
	c.cwnd += max(uint32(c.mss)*uint32(c.mss)/c.cwnd, 1) // congestion avoidance, eq. (3)
}

func (newReno) onCongestion(c *Conn, timeout bool) uint32 {
	return max(c.sndUna.Size(c.sndMax)/2, uint32(2*c.mss)) // RFC 5681 §3.1 eq. (4)
}
