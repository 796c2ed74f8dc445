package tcp

// TIME-WAIT under endpoint pressure. A connection in TIME-WAIT (2·MSL, tcp_timewait_ms: 60 s
// by default) keeps its endpoint, one of max_tcp_endpoints (64 by default). A server that
// closes first (HTTP without keep-alive, an idle-timeout sweep) or a client dialling short
// connections would then run out of endpoints after max_tcp_endpoints connections and refuse
// every new one for a minute. Linux keeps TIME-WAIT in small buckets outside the socket limits
// and, past tcp_max_tw_buckets, ends TIME-WAIT at once ("time wait bucket table overflow").
// zocket does the same at its limit: when a new connection needs an endpoint and none is free,
// the oldest orphaned connection in TIME-WAIT ends early and gives its endpoint (counted as
// TimeWaitRecycled). RFC 9293's protection of a new incarnation from the old one's delayed
// segments is then lost for that 4-tuple, as on Linux; the ISN generator (RFC 6528, a
// clock-driven offset) and, when negotiated, PAWS still separate incarnations in practice.
// A connection the application has not closed (only shut down) is never recycled: its endpoint
// is the application's until Close.

// twList is the state's list of orphaned connections in TIME-WAIT, in the order they became
// recyclable: entering TIME-WAIT closed, or closed by the application in TIME-WAIT. That is
// nearly the order their timers expire (every TIME-WAIT lasts tcp_timewait_ms).
type twList struct {
	head, tail *Conn
}

// add appends c, which has just entered TIME-WAIT, when it is orphaned (add is called again by
// Close for one that entered TIME-WAIT before the application closed it).
func (l *twList) add(c *Conn) {
	if c.inTW || !c.orphan {
		return
	}
	c.inTW, c.twPrev, c.twNext = true, l.tail, nil
	if l.tail != nil {
		l.tail.twNext = c
	} else {
		l.head = c
	}
	l.tail = c
}

// remove takes c off the list if it is on it.
func (l *twList) remove(c *Conn) {
	if !c.inTW {
		return
	}
	if c.twPrev != nil {
		c.twPrev.twNext = c.twNext
	} else {
		l.head = c.twNext
	}
	if c.twNext != nil {
		c.twNext.twPrev = c.twPrev
	} else {
		l.tail = c.twPrev
	}
	c.inTW, c.twPrev, c.twNext = false, nil, nil
}

// haveEndpoint reports whether a new connection or handle may take an endpoint: fewer than
// max_tcp_endpoints are taken, or the oldest closed connection in TIME-WAIT gave its own.
func (s *state) haveEndpoint() bool { return s.nconns < s.cfg.maxConns || s.recycleTimeWait() }

// recycleTimeWait ends the oldest orphaned TIME-WAIT connection, freeing its endpoint, and
// reports whether there was one.
func (s *state) recycleTimeWait() bool {
	c := s.tw.head
	if c == nil {
		return false
	}
	s.ctr.TimeWaitRecycled++
	c.closeDown() // off the list, out of the table, freed (orphaned)
	return true
}

// twReopens reports whether a SYN (without ACK) may end this connection's TIME-WAIT and open a
// new incarnation through the listener: when both the old incarnation and the SYN have
// timestamps, if the SYN's TSval is newer than TS.Recent (RFC 6191 §2: clients pick their
// initial sequence numbers at random, so a port reused soon has a lower one half of the time,
// while Linux's timestamps between two hosts keep growing); otherwise if it starts above RCV.NXT
// (RFC 1122 §4.2.2.13).
func (c *Conn) twReopens(g *segment) bool {
	if c.tsOK && g.opts.HasTimestamps {
		return int32(g.opts.TSVal-c.tsRecent) > 0
	}
	return c.rcvNxt.LessThan(g.seq)
}
