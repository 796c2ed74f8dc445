package tcppingpong

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"syscall"

	"github.com/zocket/zocket/alts"
	"github.com/zocket/zocket/internal/zfapp"
)

// altPong echoes the ping's messages, sending each from the alternative queued with the
// matching candidate (see the command's doc), with Conn.Send when none matches.
func (l *loop) altPong(stderr io.Writer) error {
	c, st, conn, msg := l.c, l.st, l.conn, l.msg
	size := c.size
	mss, err := conn.MSS()
	if err != nil {
		return err
	}
	framed := size >= zfapp.MsgHeader
	ncand := c.nalts
	cands := make([][]byte, ncand)
	for k := range cands {
		cands[k] = make([]byte, size)
		for i := range cands[k] {
			cands[k][i] = byte(i)
		}
	}
	for k := 0; k < ncand; k++ {
		alt, err := alts.Alloc(st, nil)
		if err != nil {
			return fmt.Errorf("pong: alternative %d: %w", k, err)
		}
		l.alts = append(l.alts, alt)
	}
	var one [1][]byte
	// requeue cancels every alternative and queues the candidates for message seq.
	requeue := func(seq uint64) error {
		for k, alt := range l.alts {
			if alt.Len() > 0 {
				alts.Cancel(st, alt)
			}
			b := cands[k]
			if framed {
				b[0] = byte(k) // zfapp.MsgPing, zfapp.MsgHK, zfapp.MsgSync; higher: decoys
				binary.LittleEndian.PutUint64(b[1:], seq)
			}
			for off := 0; off < size; off += mss {
				one[0] = b[off:min(off+mss, size)]
				if err := alts.Queue(conn, alt, one[:], 0); err != nil {
					if err == syscall.EAGAIN || err == syscall.EBUSY {
						return nil // try again after the next message
					}
					return fmt.Errorf("pong: queue: %w", err)
				}
			}
		}
		return nil
	}
	pending := make([]byte, 0, size)
	var echoed, viaAlt int64
	nextSeq := uint64(1)
	if err := requeue(nextSeq); err != nil {
		return err
	}
	finish := func(how string) error {
		fmt.Fprintf(stderr, "pong: echoed %d bytes%s alts_sent=%d\n", echoed, how, viaAlt)
		return nil
	}
	for {
		conn.ZcRecv(msg)
		if len(msg.Iov) == 0 {
			if !l.poll() && c.stop.Load() {
				return finish("")
			}
			continue
		}
		eof := len(msg.Iov[len(msg.Iov)-1]) == 0
		hk := false
		for _, b := range msg.Iov {
			for len(b) > 0 {
				k := copy(pending[len(pending):size], b)
				pending = pending[:len(pending)+k]
				b = b[k:]
				if len(pending) < size {
					break
				}
				// A whole message: the alternative whose candidate it is, if any.
				k = 0
				if framed {
					k = int(pending[0])
				}
				sent := false
				if k < ncand && l.alts[k].Len() > 0 && bytes.Equal(pending, cands[k]) {
					if err := alts.Send(st, l.alts[k]); err == nil {
						sent = true
						viaAlt++
					}
				}
				if !sent {
					if err := l.send(pending); err != nil {
						return err
					}
				}
				echoed += int64(size)
				if framed {
					hk = hk || pending[0] == zfapp.MsgHK
					nextSeq = binary.LittleEndian.Uint64(pending[1:]) + 1
				}
				pending = pending[:0]
				if err := requeue(nextSeq); err != nil {
					return err
				}
			}
		}
		_, err := conn.ZcRecvDone(msg)
		if errors.Is(err, syscall.ECONNRESET) {
			return finish(" (reset by the peer)")
		}
		if err != nil || eof {
			if len(pending) > 0 {
				if err := l.send(pending); err == nil {
					echoed += int64(len(pending))
				}
			}
			if err != nil {
				return fmt.Errorf("pong: connection ended after %d bytes: %w", echoed, err)
			}
			return finish("")
		}
		if hk {
			runtime.Gosched()
		}
	}
}
