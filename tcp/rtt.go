package tcp

// RTT samples (RFC 6298 §3, RFC 7323 §4): one from every ACK that acknowledges new data,
// rather than one timed segment per round trip. From the send queue's times (microsecond
// precision, the stack's clock) when none of the data it acknowledges left twice; otherwise,
// with timestamps, from the echo of our TSval (1 ms ticks), which tells which transmission the
// ACK answers, so that Karn's rule no longer starves the estimator after a loss; otherwise
// none (Karn).

// ackRTT is the RTT sample (ns) that an ACK of new data gives, or 0 for none. It looks at the
// queued segments ack reaches into before they are freed: the oldest one's last departure
// gives the sample (Linux's seq_rtt: the most conservative of the ACK's), unless one of them
// was sent twice.
func (c *Conn) ackRTT(g *segment) int64 {
	now := c.s.st.Now()
	var first int64
	for i := c.sqHead; i != c.sqTail; i++ {
		e := c.seg(i)
		if !e.seq.LessThan(g.ack) {
			break
		}
		if e.rexmit || e.sentAt == 0 {
			first = -1
			break
		}
		if first == 0 {
			first = e.sentAt
		}
	}
	if first > 0 {
		return max(now-first, 1)
	}
	if first == 0 || !c.tsOK || !g.opts.HasTimestamps || g.opts.TSEcr == 0 {
		return 0 // no data acknowledged (the SYN only), or nothing unambiguous to go by
	}
	d := int32(c.tsNow() - g.opts.TSEcr)
	if d < 0 {
		return 0 // an echo from the future: not ours
	}
	return int64(max(d, 1)) * 1e6 // under a tick counts as one, as Linux
}
