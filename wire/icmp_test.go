package wire

import (
	"encoding/binary"
	"testing"
)

func TestICMPDeconstruct(t *testing.T) {
	// 10.0.0.1 > 10.0.0.2: ICMP echo request, id 4660, seq 1, length 16
	_, b := l4(t, fixtureICMPEcho)
	wantErr(t, "CheckICMP echo", CheckICMP(b), 0)
	m := ICMP(b)
	eq(t, "Type", m.Type(), uint8(ICMPEchoRequest))
	eq(t, "Code", m.Code(), uint8(0))
	eq(t, "ID", m.ID(), uint16(4660))
	eq(t, "Seq", m.Seq(), uint16(1))
	eq(t, "len", len(m), 16)
	eqBytes(t, "Payload", m.Payload(), []byte("zocket!!"))
	eq(t, "IsError", m.IsError(), false)
	eq(t, "ComputeChecksum", m.ComputeChecksum(), m.Checksum())
	_, err := m.Quoted()
	wantErr(t, "Quoted on echo", err, ErrICMPType)

	// ICMP 10.0.0.1 udp port 9000 unreachable, length 36
	//   (tos 0x0, ttl 64, id 7238, offset 0, flags [DF], proto UDP (17), length 33)
	//   10.0.0.2.40000 > 10.0.0.1.9000: UDP, length 5
	_, b = l4(t, fixtureICMPPortUnreachable)
	wantErr(t, "CheckICMP unreachable", CheckICMP(b), 0)
	m = ICMP(b)
	eq(t, "Type", m.Type(), uint8(ICMPDestUnreachable))
	eq(t, "Code", m.Code(), uint8(ICMPPortUnreachable))
	eq(t, "IsError", m.IsError(), true)
	q, err := m.Quoted()
	wantErr(t, "Quoted", err, 0)
	eq(t, "quoted Protocol", q.Protocol(), uint8(ProtoUDP))
	eq(t, "quoted TotalLength", q.TotalLength(), uint16(33))
	eq(t, "quoted Src", q.Src(), ip2)
	eq(t, "quoted Dst", q.Dst(), ip1)
	u := UDP(q.Payload())
	eq(t, "quoted SrcPort", u.SrcPort(), uint16(40000))
	eq(t, "quoted DstPort", u.DstPort(), uint16(9000))

	// ICMP 10.0.0.1 unreachable - need to frag (mtu 1280), length 36
	//   (tos 0x0, ttl 64, id 7238, offset 0, flags [DF], proto TCP (6), length 1440)
	//   10.0.0.2.9000 > 10.0.0.1.40000:  [|tcp]
	_, b = l4(t, fixtureICMPFragNeeded)
	wantErr(t, "CheckICMP frag needed", CheckICMP(b), 0)
	m = ICMP(b)
	eq(t, "Code", m.Code(), uint8(ICMPFragmentationNeeded))
	eq(t, "MTU", m.MTU(), uint16(1280))
	q, err = m.Quoted()
	wantErr(t, "Quoted", err, 0)
	eq(t, "quoted TotalLength", q.TotalLength(), uint16(1440))
	eq(t, "quoted view", len(q), 28) // the quote, not the 1440 bytes
	eq(t, "quoted Payload", len(q.Payload()), 8)
	eq(t, "quoted TCP ports", binary.BigEndian.Uint32(q.Payload()), uint32(9000<<16|40000))
	eq(t, "quoted TCP seq", binary.BigEndian.Uint32(q.Payload()[4:]), uint32(0x01020304))
}

func TestICMPConstruct(t *testing.T) {
	for _, frame := range [][]byte{fixtureICMPEcho, fixtureICMPPortUnreachable, fixtureICMPFragNeeded} {
		_, want := l4(t, frame)
		b := clone(want)
		clear(b[:ICMPMinimumSize])
		f := ICMP(want).Fields()
		eq(t, "Encode", f.Encode(b), ICMPMinimumSize)
		eqBytes(t, "Encode", b, want)
	}
	// Setters: an echo reply from the request.
	_, req := l4(t, fixtureICMPEcho)
	m := ICMP(clone(req))
	m.SetType(ICMPEchoReply)
	m.SetCode(0)
	m.SetChecksum(ChecksumUpdate16(m.Checksum(), ICMPEchoRequest<<8, ICMPEchoReply<<8))
	wantErr(t, "reply CheckICMP", CheckICMP(m), 0)
	eq(t, "reply checksum", m.Checksum(), m.ComputeChecksum())
	m.SetID(7)
	m.SetSeq(9)
	m.SetChecksum(m.ComputeChecksum())
	eq(t, "Fields", m.Fields(), ICMPFields{Type: ICMPEchoReply, ID: 7, Seq: 9})
	wantErr(t, "CheckICMP", CheckICMP(m), 0)
}

// TestCheckICMPMalformed covers test plan "Parsers" 10.
func TestCheckICMPMalformed(t *testing.T) {
	_, echo := l4(t, fixtureICMPEcho)
	badSum := clone(echo)
	badSum[9] ^= 0x80
	odd := buildICMP(ICMPFields{Type: ICMPEchoRequest, ID: 1, Seq: 2}, []byte("odd"))
	tests := []struct {
		name string
		b    []byte
		want Error
	}{
		{"ok", echo, 0},
		{"empty", nil, ErrTruncated},
		{"7 bytes", echo[:7], ErrTruncated},
		{"8 bytes (checksum covers the cut)", echo[:8], ErrChecksum},
		{"bad checksum", badSum, ErrChecksum},
		{"odd length", odd, 0},
		{"odd length cut", odd[:len(odd)-1], ErrChecksum},
		{"header only", buildICMP(ICMPFields{Type: ICMPEchoReply}, nil), 0},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, CheckICMP(tc.b), tc.want)
	}
	// Echo to a broadcast address passes the check: ignoring it is the
	// stack's policy, on the IPv4 destination.
	bcast := buildIPv4(ProtoICMP, ip1, [4]byte{255, 255, 255, 255}, echo)
	wantErr(t, "broadcast echo", CheckICMP(IPv4(bcast).Payload()), 0)
	eq(t, "broadcast echo dst", IsBroadcast4(IPv4(bcast).Dst()), true)
}

// TestICMPQuoted covers errors quoting truncated or malformed headers
// (test plan "Parsers" 10) and IsError for every type.
func TestICMPQuoted(t *testing.T) {
	inner := buildIPv4(ProtoUDP, ip2, ip1, buildUDP(ip2, ip1, 40000, 9000, []byte("query")))
	quote := func(typ uint8, q []byte) ICMP {
		return ICMP(buildICMP(ICMPFields{Type: typ, Code: 3}, q))
	}
	mod := func(f func(b []byte)) []byte {
		b := clone(inner)
		f(b)
		return b
	}
	opts := buildIPv4Opts([]byte{IPv4OptionNOP, IPv4OptionNOP, IPv4OptionNOP, IPv4OptionEOL}, inner[20:])
	IPv4(opts).SetProtocol(ProtoUDP)
	tests := []struct {
		name string
		m    ICMP
		want Error
		len  int
	}{
		{"whole datagram", quote(ICMPDestUnreachable, inner), 0, len(inner)},
		{"header + 8", quote(ICMPDestUnreachable, inner[:28]), 0, 28},
		{"trailing bytes after the datagram", quote(ICMPDestUnreachable, append(clone(inner), 1, 2, 3)), 0, len(inner)},
		{"time exceeded", quote(ICMPTimeExceeded, inner[:28]), 0, 28},
		{"parameter problem", quote(ICMPParamProblem, inner[:28]), 0, 28},
		{"source quench", quote(ICMPSourceQuench, inner[:28]), 0, 28},
		{"redirect", quote(ICMPRedirect, inner[:28]), 0, 28},
		{"quoted options", quote(ICMPDestUnreachable, opts), 0, len(opts)},
		{"quoted options cut", quote(ICMPDestUnreachable, opts[:30]), ErrTruncated, 0},
		{"echo reply", quote(ICMPEchoReply, inner), ErrICMPType, 0},
		{"echo request", quote(ICMPEchoRequest, inner), ErrICMPType, 0},
		{"type 13 (timestamp)", quote(13, inner), ErrICMPType, 0},
		{"no quote", quote(ICMPDestUnreachable, nil), ErrTruncated, 0},
		{"inner header truncated", quote(ICMPDestUnreachable, inner[:19]), ErrTruncated, 0},
		{"inner header only", quote(ICMPDestUnreachable, inner[:20]), ErrTruncated, 0},
		{"inner + 7", quote(ICMPDestUnreachable, inner[:27]), ErrTruncated, 0},
		{"inner version 6", quote(ICMPDestUnreachable, mod(func(b []byte) { b[0] = 0x65 })), ErrVersion, 0},
		{"inner IHL 4", quote(ICMPDestUnreachable, mod(func(b []byte) { b[0] = 0x44 })), ErrIHL, 0},
		{"inner IHL past quote", quote(ICMPDestUnreachable, mod(func(b []byte) { b[0] = 0x4f })[:40]), ErrTruncated, 0},
		{"inner bad option", quote(ICMPDestUnreachable, mod(func(b []byte) { b[0] = 0x46; b[20], b[21] = 0x44, 1 })), ErrOptions, 0},
		{"inner total length < header + 8", quote(ICMPDestUnreachable, mod(func(b []byte) { b[3] = 27 })), ErrTotalLength, 0},
	}
	for _, tc := range tests {
		q, err := tc.m.Quoted()
		wantErr(t, tc.name, err, tc.want)
		eq(t, tc.name+" len", len(q), tc.len)
		if err == nil {
			// The quoted view's accessors must not panic.
			_ = q.Fields()
			_ = q.Options()
			_ = q.HasSourceRoute()
			_ = q.ChecksumValid()
			if len(q.Payload()) < 8 {
				t.Errorf("%s: quoted Payload %d bytes", tc.name, len(q.Payload()))
			}
		}
	}
	// Never an ICMP error in reply to an ICMP error: IsError tells.
	for typ := 0; typ < 256; typ++ {
		m := ICMP(buildICMP(ICMPFields{Type: uint8(typ)}, nil))
		want := typ == 3 || typ == 4 || typ == 5 || typ == 11 || typ == 12
		eq(t, "IsError", m.IsError(), want)
	}
}
