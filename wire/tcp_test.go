package wire

import (
	"encoding/binary"
	"testing"
)

func TestTCPDeconstruct(t *testing.T) {
	// 10.0.0.1.40000 > 10.0.0.2.9000: Flags [S], cksum 0xc0d3 (correct), seq 1000, win 65535, options [mss 1460], length 0
	ip, b := l4(t, fixtureTCPSynMSS)
	wantErr(t, "CheckTCP", CheckTCP(b), 0)
	s := TCP(b)
	eq(t, "SrcPort", s.SrcPort(), uint16(40000))
	eq(t, "DstPort", s.DstPort(), uint16(9000))
	eq(t, "Seq", s.Seq(), Seq(1000))
	eq(t, "Ack", s.Ack(), Seq(0))
	eq(t, "Flags", s.Flags(), TCPFlagSyn)
	eq(t, "Flags.String", s.Flags().String(), "[S]")
	eq(t, "Window", s.Window(), uint16(65535))
	eq(t, "Checksum", s.Checksum(), uint16(0xc0d3))
	eq(t, "DataOffset", s.DataOffset(), 24)
	eq(t, "Urgent", s.Urgent(), uint16(0))
	eq(t, "Payload", len(s.Payload()), 0)
	eq(t, "ChecksumValid", s.ChecksumValid(ip.Src(), ip.Dst()), true)
	eq(t, "ComputeChecksum", s.ComputeChecksum(ip.Src(), ip.Dst()), uint16(0xc0d3))
	o, err := ParseTCPOptions(s.Options())
	wantErr(t, "ParseTCPOptions", err, 0)
	eq(t, "options", o, TCPOptions{MSS: 1460, HasMSS: true})

	// 10.0.0.2.9000 > 10.0.0.1.40000: Flags [S.], cksum 0x4ec1 (correct), seq 4294967280, ack 1001, win 29200, options [mss 1460], length 0
	ip, b = l4(t, fixtureTCPSynAckMSS)
	wantErr(t, "CheckTCP SYN-ACK", CheckTCP(b), 0)
	s = TCP(b)
	eq(t, "SYN-ACK fields", s.Fields(), TCPFields{SrcPort: 9000, DstPort: 40000, Seq: 4294967280, Ack: 1001,
		Flags: TCPFlagSyn | TCPFlagAck, Window: 29200, Checksum: 0x4ec1, MSS: 1460})
	eq(t, "Flags.String", s.Flags().String(), "[S.]")
	eq(t, "ChecksumValid", s.ChecksumValid(ip.Src(), ip.Dst()), true)

	// 10.0.0.1.40001 > 10.0.0.2.9000: Flags [S], cksum 0x45ec (correct), seq 2654435769, win 64240,
	//   options [mss 1460,sackOK,TS val 10099500 ecr 0,nop,wscale 7], length 0
	ip, b = l4(t, fixtureTCPSynLinux)
	wantErr(t, "CheckTCP Linux SYN", CheckTCP(b), 0)
	s = TCP(b)
	eq(t, "Seq", s.Seq(), Seq(2654435769))
	eq(t, "Window", s.Window(), uint16(64240))
	eq(t, "DataOffset", s.DataOffset(), 40)
	o, err = ParseTCPOptions(s.Options())
	wantErr(t, "ParseTCPOptions Linux", err, 0)
	eq(t, "Linux options", o, TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true,
		HasTimestamps: true, TSVal: 10099500, TSEcr: 0, WScale: 7, HasWScale: true})
	eq(t, "ChecksumValid", s.ChecksumValid(ip.Src(), ip.Dst()), true)

	// 10.0.0.1.40000 > 10.0.0.2.9000: Flags [P.], cksum 0xf7de (correct), seq 1001:1019, ack 4294967281, win 502, length 18
	ip, b = l4(t, fixtureTCPData)
	wantErr(t, "CheckTCP data", CheckTCP(b), 0)
	s = TCP(b)
	eq(t, "Seq", s.Seq(), Seq(1001))
	eq(t, "Ack", s.Ack(), Seq(4294967281))
	eq(t, "Flags", s.Flags().String(), "[P.]")
	eqBytes(t, "Payload", s.Payload(), []byte("GET / HTTP/1.0\r\n\r\n"))
	eq(t, "end seq", s.Seq().Add(uint32(len(s.Payload()))), Seq(1019))
	eq(t, "ChecksumValid", s.ChecksumValid(ip.Src(), ip.Dst()), true)
	eq(t, "ChecksumValid swapped", s.ChecksumValid(ip.Dst(), ip.Src()), true) // the sum is symmetric

	// 10.0.0.1.40000 > 10.0.0.2.81: Flags [R.], cksum 0xfb53 (correct), seq 0, ack 1001, win 0, length 0
	_, b = l4(t, fixtureTCPRst)
	wantErr(t, "CheckTCP RST", CheckTCP(b), 0)
	eq(t, "RST Flags", TCP(b).Flags().String(), "[R.]")
	eq(t, "RST Checksum", TCP(b).Checksum(), uint16(0xfb53))
}

func TestTCPConstruct(t *testing.T) {
	// Headers without options other than MSS come back byte for byte.
	for _, frame := range [][]byte{fixtureTCPSynMSS, fixtureTCPSynAckMSS, fixtureTCPData, fixtureTCPRst} {
		_, want := l4(t, frame)
		s := TCP(want)
		b := make([]byte, TCPMaximumHeaderSize)
		f := s.Fields()
		n := f.Encode(b)
		eq(t, "Encode length", n, s.DataOffset())
		eqBytes(t, "Encode", b[:n], want[:n])
	}
	// Setters, and the checksum of a whole segment.
	ip, want := l4(t, fixtureTCPData)
	s := TCP(clone(want))
	clear(s[:TCPMinimumSize])
	s[tcpDataOffset] = 5 << 4
	s.SetSrcPort(40000)
	s.SetDstPort(9000)
	s.SetSeq(1001)
	s.SetAck(4294967281)
	s.SetFlags(TCPFlagPsh | TCPFlagAck)
	s.SetWindow(502)
	s.SetUrgent(0)
	s.SetChecksum(s.ComputeChecksum(ip.Src(), ip.Dst()))
	eqBytes(t, "setters", s, want)
	// Incremental update of the sequence number.
	s.SetSeq(0xfffffff0)
	s.SetChecksum(ChecksumUpdate32(s.Checksum(), 1001, 0xfffffff0))
	eq(t, "ChecksumUpdate32", s.Checksum(), s.ComputeChecksum(ip.Src(), ip.Dst()))
}

func TestTCPFlagsString(t *testing.T) {
	tests := []struct {
		f    TCPFlags
		want string
	}{
		{0, "[none]"},
		{TCPFlagSyn, "[S]"},
		{TCPFlagSyn | TCPFlagAck, "[S.]"},
		{TCPFlagAck, "[.]"},
		{TCPFlagFin | TCPFlagAck, "[F.]"},
		{TCPFlagRst, "[R]"},
		{TCPFlagPsh | TCPFlagAck, "[P.]"},
		{TCPFlagSyn | TCPFlagEce | TCPFlagCwr, "[SEW]"},
		{TCPFlagUrg | TCPFlagAck, "[.U]"},
		{0xff, "[FSRP.UEW]"},
	}
	for _, tc := range tests {
		eq(t, "String", tc.f.String(), tc.want)
	}
	eq(t, "Contains", (TCPFlagSyn | TCPFlagAck).Contains(TCPFlagSyn), true)
	eq(t, "Contains both", (TCPFlagSyn | TCPFlagAck).Contains(TCPFlagSyn|TCPFlagFin), false)
}

// TestCheckTCPMalformed covers header parsing for TCP: lengths, data offset
// and option structure. SYN+FIN, SYN+RST and null-flag segments (test plan
// "TCP" 25) pass the check: dropping them is the state machine's.
func TestCheckTCPMalformed(t *testing.T) {
	good := buildTCP(ip1, ip2, TCPFields{SrcPort: 1, DstPort: 2, Seq: 3, Flags: TCPFlagAck, Window: 4}, nil, []byte("data"))
	setOff := func(words uint8) []byte {
		b := clone(good)
		b[tcpDataOffset] = words << 4
		return b
	}
	withOpts := func(opts ...byte) []byte {
		return buildTCP(ip1, ip2, TCPFields{Flags: TCPFlagSyn}, opts, nil)
	}
	tests := []struct {
		name string
		b    []byte
		want Error
	}{
		{"ok", good, 0},
		{"empty", nil, ErrTruncated},
		{"19 bytes", good[:19], ErrTruncated},
		{"offset 0", setOff(0), ErrTCPOffset},
		{"offset 4", setOff(4), ErrTCPOffset},
		{"offset 6 > segment", setOff(6)[:23], ErrTCPOffset},
		{"offset 15 > segment", setOff(15), ErrTCPOffset},
		{"offset 6 = segment: data read as options", setOff(6), ErrOptions}, // 'd' with length 'a'
		{"offset 6 = segment, NOPs", func() []byte { b := setOff(6); copy(b[20:], []byte{1, 1, 1, 1}); return b }(), 0},
		{"header only", good[:20], 0},
		{"NS bit and reserved bits", func() []byte { b := clone(good); b[tcpDataOffset] |= 0x0f; return b }(), 0},
		{"option length 0", withOpts(TCPOptionMSS, 0, 5, 0xb4), ErrOptions},
		{"option length 1", withOpts(TCPOptionNOP, 99, 1, 0), ErrOptions},
		{"option past header", withOpts(TCPOptionTimestamps, 10, 0, 0), ErrOptions},
		{"option length byte missing", withOpts(TCPOptionNOP, TCPOptionNOP, TCPOptionNOP, TCPOptionWindowScale), ErrOptions},
		{"unknown option", withOpts(99, 4, 1, 2), 0},
		{"EOL then garbage", withOpts(TCPOptionEOL, 99, 0, 1), 0},
		{"MSS length 3 (structure ok)", withOpts(TCPOptionMSS, 3, 5, TCPOptionNOP), 0},
		{"SYN+FIN", buildTCP(ip1, ip2, TCPFields{Flags: TCPFlagSyn | TCPFlagFin}, nil, nil), 0},
		{"SYN+RST", buildTCP(ip1, ip2, TCPFields{Flags: TCPFlagSyn | TCPFlagRst}, nil, nil), 0},
		{"no flags", buildTCP(ip1, ip2, TCPFields{}, nil, nil), 0},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, CheckTCP(tc.b), tc.want)
	}
	bad := clone(good)
	bad[22] ^= 1
	eq(t, "bad checksum", TCP(bad).ChecksumValid(ip1, ip2), false)
}

func TestParseTCPOptions(t *testing.T) {
	ts := func(val, ecr uint32) []byte {
		b := []byte{TCPOptionTimestamps, 10, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[2:], val)
		binary.BigEndian.PutUint32(b[6:], ecr)
		return b
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name string
		opts []byte
		want TCPOptions
		err  Error
	}{
		{"none", nil, TCPOptions{}, 0},
		{"MSS", []byte{2, 4, 0x05, 0xb4}, TCPOptions{MSS: 1460, HasMSS: true}, 0},
		{"MSS 0 (the stack ignores it)", []byte{2, 4, 0, 0}, TCPOptions{HasMSS: true}, 0},
		{"MSS 1 (the stack clamps it)", []byte{2, 4, 0, 1}, TCPOptions{MSS: 1, HasMSS: true}, 0},
		{"wscale 15 (the stack clamps it to 14)", []byte{1, 3, 3, 15}, TCPOptions{WScale: 15, HasWScale: true}, 0},
		{"SACK permitted", []byte{4, 2, 1, 1}, TCPOptions{SACKPermitted: true}, 0},
		{"timestamps", cat([]byte{1, 1}, ts(0xdeadbeef, 7)), TCPOptions{HasTimestamps: true, TSVal: 0xdeadbeef, TSEcr: 7}, 0},
		{"everything, then unknown and SACK blocks",
			cat([]byte{2, 4, 0x23, 0x28, 4, 2}, ts(1, 2), []byte{1, 3, 3, 14, 99, 3, 0, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}),
			TCPOptions{MSS: 9000, HasMSS: true, SACKPermitted: true, HasTimestamps: true, TSVal: 1, TSEcr: 2, WScale: 14, HasWScale: true,
				SACK: [MaxSACKBlocks]SACKBlock{{1, 2}}, NumSACK: 1}, 0},
		{"four SACK blocks, most recent first",
			[]byte{1, 1, 5, 34, 0, 0, 0, 9, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 5},
			TCPOptions{SACK: [MaxSACKBlocks]SACKBlock{{9, 10}, {1, 2}, {3, 4}, {0xfffffff0, 5}}, NumSACK: 4}, 0},
		{"SACK without a block", []byte{5, 2}, TCPOptions{}, ErrOptions},
		{"SACK length 6", []byte{5, 6, 0, 0, 0, 1}, TCPOptions{}, ErrOptions},
		{"SACK length 11", []byte{5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0}, TCPOptions{}, ErrOptions},
		{"EOL stops", []byte{0, 2, 4, 1, 1}, TCPOptions{}, 0},
		{"repeated MSS: last wins", []byte{2, 4, 0, 100, 2, 4, 0, 200}, TCPOptions{MSS: 200, HasMSS: true}, 0},
		{"unknown with length 2", []byte{30, 2}, TCPOptions{}, 0},
		{"MSS length 3", []byte{2, 3, 5, 1}, TCPOptions{}, ErrOptions},
		{"MSS length 5", []byte{2, 5, 5, 0xb4, 0}, TCPOptions{}, ErrOptions},
		{"MSS truncated", []byte{2, 4, 5}, TCPOptions{}, ErrOptions},
		{"wscale length 4", []byte{3, 4, 7, 0}, TCPOptions{}, ErrOptions},
		{"SACK permitted length 3", []byte{4, 3, 0}, TCPOptions{}, ErrOptions},
		{"timestamps length 8", []byte{8, 8, 0, 0, 0, 0, 0, 0}, TCPOptions{}, ErrOptions},
		{"length 0", []byte{99, 0}, TCPOptions{}, ErrOptions},
		{"length 1", []byte{99, 1}, TCPOptions{}, ErrOptions},
		{"length byte missing", []byte{1, 99}, TCPOptions{}, ErrOptions},
		{"length past end", []byte{99, 5, 0, 0}, TCPOptions{}, ErrOptions},
		{"good then bad", []byte{2, 4, 5, 0xb4, 99, 0}, TCPOptions{}, ErrOptions},
	}
	for _, tc := range tests {
		o, err := ParseTCPOptions(tc.opts)
		wantErr(t, tc.name, err, tc.err)
		eq(t, tc.name, o, tc.want)
		// ParseTCPOptions accepts only what CheckTCP's structure test does.
		if err == nil && !optionsWellFormed(tc.opts) {
			t.Errorf("%s: parsed but not well formed", tc.name)
		}
	}
}
