package wire

import "testing"

func TestARPDeconstruct(t *testing.T) {
	// Request who-has 10.0.0.2 tell 10.0.0.1, length 46
	b := l3(t, fixtureARPRequest)
	wantErr(t, "CheckARP request", CheckARP(b), 0)
	eq(t, "request", ARP(b).Fields(), ARPFields{Op: ARPRequest, SenderMAC: mac1, SenderIP: ip1, TargetIP: ip2})
	// Reply 10.0.0.1 is-at 02:00:00:00:00:01, length 46
	b = l3(t, fixtureARPReply)
	wantErr(t, "CheckARP reply", CheckARP(b), 0)
	a := ARP(b)
	eq(t, "Op", a.Op(), uint16(ARPReply))
	eq(t, "SenderMAC", a.SenderMAC(), mac1)
	eq(t, "SenderIP", a.SenderIP(), ip1)
	eq(t, "TargetMAC", a.TargetMAC(), mac2)
	eq(t, "TargetIP", a.TargetIP(), ip2)
}

func TestARPConstruct(t *testing.T) {
	for _, frame := range [][]byte{fixtureARPRequest, fixtureARPReply} {
		want := l3(t, frame)[:ARPSize]
		f := ARP(want).Fields()
		b := make([]byte, ARPSize)
		eq(t, "Encode", f.Encode(b), ARPSize)
		eqBytes(t, "Encode", b, want)
		// Setters.
		c := make([]byte, ARPSize)
		copy(c, want[:arpOp])
		a := ARP(c)
		a.SetOp(f.Op)
		a.SetSenderMAC(f.SenderMAC)
		a.SetSenderIP(f.SenderIP)
		a.SetTargetMAC(f.TargetMAC)
		a.SetTargetIP(f.TargetIP)
		eqBytes(t, "setters", c, want)
	}
}

// TestCheckARPMalformed covers test plan "Parsers" 9. Gratuitous ARP,
// unsolicited replies, 0.0.0.0 probes and broadcast sender MACs pass the
// check: overwriting the cache is the stack's policy.
func TestCheckARPMalformed(t *testing.T) {
	good := l3(t, fixtureARPRequest)[:ARPSize]
	mod := func(f func(b []byte)) []byte {
		b := clone(good)
		f(b)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want Error
	}{
		{"ok", good, 0},
		{"ok with Ethernet padding", l3(t, fixtureARPRequest), 0},
		{"empty", nil, ErrTruncated},
		{"fixed part truncated", good[:7], ErrTruncated},
		{"addresses truncated", good[:27], ErrTruncated},
		{"fixed part only", good[:8], ErrTruncated},
		{"htype 6 (IEEE 802)", mod(func(b []byte) { b[1] = 6 }), ErrARPFormat},
		{"htype 0x0101", mod(func(b []byte) { b[0] = 1 }), ErrARPFormat},
		{"ptype IPv6", mod(func(b []byte) { b[2], b[3] = 0x86, 0xdd }), ErrARPFormat},
		{"hlen 8", mod(func(b []byte) { b[4] = 8 }), ErrARPFormat},
		{"plen 16", mod(func(b []byte) { b[5] = 16 }), ErrARPFormat},
		{"hlen 0", mod(func(b []byte) { b[4] = 0 }), ErrARPFormat},
		{"bad format beats truncation", mod(func(b []byte) { b[5] = 16 })[:10], ErrARPFormat},
		{"op 0", mod(func(b []byte) { b[7] = 0 }), ErrARPOp},
		{"op 3 (RARP request)", mod(func(b []byte) { b[7] = 3 }), ErrARPOp},
		{"op 0x0101", mod(func(b []byte) { b[6] = 1 }), ErrARPOp},
		{"gratuitous request", mod(func(b []byte) { copy(b[arpTPA:], ip1[:]) }), 0},
		{"probe from 0.0.0.0 (RFC 5227)", mod(func(b []byte) { clear(b[arpSPA : arpSPA+4]) }), 0},
		{"broadcast sender MAC", mod(func(b []byte) { copy(b[arpSHA:], BroadcastMAC[:]) }), 0},
		{"unsolicited reply", l3(t, fixtureARPReply), 0},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, CheckARP(tc.b), tc.want)
	}
}
