package wire

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// ipv4Verdict is how a stack receives an IPv4 header with this package:
// check, then the checksum (unless offloaded), then its fragment policy.
// Tests assert the drop reason it would count.
func ipv4Verdict(b []byte) error {
	if err := CheckIPv4(b); err != nil {
		return err
	}
	ip := IPv4(b)
	if !ip.ChecksumValid() {
		return ErrChecksum
	}
	if ip.IsFragment() {
		return ErrFragment
	}
	return nil
}

func TestIPv4Deconstruct(t *testing.T) {
	// (tos 0x0, ttl 64, id 7238, offset 0, flags [DF], proto TCP (6), length 58)
	//     10.0.0.1.40000 > 10.0.0.2.9000: Flags [P.], ..., length 18
	b := l3(t, fixtureTCPData)
	wantErr(t, "CheckIPv4", CheckIPv4(b), 0)
	ip := IPv4(b)
	eq(t, "Version", ip.Version(), uint8(4))
	eq(t, "IHL", ip.IHL(), uint8(5))
	eq(t, "HeaderLength", ip.HeaderLength(), 20)
	eq(t, "TOS", ip.TOS(), uint8(0))
	eq(t, "TotalLength", ip.TotalLength(), uint16(58))
	eq(t, "ID", ip.ID(), uint16(7238))
	eq(t, "Flags", ip.Flags(), uint8(2))
	eq(t, "DontFragment", ip.DontFragment(), true)
	eq(t, "MoreFragments", ip.MoreFragments(), false)
	eq(t, "FragmentOffset", ip.FragmentOffset(), uint16(0))
	eq(t, "IsFragment", ip.IsFragment(), false)
	eq(t, "TTL", ip.TTL(), uint8(64))
	eq(t, "Protocol", ip.Protocol(), uint8(ProtoTCP))
	eq(t, "Src", ip.Src(), ip1)
	eq(t, "Dst", ip.Dst(), ip2)
	eq(t, "Options", len(ip.Options()), 0)
	eq(t, "Payload", len(ip.Payload()), 58-20)
	eq(t, "ChecksumValid", ip.ChecksumValid(), true)
	eq(t, "ComputeChecksum", ip.ComputeChecksum(), ip.Checksum())
	eq(t, "HasSourceRoute", ip.HasSourceRoute(), false)

	// (tos 0x0, ttl 64, id 7238, offset 0, flags [DF], proto IGMP (2), length 32, options (RA))
	ip = IPv4(l3(t, fixtureIGMPReport))
	wantErr(t, "CheckIPv4 RA", CheckIPv4(ip), 0)
	eq(t, "RA HeaderLength", ip.HeaderLength(), 24)
	eqBytes(t, "RA Options", ip.Options(), []byte{148, 4, 0, 0})
	eq(t, "HasRouterAlert", ip.HasRouterAlert(), true)
	eq(t, "RA Payload", len(ip.Payload()), 8)
	eq(t, "RA ChecksumValid", ip.ChecksumValid(), true)

	// 10:33:07.883637 IP 172.16.255.1.53 > 172.29.20.15.35181: ... (202)
	ip = IPv4(l3(t, fixtureUDPDNS))
	wantErr(t, "CheckIPv4 DNS", CheckIPv4(ip), 0)
	eq(t, "DNS Src", ip.Src(), [4]byte{172, 16, 255, 1})
	eq(t, "DNS Dst", ip.Dst(), [4]byte{172, 29, 20, 15})
	eq(t, "DNS Protocol", ip.Protocol(), uint8(ProtoUDP))
	eq(t, "DNS payload", len(ip.Payload()), 8+202)
	eq(t, "DNS ChecksumValid", ip.ChecksumValid(), true)
	eq(t, "DNS Checksum", ip.Checksum(), uint16(0xa6f9))
	eq(t, "DNS ComputeChecksum", ip.ComputeChecksum(), uint16(0xa6f9))
}

func TestIPv4Construct(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"TCP", fixtureTCPData},
		{"ICMP", fixtureICMPEcho},
		{"UDP", fixtureUDP},
		{"IGMP with router alert", fixtureIGMPReport},
		{"DNS capture", fixtureUDPDNS},
	} {
		want := IPv4(l3(t, tc.frame))
		hl := want.HeaderLength()
		b := make([]byte, hl)
		f := want.Fields()
		eq(t, tc.name+" Encode length", f.Encode(b), hl)
		eqBytes(t, tc.name+" Encode", b, want[:hl])
	}
	// Setters on a zeroed header give the same bytes.
	want := IPv4(l3(t, fixtureTCPData))[:20]
	b := IPv4(make([]byte, 20))
	b[0] = 0x45
	b.SetTOS(0)
	b.SetTotalLength(58)
	b.SetID(7238)
	b.SetFlagsFragment(true, false, 0)
	b.SetTTL(64)
	b.SetProtocol(ProtoTCP)
	b.SetSrc(ip1)
	b.SetDst(ip2)
	b.SetChecksum(b.ComputeChecksum())
	eqBytes(t, "setters", b, want)
	// Fragment fields.
	b.SetFlagsFragment(false, true, 1480)
	eq(t, "MoreFragments", b.MoreFragments(), true)
	eq(t, "DontFragment", b.DontFragment(), false)
	eq(t, "FragmentOffset", b.FragmentOffset(), uint16(1480))
	eq(t, "Flags", b.Flags(), uint8(1))
	eq(t, "Fields", b.Fields().FragOffset, uint16(1480))
	b.SetFlagsFragment(false, false, 65528)
	eq(t, "max FragmentOffset", b.FragmentOffset(), uint16(65528))
	eq(t, "IsFragment (last)", b.IsFragment(), true)
}

// TestCheckIPv4Malformed covers test plan "Parsers" 2 to 6, with the drop
// reason a stack counts (ipv4Verdict).
func TestCheckIPv4Malformed(t *testing.T) {
	payload := []byte("0123456789abcdef")
	good := buildIPv4(ProtoUDP, ip1, ip2, payload)
	// mod changes good and fixes the checksum, so that only the change
	// under test is wrong.
	mod := func(f func(b []byte)) []byte {
		b := clone(good)
		f(b)
		hl := min(max(IPv4MinimumSize, IPv4(b).HeaderLength()), len(b))
		IPv4(b).SetChecksum(0)
		IPv4(b).SetChecksum(Checksum(b[:hl], 0))
		return b
	}
	setTL := func(n uint16) func([]byte) {
		return func(b []byte) { binary.BigEndian.PutUint16(b[2:], n) }
	}
	setIHL := func(n uint8) func([]byte) {
		return func(b []byte) { b[0] = 0x40 | n }
	}
	padded := append(clone(good), make([]byte, 10)...)
	badSum := clone(good)
	badSum[ipChecksum] ^= 0x01
	lsrr := buildIPv4Opts([]byte{IPv4OptionNOP, IPv4OptionLSRR, 7, 4, 10, 0, 0, 9}, payload)
	ssrr := buildIPv4Opts([]byte{IPv4OptionSSRR, 7, 4, 10, 0, 0, 9, IPv4OptionEOL}, payload)
	frag := func(mf bool, off uint16, n int) []byte {
		b := buildIPv4(ProtoTCP, ip1, ip2, make([]byte, n))
		IPv4(b).SetFlagsFragment(false, mf, off)
		IPv4(b).SetChecksum(IPv4(b).ComputeChecksum())
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want Error
	}{
		{"ok", good, 0},
		// 2: version, IHL, total length.
		{"empty", nil, ErrTruncated},
		{"19 bytes", good[:19], ErrTruncated},
		{"version 6", mod(func(b []byte) { b[0] = 0x65 }), ErrVersion},
		{"version 0", mod(func(b []byte) { b[0] = 0x05 }), ErrVersion},
		{"version 15, IHL 0", mod(func(b []byte) { b[0] = 0xf0 }), ErrVersion},
		{"IHL 0", mod(setIHL(0)), ErrIHL},
		{"IHL 4", mod(setIHL(4)), ErrIHL},
		{"IHL 15 > total length", mod(setIHL(15)), ErrIHL},
		{"IHL 6 > total length 20", mod(func(b []byte) { setIHL(6)(b); setTL(20)(b) }), ErrIHL},
		{"IHL*4 and total length > frame", mod(func(b []byte) { setIHL(15)(b); setTL(60)(b) }), ErrTotalLength},
		{"total length 0 (TSO)", mod(setTL(0)), ErrTotalLength},
		{"total length 19", mod(setTL(19)), ErrTotalLength},
		{"total length > frame", mod(setTL(uint16(len(good) + 1))), ErrTotalLength},
		{"total length 65535", mod(setTL(65535)), ErrTotalLength},
		{"frame cut", good[:len(good)-1], ErrTotalLength},
		// 3: padding.
		{"total length < frame (padding)", padded, 0},
		// 4: checksum.
		{"bad checksum", badSum, ErrChecksum},
		{"zero checksum", mod(func(b []byte) {}), 0},
		// 5: options.
		{"option length 0", buildIPv4Opts([]byte{0x44, 0, 0, 0}, payload), ErrOptions},
		{"option length 1", buildIPv4Opts([]byte{0x44, 1, 0, 0}, payload), ErrOptions},
		{"option past header", buildIPv4Opts([]byte{IPv4OptionNOP, 0x44, 12, 5, 0, 0, 0, 0}, payload), ErrOptions},
		{"option length byte missing", buildIPv4Opts([]byte{IPv4OptionNOP, IPv4OptionNOP, IPv4OptionNOP, 0x44}, payload), ErrOptions},
		{"NOPs", buildIPv4Opts([]byte{1, 1, 1, 1}, payload), 0},
		{"EOL then garbage", buildIPv4Opts([]byte{0, 0x44, 0, 0xff}, payload), 0},
		{"router alert", buildIPv4Opts([]byte{IPv4OptionRouterAlert, 4, 0, 0}, payload), 0},
		{"40 bytes of options", buildIPv4Opts(append([]byte{0x44, 40}, make([]byte, 38)...), payload), 0},
		{"LSRR (passes, HasSourceRoute)", lsrr, 0},
		{"SSRR (passes, HasSourceRoute)", ssrr, 0},
		// 6: fragments are not reassembled: counted as ErrFragment.
		{"first fragment", frag(true, 0, 1480), ErrFragment},
		{"tiny first fragment (8 bytes of TCP)", frag(true, 0, 8), ErrFragment},
		{"last fragment", frag(false, 1480, 100), ErrFragment},
		{"overlapping fragment", frag(true, 8, 1480), ErrFragment},
		{"offset + length > 65535", frag(false, 65528, 100), ErrFragment},
		{"DF only is not a fragment", mod(func(b []byte) { IPv4(b).SetFlagsFragment(true, false, 0) }), 0},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, ipv4Verdict(tc.b), tc.want)
	}

	// Padding is not payload.
	eqBytes(t, "padded Payload", IPv4(padded).Payload(), payload)
	eq(t, "LSRR HasSourceRoute", IPv4(lsrr).HasSourceRoute(), true)
	eq(t, "SSRR HasSourceRoute", IPv4(ssrr).HasSourceRoute(), true)
	eq(t, "RA HasSourceRoute", IPv4(buildIPv4Opts([]byte{148, 4, 0, 0}, nil)).HasSourceRoute(), false)
	eq(t, "LSRR after EOL", IPv4(buildIPv4Opts([]byte{0, 131, 3, 4}, nil)).HasSourceRoute(), false)
	big := frag(false, 65528, 100)
	eq(t, "offset+length", int(IPv4(big).FragmentOffset())+len(IPv4(big).Payload()) > 65535, true)
	// Padding with a fixture: 10.0.0.1.1234 > 10.0.0.2.7: UDP, length 2 in a
	// 60-byte frame: IP total length 30, 16 bytes of padding.
	ip, pl := l4(t, fixtureUDPPadded)
	eq(t, "fixture padding", len(l3(t, fixtureUDPPadded))-int(ip.TotalLength()), 16)
	eq(t, "fixture payload", len(pl), 10)
}

// TestAddressClasses covers test plan "Parsers" 7: the address tests a
// stack applies to sources and destinations.
func TestAddressClasses(t *testing.T) {
	tests := []struct {
		a                                           [4]byte
		broadcast, multicast, loopback, unspecified bool
	}{
		{[4]byte{255, 255, 255, 255}, true, false, false, false},
		{[4]byte{224, 0, 0, 1}, false, true, false, false},
		{[4]byte{239, 255, 255, 255}, false, true, false, false},
		{[4]byte{223, 255, 255, 255}, false, false, false, false},
		{[4]byte{240, 0, 0, 0}, false, false, false, false},
		{[4]byte{0, 0, 0, 0}, false, false, false, true},
		{[4]byte{0, 0, 0, 1}, false, false, false, false},
		{[4]byte{127, 0, 0, 1}, false, false, true, false},
		{[4]byte{127, 255, 0, 9}, false, false, true, false},
		{[4]byte{128, 0, 0, 1}, false, false, false, false},
		{ip1, false, false, false, false},
		{[4]byte{10, 0, 0, 255}, false, false, false, false}, // directed: netmask is the caller's
	}
	for _, tc := range tests {
		eq(t, "IsBroadcast4", IsBroadcast4(tc.a), tc.broadcast)
		eq(t, "IsMulticast4", IsMulticast4(tc.a), tc.multicast)
		eq(t, "IsLoopback4", IsLoopback4(tc.a), tc.loopback)
		eq(t, "IsUnspecified4", IsUnspecified4(tc.a), tc.unspecified)
	}
}

// TestChecksumValidFastPath: the option-less fast path agrees with the generic sum on random
// headers, valid and broken.
func TestChecksumValidFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 100000; i++ {
		h := make(IPv4, IPv4MinimumSize)
		for j := range h {
			h[j] = byte(rng.Uint32())
		}
		h[0] = 0x45
		if i%2 == 0 {
			h.SetChecksum(0)
			h.SetChecksum(h.ComputeChecksum())
			if i%4 == 0 {
				h[2+rng.IntN(18)] ^= byte(1 + rng.IntN(255))
			}
		}
		want := Fold(Sum(h, 0)) == 0xffff
		if got := h.ChecksumValid(); got != want {
			t.Fatalf("header % x: fast path says %v, generic sum %v", []byte(h), got, want)
		}
	}
}
