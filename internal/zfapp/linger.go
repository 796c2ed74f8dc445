package zfapp

import (
	"errors"
	"flag"
	"fmt"
	"syscall"
	"time"

	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
)

// LingerFlag registers the -linger flag every command offers and returns its value: how long
// the end of a run waits for its connections to deliver their data and FIN. The default, 0,
// waits as long as TCP does (until the peer acknowledged everything, or TCP gave up by its
// retry limits: tcp_retries).
func LingerFlag(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("linger", 0, "at exit, wait at most `DURATION` for the connections' data and FIN to be acknowledged (0: as long as TCP retries)")
}

// delivered reports whether c needs nothing more from the stack for what it sent: the peer
// acknowledged its data and FIN (FIN-WAIT-2, TIME-WAIT), or the connection ended (CLOSE).
func delivered(c *tcp.Conn) bool {
	switch c.State() {
	case tcp.StateFinWait2, tcp.StateTimeWait, tcp.StateClose:
		return true
	}
	return false
}

// finish ends the TCP connections among zockets gracefully, before they are closed: each sends
// its FIN after its queued data, and the reactor runs until every one is delivered (then until
// the peers' FINs came, within tcp_finwait_ms) or the linger (when > 0) passed. What the peers still send meanwhile is read and dropped, so that the close
// that follows sends no RST. It returns, joined, what it gave up on: connections that TCP ended
// with an error (ETIMEDOUT when its retransmissions ran out) and, past the linger, those still
// waiting (ETIMEDOUT).
func finish(s *stack.Stack, linger time.Duration, zockets []interface{ Close() error }) error {
	var conns []*tcp.Conn
	for _, z := range zockets {
		if c, ok := z.(*tcp.Conn); ok {
			switch c.State() {
			case tcp.StateClose, tcp.StateSynSent, tcp.StateSynRecv:
				// nothing sent to deliver: Close ends it
			default:
				conns = append(conns, c)
			}
		}
	}
	if len(conns) == 0 {
		return nil
	}
	msg := tcp.NewMsg(16)
	deadline := time.Now().Add(linger)
	// Once every connection is delivered, the peers' FINs are awaited for up to
	// tcp_finwait_ms (TCP's own FIN-WAIT-2 limit), so that our ACK of each goes out before the
	// stack does: a peer whose FIN found no stack would retransmit it until its TCP gave up.
	var finEnd time.Time
	for {
		waiting, finWaiting := 0, 0
		for _, c := range conns {
			if s := c.State(); s == tcp.StateEstablished || s == tcp.StateCloseWait {
				_ = c.ShutdownTx() // ENOMEM (no buffer for the FIN yet): again next turn
			}
			c.ZcRecv(msg)
			if len(msg.Iov) > 0 {
				_, _ = c.ZcRecvDone(msg)
			}
			switch {
			case !delivered(c):
				waiting++
			case c.State() == tcp.StateFinWait2:
				finWaiting++
			}
		}
		if waiting == 0 && finEnd.IsZero() {
			finEnd = time.Now().Add(time.Duration(s.Attr().IntOf(attr.TCPFinwaitMs)) * time.Millisecond)
		}
		if waiting == 0 && (finWaiting == 0 || time.Now().After(finEnd)) || linger > 0 && time.Now().After(deadline) {
			break
		}
		// One turn between checks: once the last exchange is done, the peer's process may end
		// at once, and DPDK 22.11's memif unmaps its shared rings (its interrupt thread) while
		// a turn still polls them; the fewer turns after the end, the narrower that race.
		s.Perform()
	}
	var errs []error
	for _, c := range conns {
		switch err := c.Err(); {
		case !delivered(c):
			errs = append(errs, fmt.Errorf("connection %v→%v: -linger %v passed in %v with its data or FIN unacknowledged: %w",
				c.LocalAddr(), c.RemoteAddr(), linger, c.State(), syscall.ETIMEDOUT))
		case err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE):
			errs = append(errs, fmt.Errorf("connection %v→%v: TCP gave up on delivering its data and FIN: %w",
				c.LocalAddr(), c.RemoteAddr(), err))
		}
	}
	return errors.Join(errs...)
}
