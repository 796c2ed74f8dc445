package udp

import "github.com/zocket/zocket/stack"

// Snapshot rows for zfstackdump and the metrics (stack.Dumper): one "UDP RX" row per bind of a
// receiver (TCPDirect's zf_stackdump prints a zfur's filters the same way) and one "UDP TX" row
// per transmitter, plus the stack-wide UDP counters and drop reasons.

var rxKind = stack.DumpKind{Type: "udp_rx", Title: "UDP RX", Fields: []stack.DumpField{
	{Name: "unread", Group: "rx"}, {Name: "received", Group: "rx"},
	{Name: "release_n", Group: "udp rx"}, {Name: "q_drops", Group: "udp rx"},
	{Name: "queue_len", Group: "udp rx"},
}}

var txKind = stack.DumpKind{Type: "udp_tx", Title: "UDP TX", Fields: []stack.DumpField{
	{Name: "sent", Group: "tx"}, {Name: "sent_bytes", Group: "tx"}, {Name: "mss", Group: "tx"},
	{Name: "resolved", Group: "path"},
}}

// Dump writes the stack's UDP state into a snapshot (stack.Dumper). Zockets are walked in slot
// order so that a dump interrupted by the row budget resumes where it stopped.
func (s *state) Dump(d *stack.DumpBuilder) {
	if d.Cursor() == 0 {
		c := &s.ctr
		d.Counter(stack.UDPDatagramsReceived, c.RxDatagrams)
		d.Counter(stack.UDPDatagramsSent, c.TxDatagrams)
		d.Counter(stack.UDPBytesReceived, c.RxBytes)
		d.Counter(stack.UDPBytesSent, c.TxBytes)
		d.Counter(stack.UDPQueueDrops, c.Drops[DropQueueFull])
		for r := DropReason(0); r < NumDropReasons; r++ {
			d.Drop(r.Name(), c.Drops[r])
		}
	}
	n := len(s.rxs)
	for i := d.Cursor(); i < n+len(s.txs); i++ {
		if !d.More() {
			d.Continue(i)
			return
		}
		if i < n {
			if r := s.rxs[i]; r != nil {
				r.dump(d, uint32(i))
			}
		} else if t := s.txs[i-n]; t != nil {
			t.dump(d, uint32(i-n))
		}
	}
}

func (r *Receiver) dump(d *stack.DumpBuilder, id uint32) {
	c := r.Counters()
	for _, b := range r.binds {
		row := d.Row(&rxKind)
		row.ID, row.LocalIP, row.LocalPort, row.RemoteIP, row.RemotePort = id, b.local.ip, b.local.port, b.rip, b.rport
		row.F[0], row.F[1], row.F[2], row.F[3], row.F[4] = uint64(c.Unread), c.Received, c.Released, c.QDrops, uint64(r.qlen)
	}
}

func (t *Transmitter) dump(d *stack.DumpBuilder, id uint32) {
	row := d.Row(&txKind)
	row.ID, row.LocalIP, row.LocalPort = id, t.laddr.Addr().As4(), t.laddr.Port()
	row.RemoteIP, row.RemotePort = t.raddr.Addr().As4(), t.raddr.Port()
	row.F[0], row.F[1], row.F[2] = t.sent, t.sentBytes, uint64(t.mss)
	if t.resolved {
		row.F[3] = 1
	}
}
