package tcp

import "github.com/zocket/zocket/stack"

// Snapshot rows for zfstackdump and the metrics (stack.Dumper): one "TCP" row per connection
// with the fields of TCPDirect's zf_stackdump TCP TX/RX sections (user guide §5.14.5), one
// "TCP listen" row per listener, and the stack-wide TCP counters and drop reasons.

var connKind = stack.DumpKind{Type: "tcp", Title: "TCP", States: stateNames[:], Fields: []stack.DumpField{
	{Name: "snd_nxt", Group: "tx"}, {Name: "snd_una", Group: "tx"}, {Name: "snd_max", Group: "tx"},
	{Name: "snd_wnd", Group: "tx"}, {Name: "snd_wnd_max", Group: "tx"}, {Name: "inflight", Group: "tx"},
	{Name: "sendq", Group: "tx"}, {Name: "cwnd", Group: "tx"}, {Name: "ssthresh", Group: "tx"},
	{Name: "mss", Group: "tx"},
	{Name: "rcv_nxt", Group: "rx"}, {Name: "rcv_wnd", Group: "rx"}, {Name: "unread", Group: "rx"},
	{Name: "rcv_mss", Group: "rx"},
	{Name: "srtt_us", Group: "rtt"}, {Name: "rttvar_us", Group: "rtt"}, {Name: "rto_ms", Group: "rtt"},
	{Name: "nrtx", Group: "rtt"}, {Name: "dupacks", Group: "rtt"},
	{Name: "queued", Group: "ooo"},
	{Name: "rtx_armed", Group: "timers"}, {Name: "delack_armed", Group: "timers"}, {Name: "wait_armed", Group: "timers"},
	{Name: "sack", Group: "opts"}, {Name: "ts", Group: "opts"}, {Name: "wscale", Group: "opts"},
	{Name: "snd_wscale", Group: "opts"}, {Name: "rcv_wscale", Group: "opts"},
}}

var listenKind = stack.DumpKind{Type: "tcp_listen", Title: "TCP listen", States: stateNames[:], Fields: []stack.DumpField{
	{Name: "pending", Group: "backlog"}, {Name: "half_open", Group: "backlog"},
}}

// Dump writes the stack's TCP state into a snapshot. Connections in the demultiplexer's table
// are walked in pool order (a row's ID is the pool index), so that a dump cut by the row budget
// resumes where it stopped; listeners come first.
func (s *state) Dump(d *stack.DumpBuilder) {
	if d.Cursor() == 0 {
		c := &s.ctr
		d.Counter(stack.TCPRetransmits, c.Retransmits)
		d.Counter(stack.TCPTimeouts, c.RTOs)
		d.Counter(stack.TCPFastRetransmits, c.FastRetransmits)
		d.Counter(stack.TCPDupACKs, c.DupACKs)
		d.Counter(stack.TCPPartialACKs, c.PartialACKs)
		d.Counter(stack.TCPLostRetransmits, c.LostRetransmits)
		d.Counter(stack.TCPWindowProbes, c.WindowProbes)
		d.Counter(stack.TCPKeepaliveProbes, c.KeepaliveProbes)
		d.Counter(stack.TCPOutOfOrderRemoved, c.OOORemoved)
		d.Counter(stack.TCPOutOfOrderDropped, c.OOODropped)
		d.Counter(stack.TCPSendNoMem, c.SendENOMEM)
		d.Counter(stack.TCPSynCookiesSent, c.SynCookiesSent)
		d.Counter(stack.TCPSynCookiesRecv, c.SynCookiesRecv)
		d.Counter(stack.TCPSynCookiesFailed, c.SynCookiesFailed)
		d.Counter(stack.TCPChallengeACKsLimited, c.ChallengeLimited)
		d.Counter(stack.TCPChallengeACKs, c.ChallengeACKs)
		d.Counter(stack.TCPRetriesTimeouts, c.RetriesTimeouts)
		d.Counter(stack.TCPPersistTimeouts, c.PersistTimeouts)
		d.Counter(stack.TCPKeepaliveTimeouts, c.KeepaliveTimeouts)
		d.Counter(stack.TCPOrphanTimeouts, c.OrphanTimeouts)
		d.Counter(stack.TCPPMTUReductions, c.PMTUReductions)
		d.Counter(stack.TCPICMPIgnored, c.ICMPIgnored)
		d.Counter(stack.TCPResetsSent, c.Resets)
		d.Counter(stack.TCPResetsReceived, c.ResetsRcvd)
		d.Counter(stack.TCPOutOfOrder, c.OOOQueued)
		d.Counter(stack.TCPActiveOpens, c.ActiveOpens)
		d.Counter(stack.TCPPassiveOpens, c.PassiveOpens)
		d.Counter(stack.TCPSegmentsReceived, c.RxSegments)
		d.Counter(stack.TCPSegmentsSent, c.TxSegments)
		d.Counter(stack.TCPBytesReceived, c.RxBytes)
		d.Counter(stack.TCPBytesSent, c.TxBytes)
		d.Counter(stack.TCPSACKRecoveries, c.SACKRecoveries)
		d.Counter(stack.TCPRACKLosses, c.RACKLosses)
		d.Counter(stack.TCPTLPProbes, c.TLPProbes)
		d.Counter(stack.TCPTLPRecoveries, c.TLPRecoveries)
		d.Counter(stack.TCPSpuriousUndone, c.SpuriousUndone)
		d.Counter(stack.TCPDSACKs, c.DSACKs)
		d.Counter(stack.TCPSACKIgnored, c.SACKIgnored)
		d.Counter(stack.TCPCwndAppLimited, c.CwndAppLimited)
		d.Counter(stack.TCPCwndRestarts, c.CwndRestarts)
		d.Counter(stack.TCPCwndDecays, c.CwndDecays)
		d.Counter(stack.TCPRecoveryProbes, c.RecoveryProbes)
		d.Counter(stack.TCPFastPathSegments, c.FastPathSegments)
		d.Counter(stack.TCPTimeWaitRecycled, c.TimeWaitRecycled)
		for r := DropReason(0); r < NumDropReasons; r++ {
			d.Drop(r.Name(), c.Drops[r])
		}
		for port, l := range s.listeners {
			row := d.Row(&listenKind)
			row.ID, row.State, row.LocalIP, row.LocalPort = uint32(port), uint8(StateListen), s.ip, port
			row.F[0], row.F[1] = uint64(len(l.pending)), uint64(l.halfOpen)
		}
	}
	for i := d.Cursor(); i < len(s.pool); i++ {
		if !d.More() {
			d.Continue(i)
			return
		}
		if c := &s.pool[i]; c.inTable {
			c.dump(d.Row(&connKind), uint32(i))
		}
	}
}

func (c *Conn) dump(row *stack.DumpRow, id uint32) {
	row.ID, row.State = id, uint8(c.state)
	row.LocalIP, row.LocalPort, row.RemoteIP, row.RemotePort = c.s.ip, c.lport, c.rip, c.rport
	f := row.F
	f[0], f[1], f[2] = uint64(c.sndNxt), uint64(c.sndUna), uint64(c.sndMax)
	f[3], f[4], f[5] = uint64(c.sndWnd), uint64(c.maxSndWnd), uint64(c.sndUna.Size(c.sndMax))
	f[6], f[7], f[8], f[9] = uint64(c.sqBytes), uint64(c.cwnd), uint64(c.ssthresh), uint64(c.mss)
	f[10], f[11], f[12], f[13] = uint64(c.rcvNxt), uint64(c.rcvNxt.Size(c.rcvAdv)), uint64(c.rqBytes), uint64(c.rcvMSS)
	f[14], f[15], f[16] = uint64(c.srtt/1000), uint64(c.rttvar/1000), uint64(c.rto/1_000_000)
	f[17], f[18], f[19] = uint64(c.retries), uint64(c.dupAcks), uint64(c.nooo)
	f[20], f[21], f[22] = flag(c.rtxAt != 0), flag(c.delackAt != 0), flag(c.waitT.Armed())
	f[23], f[24], f[25] = flag(c.sackOK), flag(c.tsOK), flag(c.wsOK)
	f[26], f[27] = uint64(c.sndShift), uint64(c.rcvShift)
}

func flag(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
