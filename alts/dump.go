package alts

import "github.com/zocket/zocket/stack"

// Snapshot rows for zfstackdump and the metrics (stack.Dumper, registered with
// Stack.AddDumper while the stack has alternatives): the counters stack.AltsQueued, AltsSent
// and AltsCancelled, and one "TX ALT" row per allocated alternative.

var altKind = stack.DumpKind{Type: "tcp_alt", Title: "TX ALT", Fields: []stack.DumpField{
	{Name: "queued_pkts", Group: "alt"}, {Name: "queued_bytes", Group: "alt"},
	{Name: "buf_used", Group: "alt"}, {Name: "seq", Group: "alt"},
	{Name: "sent", Group: "alts"}, {Name: "sent_pkts", Group: "alts"},
	{Name: "stale", Group: "alts"}, {Name: "busy", Group: "alts"},
}}

// Dump writes the stack's alternatives into a snapshot (stack.Dumper).
func (s *state) Dump(d *stack.DumpBuilder) {
	if d.Cursor() == 0 {
		d.Counter(stack.AltsQueued, s.ctr.Queued)
		d.Counter(stack.AltsSent, s.ctr.Sent)
		d.Counter(stack.AltsCancelled, s.ctr.Cancelled)
	}
	for i := d.Cursor(); i < len(s.alts); i++ {
		if !d.More() {
			d.Continue(i)
			return
		}
		alt := &s.alts[i]
		if !alt.inUse {
			continue
		}
		row := d.Row(&altKind)
		row.ID = uint32(i)
		row.LocalIP = s.st.LocalIP4()
		if alt.conn != nil {
			la, ra := alt.conn.LocalAddr(), alt.conn.RemoteAddr()
			row.LocalPort = la.Port()
			row.RemoteIP, row.RemotePort = ra.Addr().As4(), ra.Port()
			row.F[3] = uint64(alt.pt.Seq)
		}
		row.F[0], row.F[1], row.F[2] = uint64(alt.n), uint64(alt.bytes), uint64(alt.usage)
		row.F[4], row.F[5], row.F[6], row.F[7] = s.ctr.Sent, s.ctr.SentPkts, s.ctr.Stale, s.ctr.Busy
	}
}
