package tcp

import "github.com/zocket/zocket/wire"

// congestionControl is a congestion-control algorithm: how cwnd opens as data is acknowledged
// and where ssthresh falls when a loss is detected. Loss recovery itself (which segments go
// again, and cwnd during the recovery) is the recovery code's; the algorithm only sets the
// target it recovers to. One value per stack (state.cc) serves every connection; what an
// algorithm remembers per connection lives in Conn.ccs, so choosing one allocates nothing.
// What every algorithm shares, congestion-window validation (RFC 7661) and the restart after
// idle (RFC 5681 §4.1), is done around it here (ccAck, ccBeforePush, ccAfterPush).
type congestionControl interface {
	// name is the algorithm's name, as tcp_congestion spells it.
	name() string
	// start sets the initial cwnd and ssthresh once the send MSS is known.
	start(c *Conn)
	// onAck opens cwnd for acked bytes of new data acknowledged outside loss recovery while
	// the connection is cwnd-limited (ccAck).
	onAck(c *Conn, acked uint32)
	// onCongestion is a loss (a fast retransmit or SACK recovery starting, or with timeout a
	// retransmission timeout): it returns the new ssthresh and notes what it needs to grow
	// back afterwards. It is called before the caller lowers cwnd.
	onCongestion(c *Conn, timeout bool) uint32
	// onIdle says sending resumes with nothing in flight after idle ns without new data, or
	// with restart that cwnd was cut back for want of use (the restart window after idle,
	// or a decay).
	onIdle(c *Conn, idle int64, restart bool)
}

// congestionControls are the algorithms tcp_congestion names.
var congestionControls = [...]congestionControl{cubic{}, newReno{}}

// congestionByName returns the algorithm tcp_congestion names, or nil for an unknown name
// (the attribute's check refuses those first).
func congestionByName(name string) congestionControl {
	for _, cc := range congestionControls {
		if cc.name() == name {
			return cc
		}
	}
	return nil
}

// ccState is what congestion control keeps per connection: the cwnd-validation and idle
// bookkeeping shared by every algorithm, then CUBIC's own (cubic.go).
type ccState struct {
	// Congestion-window validation (RFC 7661 in Linux's form, tcp_cwnd_validate): whether
	// a push found cwnd full during the window ending at usageSeq, and the largest flight.
	limited   bool
	maxFlight uint32
	usageSeq  wire.Seq
	lastSend  int64  // when push last sent data: the idle restart measures from it
	used      uint32 // the largest flight since usedSince, while not cwnd-limited
	usedSince int64  // when the connection was last cwnd-limited (or cwnd last decayed)
	lastAck   int64  // when new data was last acknowledged (ccAck)
	idleSeen  int64  // up to when idle time was already reported to onIdle

	cubicState
}

// initialWindow is IW: tcp_initial_cwnd, or 10 × MSS (RFC 6928). It is also the restart
// window after idle (RFC 5681 §4.1: RW = min(IW, cwnd)).
func (c *Conn) initialWindow() uint32 {
	if c.s.cfg.initialCwnd > 0 {
		return uint32(c.s.cfg.initialCwnd)
	}
	return uint32(10 * c.mss)
}

// cwndLimited reports whether cwnd may grow (RFC 7661 §4.3): the flight filled cwnd during
// the last window of data, or in slow start cwnd is below twice the largest flight of that
// window (so that slow start still doubles what was sent).
func (c *Conn) cwndLimited() bool {
	v := &c.ccs
	return v.limited || c.cwnd < c.ssthresh && c.cwnd < 2*v.maxFlight
}

// ccAck is processAck's call for acked bytes of new data outside loss recovery: cwnd grows
// only while the connection is cwnd-limited; an application-limited ACK is counted.
func (c *Conn) ccAck(acked uint32) {
	c.ccs.lastAck = c.s.st.Now()
	if acked == 0 {
		return // only our SYN
	}
	if !c.cwndLimited() {
		c.s.ctr.CwndAppLimited++
		return
	}
	c.s.cc.onAck(c, acked)
}

// ccBeforePush is push's call before it computes the window: with nothing in flight it
// reports the idle time (since the flight emptied or idle was last reported) to the
// algorithm and, when nothing was sent for longer than the RTO (RFC 5681 §4.1), cuts cwnd to
// the restart window. ssthresh keeps three quarters of the old cwnd (Linux's
// tcp_cwnd_restart), so that slow start climbs back to where it was.
func (c *Conn) ccBeforePush() {
	v := &c.ccs
	if c.sndUna != c.sndMax || v.lastSend == 0 {
		return
	}
	now := c.s.st.Now()
	restart := false
	if rw := c.initialWindow(); now-v.lastSend > c.rto && c.cwnd > rw {
		c.ssthresh = max(c.ssthresh, c.cwnd/4*3)
		c.cwnd = rw
		c.s.ctr.CwndRestarts++
		restart = true
	}
	if idle := now - max(v.lastSend, v.lastAck, v.idleSeen); idle > 0 || restart {
		c.s.cc.onIdle(c, max(idle, 0), restart)
	}
	v.idleSeen = now
}

// ccAfterPush is push's call once it has sent segments (sent of them; possibly none): it
// notes whether the flight fills cwnd (no room for another full segment), for the window
// from SND.UNA to SND.NXT, and when data last left; after an RTO without being cwnd-limited
// cwnd decays (Linux's tcp_cwnd_validate).
func (c *Conn) ccAfterPush(sent int) {
	v := &c.ccs
	now := c.s.st.Now()
	flight := c.sndUna.Size(c.sndNxt)
	limited := flight+uint32(c.mss) > c.cwnd
	if v.usageSeq.LessThanEq(c.sndUna) || limited || !v.limited && flight > v.maxFlight {
		v.limited, v.maxFlight, v.usageSeq = limited, flight, c.sndNxt
	}
	if sent > 0 {
		v.lastSend = now
	}
	if c.cwndLimited() || v.usedSince == 0 {
		v.used, v.usedSince = 0, now
		return
	}
	v.used = max(v.used, flight)
	if now-v.usedSince >= c.rto {
		c.ccDecay(now)
	}
}

// ccDecay is RFC 2861's decay as Linux keeps it (tcp_cwnd_application_limited): a connection
// that did not fill cwnd for an RTO, held back by the application or the peer's window (not
// by a full send queue) and not recovering a loss, halves cwnd towards the largest flight it
// used (at least IW); ssthresh keeps ¾ of the old cwnd and a CUBIC stage starts afresh. So
// cwnd that a bulk phase earned does not outlive it by more than a few RTOs of small sends.
func (c *Conn) ccDecay(now int64) {
	v := &c.ccs
	used := max(v.used, c.initialWindow())
	if used < c.cwnd && !c.inRecovery && !c.rtoRecover && c.queued() < c.sqCap() {
		c.ssthresh = max(c.ssthresh, c.cwnd/4*3)
		c.cwnd = (c.cwnd + used) / 2
		c.s.ctr.CwndDecays++
		c.s.cc.onIdle(c, 0, true)
	}
	v.used, v.usedSince = 0, now
}

// newReno is RFC 5681's window growth with RFC 6582's reduction (TCPDirect's and, before
// CUBIC, Linux's): slow start below ssthresh, one SMSS per window above, half the flight on a
// loss.
type newReno struct{}

func (newReno) name() string { return "newreno" }

func (newReno) start(c *Conn) {
	c.cwnd = c.initialWindow()
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

func (newReno) onIdle(*Conn, int64, bool) {}
