package tcp

// Proportional Rate Reduction (RFC 6937, PRR-SSRB) sizes what a SACK recovery sends: while
// pipe is above ssthresh, data goes in proportion to what the peer delivers (ssthresh /
// RecoverFS of it), so cwnd comes down to ssthresh smoothly over the recovery's round trip
// rather than in one step; below ssthresh, slow-start reduction bound grows it back by at
// most what was delivered plus one segment per ACK. Retransmissions and new data both count
// as sent.

// prrStart begins a recovery's accounting (RFC 6937 §3: RecoverFS is the data outstanding).
func (c *Conn) prrStart() {
	r := &c.rec
	r.prrDelivered, r.prrOut = 0, 0
	r.recoverFS = max(int(c.sndUna.Size(c.sndMax)), 1)
	r.prrMax = c.sndMax
}

// prrAck sets cwnd for an ACK in recovery that delivered bytes (RFC 6937 §3's DeliveredData:
// newly acknowledged cumulatively plus newly SACKed): cwnd = pipe + sndcnt, sndcnt rounded up
// to whole segments (segments go whole; what one sends beyond sndcnt is taken off the next).
func (c *Conn) prrAck(delivered int) {
	r := &c.rec
	r.prrOut += int(r.prrMax.Size(c.sndMax)) // new data push sent since
	r.prrMax = c.sndMax
	r.prrDelivered += delivered
	pipe, ss := int(c.pipe()), int(c.ssthresh)
	var sndcnt int
	if pipe > ss {
		sndcnt = (r.prrDelivered*ss+r.recoverFS-1)/r.recoverFS - r.prrOut
	} else {
		sndcnt = min(ss-pipe, max(r.prrDelivered-r.prrOut, delivered)+c.mss)
	}
	if sndcnt > 0 {
		sndcnt = (sndcnt + c.mss - 1) / c.mss * c.mss // whole segments, as Linux counts
	}
	c.cwnd = uint32(pipe + max(sndcnt, 0))
}
