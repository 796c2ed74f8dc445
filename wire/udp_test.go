package wire

import (
	"encoding/binary"
	"testing"
)

func TestUDPDeconstruct(t *testing.T) {
	// 10.0.0.1.41000 > 10.0.0.2.9000: [udp sum ok] UDP, length 13
	ip, b := l4(t, fixtureUDP)
	u, err := CheckUDP(b)
	wantErr(t, "CheckUDP", err, 0)
	eq(t, "SrcPort", u.SrcPort(), uint16(41000))
	eq(t, "DstPort", u.DstPort(), uint16(9000))
	eq(t, "Length", u.Length(), uint16(8+13))
	eqBytes(t, "Payload", u.Payload(), []byte("hello, zocket"))
	eq(t, "ChecksumValid", u.ChecksumValid(ip.Src(), ip.Dst()), true)
	eq(t, "ChecksumValid, wrong address", u.ChecksumValid(ip.Src(), ip1), false)
	eq(t, "ComputeChecksum", u.ComputeChecksum(ip.Src(), ip.Dst()), u.Checksum())

	// 10:33:07.883637 IP 172.16.255.1.53 > 172.29.20.15.35181: 47320 7/0/0 ... (202)
	ip, b = l4(t, fixtureUDPDNS)
	u, err = CheckUDP(b)
	wantErr(t, "CheckUDP DNS", err, 0)
	eq(t, "DNS SrcPort", u.SrcPort(), uint16(53))
	eq(t, "DNS DstPort", u.DstPort(), uint16(35181))
	eq(t, "DNS Payload", len(u.Payload()), 202)
	eq(t, "DNS Checksum", u.Checksum(), uint16(0x754a))
	eq(t, "DNS ChecksumValid", u.ChecksumValid(ip.Src(), ip.Dst()), true)
	eq(t, "DNS ComputeChecksum", u.ComputeChecksum(ip.Src(), ip.Dst()), uint16(0x754a))
	eq(t, "DNS id", binary.BigEndian.Uint16(u.Payload()), uint16(47320))

	// vlan 100, p 1, ethertype IPv4 ... 10.0.0.1.41000 > 10.0.0.2.9000: UDP, length 8
	ip, b = l4(t, fixtureVLANUDP)
	u, err = CheckUDP(b)
	wantErr(t, "CheckUDP VLAN", err, 0)
	eqBytes(t, "VLAN Payload", u.Payload(), []byte("vlan 100"))
	eq(t, "VLAN ChecksumValid", u.ChecksumValid(ip.Src(), ip.Dst()), true)
}

func TestUDPConstruct(t *testing.T) {
	for _, frame := range [][]byte{fixtureUDP, fixtureUDPPadded, fixtureVLANUDP, fixtureUDPDNS} {
		_, want := l4(t, frame)
		b := make([]byte, UDPMinimumSize)
		f := UDP(want).Fields()
		eq(t, "Encode", f.Encode(b), UDPMinimumSize)
		eqBytes(t, "Encode", b, want[:UDPMinimumSize])
	}
	// Setters, and a checksum computed after the payload is in place.
	ip, want := l4(t, fixtureUDP)
	u := UDP(clone(want))
	clear(u[:UDPMinimumSize])
	u.SetSrcPort(41000)
	u.SetDstPort(9000)
	u.SetLength(21)
	u.SetChecksum(u.ComputeChecksum(ip.Src(), ip.Dst()))
	eqBytes(t, "setters", u, want)
}

func TestUDPChecksumZero(t *testing.T) {
	// A datagram whose checksum computes to 0 is sent as 0xffff (RFC 768);
	// find one by adjusting two payload bytes.
	b := buildUDP(ip1, ip2, 1, 2, []byte{0, 0})
	u := UDP(b)
	u.SetChecksum(0)
	c := Checksum(u, PseudoHeaderSum(ip1, ip2, ProtoUDP, uint16(len(u))))
	binary.BigEndian.PutUint16(u[8:], c) // now the sum is 0xffff
	eq(t, "ComputeChecksum", u.ComputeChecksum(ip1, ip2), uint16(0xffff))
	u.SetChecksum(0xffff)
	eq(t, "0xffff verifies", u.ChecksumValid(ip1, ip2), true)
	u.SetChecksum(0)
	eq(t, "0 is no checksum", u.ChecksumValid(ip1, ip2), true)
}

// TestCheckUDPMalformed covers test plan "Parsers" 8.
func TestCheckUDPMalformed(t *testing.T) {
	good := buildUDP(ip1, ip2, 41000, 9000, []byte("payload!"))
	setLen := func(n uint16) []byte {
		b := clone(good)
		UDP(b).SetLength(n)
		return b
	}
	badSum := clone(good)
	badSum[10] ^= 0x20
	noSum := clone(good)
	UDP(noSum).SetChecksum(0)
	port0 := buildUDP(ip1, ip2, 0, 0, nil)
	tests := []struct {
		name  string
		b     []byte
		want  Error // from CheckUDP, or ErrChecksum from ChecksumValid
		trim  int   // length of the returned view
		sport uint16
	}{
		{"ok", good, 0, 16, 41000},
		{"empty", nil, ErrTruncated, 0, 0},
		{"7 bytes", good[:7], ErrTruncated, 0, 0},
		{"length 0", setLen(0), ErrUDPLength, 0, 0},
		{"length 7", setLen(7), ErrUDPLength, 0, 0},
		{"length > IP payload", setLen(17), ErrUDPLength, 0, 0},
		{"length 65535", setLen(65535), ErrUDPLength, 0, 0},
		{"IP payload cut", good[:15], ErrUDPLength, 0, 0},
		{"length < IP payload: trimmed", append(clone(good), 0xde, 0xad), 0, 16, 41000},
		{"length 8, header only", setLen(8), ErrChecksum, 8, 41000},
		{"bad checksum", badSum, ErrChecksum, 16, 41000},
		{"checksum 0 = none", noSum, 0, 16, 41000},
		{"port 0 (the stack drops it)", port0, 0, 8, 0},
	}
	for _, tc := range tests {
		u, err := CheckUDP(tc.b)
		if err == nil && !u.ChecksumValid(ip1, ip2) {
			err = ErrChecksum
		}
		wantErr(t, tc.name, err, tc.want)
		eq(t, tc.name+" view", len(u), tc.trim)
		if u != nil {
			eq(t, tc.name+" SrcPort", u.SrcPort(), tc.sport)
		}
	}
}
