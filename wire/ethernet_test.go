package wire

import "testing"

func TestEthernetDeconstruct(t *testing.T) {
	// 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 60
	eth, err := ParseEthernet(fixtureARPRequest)
	wantErr(t, "ParseEthernet", err, 0)
	eq(t, "info", eth, EthernetInfo{Type: EtherTypeARP, HeaderLen: 14})
	h := Ethernet(fixtureARPRequest)
	eq(t, "Dst", h.Dst(), BroadcastMAC)
	eq(t, "Src", h.Src(), mac1)
	eq(t, "Type", h.Type(), uint16(EtherTypeARP))

	// ethertype 802.1Q (0x8100), length 64: vlan 100, p 1, ethertype IPv4 (0x0800)
	eth, err = ParseEthernet(fixtureVLANUDP)
	wantErr(t, "ParseEthernet VLAN", err, 0)
	eq(t, "VLAN info", eth, EthernetInfo{Type: EtherTypeIPv4, VLAN: true, TCI: 1<<13 | 100, HeaderLen: 18})
	eq(t, "VLAN outer Type", Ethernet(fixtureVLANUDP).Type(), uint16(EtherTypeVLAN))
	eq(t, "VLAN Fields", Ethernet(fixtureVLANUDP).Fields(),
		EthernetFields{Dst: mac2, Src: mac1, VLAN: true, TCI: 0x2064, Type: EtherTypeIPv4})
}

func TestEthernetConstruct(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"ARP request", fixtureARPRequest},
		{"ARP reply", fixtureARPReply},
		{"VLAN", fixtureVLANUDP},
		{"TCP", fixtureTCPData},
		{"DNS capture", fixtureUDPDNS},
	} {
		f := Ethernet(tc.frame).Fields()
		b := make([]byte, 18)
		n := f.Encode(b)
		info, _ := ParseEthernet(tc.frame)
		eq(t, tc.name+" Encode length", n, info.HeaderLen)
		eqBytes(t, tc.name+" Encode", b[:n], tc.frame[:n])
	}
	// Setters.
	b := make([]byte, 14)
	h := Ethernet(b)
	h.SetDst(mac2)
	h.SetSrc(mac1)
	h.SetType(EtherTypeIPv4)
	eqBytes(t, "setters", b, fixtureTCPData[:14])
}

// TestParseEthernetMalformed covers test plan "Parsers" 1: runt frames,
// VLAN tags and unknown EtherTypes (which pass: the stack drops them by
// type).
func TestParseEthernetMalformed(t *testing.T) {
	tagged := clone(fixtureVLANUDP)
	qinq := clone(fixtureVLANUDP)
	qinq[16], qinq[17] = 0x81, 0x00
	ipv6 := clone(fixtureTCPData)
	ipv6[12], ipv6[13] = 0x86, 0xdd
	llc := clone(fixtureTCPData)
	llc[12], llc[13] = 0x00, 0x2e
	tests := []struct {
		name string
		b    []byte
		want Error
		typ  uint16
		hl   int
	}{
		{"empty", nil, ErrTruncated, 0, 0},
		{"runt 1", []byte{0xff}, ErrTruncated, 0, 0},
		{"runt 13", fixtureTCPData[:13], ErrTruncated, 0, 0},
		{"header only", fixtureTCPData[:14], 0, EtherTypeIPv4, 14},
		{"tag, 14 bytes", tagged[:14], ErrTruncated, 0, 0},
		{"tag, 17 bytes", tagged[:17], ErrTruncated, 0, 0},
		{"tag, 18 bytes", tagged[:18], 0, EtherTypeIPv4, 18},
		{"QinQ: inner tag not read", qinq, 0, EtherTypeVLAN, 18},
		{"unknown EtherType (IPv6)", ipv6, 0, 0x86dd, 14},
		{"802.3 length", llc, 0, 0x002e, 14},
	}
	for _, tc := range tests {
		eth, err := ParseEthernet(tc.b)
		wantErr(t, tc.name, err, tc.want)
		eq(t, tc.name+" Type", eth.Type, tc.typ)
		eq(t, tc.name+" HeaderLen", eth.HeaderLen, tc.hl)
	}
}

func TestMACHelpers(t *testing.T) {
	tests := []struct {
		mac                  [6]byte
		broadcast, multicast bool
	}{
		{BroadcastMAC, true, true},
		{[6]byte{0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}, false, true},
		{[6]byte{0x33, 0x33, 0, 0, 0, 1}, false, true},
		{mac1, false, false},
		{[6]byte{}, false, false},
		{[6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, false, true},
	}
	for _, tc := range tests {
		eq(t, "IsBroadcastMAC", IsBroadcastMAC(tc.mac), tc.broadcast)
		eq(t, "IsMulticastMAC", IsMulticastMAC(tc.mac), tc.multicast)
	}
	// 01:00:5e:01:02:03 is the destination of the IGMP report for 239.1.2.3.
	eq(t, "MulticastMAC(239.1.2.3)", MulticastMAC([4]byte{239, 1, 2, 3}), Ethernet(fixtureIGMPReport).Dst())
	// The 24th bit is dropped: 224.128.0.1 and 224.0.0.1 share a MAC.
	eq(t, "MulticastMAC(224.128.0.1)", MulticastMAC([4]byte{224, 128, 0, 1}), [6]byte{0x01, 0x00, 0x5e, 0, 0, 1})
	eq(t, "MulticastMAC(239.255.255.255)", MulticastMAC([4]byte{239, 255, 255, 255}), [6]byte{0x01, 0x00, 0x5e, 0x7f, 0xff, 0xff})
}
