package wire

// Differential tests against github.com/gopacket/gopacket/layers: for the
// fixtures, hand-made malformed packets and packets from a seeded PRNG
// (valid ones, then mutated), this package and gopacket must agree on
// whether a header is acceptable and on every field of the ones both
// accept.
//
// gopacket is a dissector, and lenient where a stack must not be. Where it
// accepts what wire refuses, the test allows only these documented
// differences:
//   - IPv4: gopacket does not check the version; takes a total length of 0
//     as TSO and uses the frame length; accepts a total length beyond the
//     frame (marking the packet truncated). wire: ErrVersion,
//     ErrTotalLength.
//   - UDP: gopacket takes length 0 as a jumbogram and accepts a length
//     beyond the IP payload (truncated). wire: ErrUDPLength.
//   - TCP: gopacket stops parsing options at a malformed one and keeps the
//     segment. wire: ErrOptions. gopacket also checks the contents of MPTCP
//     options (kind 30) and stops at one it finds malformed, where wire
//     skips it by its length: options are not compared when one is there.
//   - ARP: gopacket accepts any hardware and protocol type and any
//     operation. wire: ErrARPFormat, ErrARPOp.
//   - ICMP and IGMP: gopacket does not verify checksums. wire: ErrChecksum.
//   - IGMP: gopacket parses IGMPv3 group records and sources; wire reads
//     only the common 8 bytes and refuses nothing for them. gopacket also
//     ignores its own errors for IGMPv3 reports, so it accepts one of any
//     length; wire: ErrTruncated under 8 bytes.
//   - Ethernet: gopacket turns an 802.3 length into EtherType LLC and trims
//     the payload; wire returns the raw value (< 0x0600) for the caller to
//     drop.
// Checksums are compared with gopacket.ComputeChecksum/FoldChecksum.

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

const diffRandom = 3000 // generated packets per protocol

const tcpOptionMPTCP = 30

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randAddr(r *rand.Rand) [4]byte {
	return [4]byte(randBytes(r, 4))
}

// mutate returns a copy of b with one random kind of damage, or none.
func mutate(r *rand.Rand, b []byte) []byte {
	b = clone(b)
	edges := []byte{0, 1, 2, 3, 4, 5, 6, 8, 10, 0x40, 0x45, 0x46, 0x4f, 0x50, 0x80, 0xff}
	switch r.IntN(9) {
	case 0, 1:
		return b
	case 2:
		if len(b) > 0 {
			b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
		}
	case 3:
		return b[:r.IntN(len(b)+1)]
	case 4:
		return append(b, randBytes(r, 1+r.IntN(20))...)
	case 5:
		if len(b) > 0 {
			b[r.IntN(min(len(b), 28))] = edges[r.IntN(len(edges))]
		}
	case 6:
		for range 1 + r.IntN(4) {
			if len(b) > 0 {
				b[r.IntN(len(b))] = byte(r.Uint32())
			}
		}
	case 7:
		return randBytes(r, r.IntN(80))
	case 8:
		if len(b) >= 2 {
			at := r.IntN(min(len(b), 24)-1) &^ 1
			v := []int{0, 1, 7, 8, 19, 20, 21, len(b) - 1, len(b), len(b) + 1, 0xffff}[r.IntN(11)]
			binary.BigEndian.PutUint16(b[at:], uint16(v))
		}
	}
	return b
}

func randIPv4Options(r *rand.Rand) []byte {
	var o []byte
	for range r.IntN(4) {
		switch r.IntN(6) {
		case 0:
			o = append(o, IPv4OptionNOP)
		case 1:
			o = append(o, IPv4OptionRouterAlert, 4, 0, 0)
		case 2:
			o = append(o, IPv4OptionLSRR, 7, 4, 10, 0, 0, 9)
		case 3:
			o = append(o, IPv4OptionSSRR, 11, 4, 10, 0, 0, 9, 10, 0, 0, 8)
		case 4:
			o = append(o, IPv4OptionEOL)
		case 5:
			n := 2 + r.IntN(6)
			o = append(o, 0x44, byte(n))
			o = append(o, randBytes(r, n-2)...)
		}
	}
	if len(o) > 40 {
		o = o[:40]
	}
	return o
}

func randIPv4(r *rand.Rand) []byte {
	pl := randBytes(r, r.IntN(64))
	var b []byte
	if r.IntN(3) == 0 {
		b = buildIPv4Opts(randIPv4Options(r), pl)
	} else {
		b = buildIPv4(uint8(r.Uint32()), randAddr(r), randAddr(r), pl)
	}
	ip := IPv4(b)
	ip.SetTOS(uint8(r.Uint32()))
	ip.SetID(uint16(r.Uint32()))
	if r.IntN(4) == 0 {
		ip.SetFlagsFragment(r.IntN(2) == 0, r.IntN(2) == 0, uint16(r.Uint32()))
	}
	ip.SetChecksum(ip.ComputeChecksum())
	if r.IntN(4) == 0 {
		b = append(b, make([]byte, r.IntN(30))...) // Ethernet padding
	}
	return b
}

func randTCPOptions(r *rand.Rand) []byte {
	var o []byte
	for range r.IntN(6) {
		switch r.IntN(8) {
		case 0:
			o = append(o, TCPOptionNOP)
		case 1:
			o = append(o, TCPOptionMSS, 4, byte(r.Uint32()), byte(r.Uint32()))
		case 2:
			o = append(o, TCPOptionWindowScale, 3, byte(r.IntN(16)))
		case 3:
			o = append(o, TCPOptionSACKPermitted, 2)
		case 4:
			o = append(o, TCPOptionTimestamps, 10)
			o = append(o, randBytes(r, 8)...)
		case 5:
			o = append(o, TCPOptionSACK, 10)
			o = append(o, randBytes(r, 8)...)
		case 6:
			o = append(o, byte(20+r.IntN(200)), 2)
		case 7:
			o = append(o, TCPOptionEOL)
		}
	}
	if len(o) > 40 {
		o = o[:40]
	}
	return o
}

func randTCP(r *rand.Rand, src, dst [4]byte) []byte {
	f := TCPFields{
		SrcPort: uint16(r.Uint32()), DstPort: uint16(r.Uint32()),
		Seq: Seq(r.Uint32()), Ack: Seq(r.Uint32()), Flags: TCPFlags(r.Uint32()),
		Window: uint16(r.Uint32()), Urgent: uint16(r.Uint32()),
	}
	var opts []byte
	switch r.IntN(3) {
	case 0:
		f.MSS = uint16(r.Uint32())
	case 1:
		opts = randTCPOptions(r)
	}
	return buildTCP(src, dst, f, opts, randBytes(r, r.IntN(100)))
}

func TestDiffIPv4(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 791))
	var corpus [][]byte
	for _, f := range allFixtures() {
		if eth, err := ParseEthernet(f); err == nil && eth.Type == EtherTypeIPv4 {
			corpus = append(corpus, f[eth.HeaderLen:])
		}
	}
	corpus = append(corpus,
		buildIPv4Opts([]byte{0x44, 0, 0, 0}, nil), buildIPv4Opts([]byte{0x44, 1, 0, 0}, nil),
		buildIPv4Opts([]byte{1, 0x44, 12, 5}, nil), buildIPv4Opts([]byte{1, 1, 1, 0x44}, nil))
	for range diffRandom {
		corpus = append(corpus, mutate(r, randIPv4(r)))
	}
	var accepted int
	for _, b := range corpus {
		var g layers.IPv4
		gerr := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback)
		err := CheckIPv4(b)
		switch {
		case err == nil && gerr != nil:
			t.Errorf("wire accepts, gopacket: %v\n% x", gerr, b)
		case err == nil:
			accepted++
			ip := IPv4(b)
			eq(t, "Version", ip.Version(), g.Version)
			eq(t, "IHL", ip.IHL(), g.IHL)
			eq(t, "TOS", ip.TOS(), g.TOS)
			eq(t, "TotalLength", ip.TotalLength(), g.Length)
			eq(t, "ID", ip.ID(), g.Id)
			eq(t, "Flags", ip.Flags(), uint8(g.Flags))
			eq(t, "DontFragment", ip.DontFragment(), g.Flags&layers.IPv4DontFragment != 0)
			eq(t, "MoreFragments", ip.MoreFragments(), g.Flags&layers.IPv4MoreFragments != 0)
			eq(t, "FragmentOffset", ip.FragmentOffset(), g.FragOffset*8)
			eq(t, "TTL", ip.TTL(), g.TTL)
			eq(t, "Protocol", ip.Protocol(), uint8(g.Protocol))
			eq(t, "Checksum", ip.Checksum(), g.Checksum)
			eq(t, "Src", ip.Src(), [4]byte(g.SrcIP))
			eq(t, "Dst", ip.Dst(), [4]byte(g.DstIP))
			eqBytes(t, "Payload", ip.Payload(), g.Payload)
			var sr, ra bool
			for _, o := range g.Options {
				sr = sr || o.OptionType == IPv4OptionLSRR || o.OptionType == IPv4OptionSSRR
				ra = ra || o.OptionType == IPv4OptionRouterAlert
			}
			eq(t, "HasSourceRoute", ip.HasSourceRoute(), sr)
			eq(t, "HasRouterAlert", ip.HasRouterAlert(), ra)
			hdr := clone(b[:ip.HeaderLength()])
			hdr[ipChecksum], hdr[ipChecksum+1] = 0, 0
			eq(t, "ComputeChecksum", ip.ComputeChecksum(), gopacket.FoldChecksum(gopacket.ComputeChecksum(hdr, 0)))
		case gerr == nil:
			// Documented leniencies only.
			e := err.(Error)
			tl := int(IPv4(b).TotalLength())
			ok := e == ErrVersion || (e == ErrTotalLength && (tl == 0 || tl > len(b)))
			if !ok {
				t.Errorf("wire refuses with %v, gopacket accepts\n% x", err, b)
			}
		}
	}
	if accepted < len(corpus)/4 {
		t.Errorf("only %d of %d accepted: the generator is off", accepted, len(corpus))
	}
}

func TestDiffTCP(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 9293))
	var corpus [][]byte
	for _, f := range []([]byte){fixtureTCPSynMSS, fixtureTCPSynAckMSS, fixtureTCPSynLinux, fixtureTCPData, fixtureTCPRst} {
		_, b := l4(t, f)
		corpus = append(corpus, b)
	}
	for range diffRandom {
		corpus = append(corpus, mutate(r, randTCP(r, ip1, ip2)))
	}
	var accepted, parsed int
	for _, b := range corpus {
		var g layers.TCP
		gerr := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback)
		err := CheckTCP(b)
		switch {
		case err == nil && gerr != nil:
			t.Errorf("wire accepts, gopacket: %v\n% x", gerr, b)
		case err == nil:
			accepted++
			s := TCP(b)
			eq(t, "SrcPort", s.SrcPort(), uint16(g.SrcPort))
			eq(t, "DstPort", s.DstPort(), uint16(g.DstPort))
			eq(t, "Seq", s.Seq(), Seq(g.Seq))
			eq(t, "Ack", s.Ack(), Seq(g.Ack))
			eq(t, "DataOffset", s.DataOffset(), int(g.DataOffset)*4)
			f := s.Flags()
			eq(t, "FIN", f.Contains(TCPFlagFin), g.FIN)
			eq(t, "SYN", f.Contains(TCPFlagSyn), g.SYN)
			eq(t, "RST", f.Contains(TCPFlagRst), g.RST)
			eq(t, "PSH", f.Contains(TCPFlagPsh), g.PSH)
			eq(t, "ACK", f.Contains(TCPFlagAck), g.ACK)
			eq(t, "URG", f.Contains(TCPFlagUrg), g.URG)
			eq(t, "ECE", f.Contains(TCPFlagEce), g.ECE)
			eq(t, "CWR", f.Contains(TCPFlagCwr), g.CWR)
			eq(t, "Window", s.Window(), g.Window)
			eq(t, "Checksum", s.Checksum(), g.Checksum)
			eq(t, "Urgent", s.Urgent(), g.Urgent)
			eqBytes(t, "Payload", s.Payload(), g.Payload)
			sum := gopacket.ComputeChecksum(b, PseudoHeaderSum(ip1, ip2, ProtoTCP, uint16(len(b))))
			eq(t, "ChecksumValid", s.ChecksumValid(ip1, ip2), gopacket.FoldChecksum(sum) == 0)
			o, oerr := ParseTCPOptions(s.Options())
			if oerr != nil || findOption(s.Options(), tcpOptionMPTCP) >= 0 {
				break
			}
			parsed++
			var w TCPOptions
			for _, opt := range g.Options {
				d := opt.OptionData
				switch opt.OptionType {
				case layers.TCPOptionKindMSS:
					w.MSS, w.HasMSS = binary.BigEndian.Uint16(d), true
				case layers.TCPOptionKindWindowScale:
					w.WScale, w.HasWScale = d[0], true
				case layers.TCPOptionKindSACKPermitted:
					w.SACKPermitted = true
				case layers.TCPOptionKindTimestamps:
					w.TSVal, w.TSEcr, w.HasTimestamps = binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:]), true
				case layers.TCPOptionKindSACK:
					w.NumSACK = len(d) / 8
					for k := range w.NumSACK {
						w.SACK[k] = SACKBlock{Seq(binary.BigEndian.Uint32(d[8*k:])), Seq(binary.BigEndian.Uint32(d[8*k+4:]))}
					}
				}
			}
			eq(t, "options", o, w)
		case gerr == nil:
			if err != ErrOptions {
				t.Errorf("wire refuses with %v, gopacket accepts\n% x", err, b)
			}
		}
	}
	if accepted < len(corpus)/3 || parsed < accepted/3 {
		t.Errorf("accepted %d, options parsed %d, of %d: the generator is off", accepted, parsed, len(corpus))
	}
}

func TestDiffUDP(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 768))
	corpus := [][]byte{}
	for _, f := range [][]byte{fixtureUDP, fixtureUDPPadded, fixtureVLANUDP, fixtureUDPDNS} {
		_, b := l4(t, f)
		corpus = append(corpus, b)
	}
	for range diffRandom {
		b := buildUDP(ip1, ip2, uint16(r.Uint32()), uint16(r.Uint32()), randBytes(r, r.IntN(100)))
		if r.IntN(4) == 0 {
			b = append(b, make([]byte, r.IntN(20))...)
		}
		corpus = append(corpus, mutate(r, b))
	}
	var accepted int
	for _, b := range corpus {
		var g layers.UDP
		gerr := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback)
		u, err := CheckUDP(b)
		switch {
		case err == nil && gerr != nil:
			t.Errorf("wire accepts, gopacket: %v\n% x", gerr, b)
		case err == nil:
			accepted++
			eq(t, "SrcPort", u.SrcPort(), uint16(g.SrcPort))
			eq(t, "DstPort", u.DstPort(), uint16(g.DstPort))
			eq(t, "Length", u.Length(), g.Length)
			eq(t, "Checksum", u.Checksum(), g.Checksum)
			eqBytes(t, "Payload", u.Payload(), g.Payload)
			sum := gopacket.ComputeChecksum(u, PseudoHeaderSum(ip1, ip2, ProtoUDP, uint16(len(u))))
			eq(t, "ChecksumValid", u.ChecksumValid(ip1, ip2), g.Checksum == 0 || gopacket.FoldChecksum(sum) == 0)
		case gerr == nil:
			l := int(binary.BigEndian.Uint16(b[udpLength:]))
			if err != ErrUDPLength || (l != 0 && l <= len(b)) {
				t.Errorf("wire refuses with %v, gopacket accepts\n% x", err, b)
			}
		}
	}
	if accepted < len(corpus)/3 {
		t.Errorf("only %d of %d accepted: the generator is off", accepted, len(corpus))
	}
}

func TestDiffARP(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 826))
	corpus := [][]byte{l3(t, fixtureARPRequest), l3(t, fixtureARPReply)}
	for range diffRandom {
		b := make([]byte, ARPSize)
		ARPFields{Op: uint16(1 + r.IntN(2)), SenderMAC: [6]byte(randBytes(r, 6)), SenderIP: randAddr(r),
			TargetMAC: [6]byte(randBytes(r, 6)), TargetIP: randAddr(r)}.Encode(b)
		corpus = append(corpus, mutate(r, b))
	}
	var accepted int
	for _, b := range corpus {
		var g layers.ARP
		gerr := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback)
		err := CheckARP(b)
		switch {
		case err == nil && gerr != nil:
			t.Errorf("wire accepts, gopacket: %v\n% x", gerr, b)
		case err == nil:
			accepted++
			a := ARP(b)
			eq(t, "Op", a.Op(), g.Operation)
			eq(t, "SenderMAC", a.SenderMAC(), [6]byte(g.SourceHwAddress))
			eq(t, "SenderIP", a.SenderIP(), [4]byte(g.SourceProtAddress))
			eq(t, "TargetMAC", a.TargetMAC(), [6]byte(g.DstHwAddress))
			eq(t, "TargetIP", a.TargetIP(), [4]byte(g.DstProtAddress))
		case gerr == nil:
			if err != ErrARPFormat && err != ErrARPOp {
				t.Errorf("wire refuses with %v, gopacket accepts\n% x", err, b)
			}
		}
	}
	if accepted < len(corpus)/3 {
		t.Errorf("only %d of %d accepted: the generator is off", accepted, len(corpus))
	}
}

func TestDiffICMP(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 792))
	var corpus [][]byte
	for _, f := range [][]byte{fixtureICMPEcho, fixtureICMPPortUnreachable, fixtureICMPFragNeeded} {
		_, b := l4(t, f)
		corpus = append(corpus, b)
	}
	for range diffRandom {
		var pl []byte
		typ := []uint8{0, 3, 8, 11, 12, uint8(r.Uint32())}[r.IntN(6)]
		if r.IntN(2) == 0 {
			pl = randIPv4(r)
		} else {
			pl = randBytes(r, r.IntN(64))
		}
		b := buildICMP(ICMPFields{Type: typ, Code: uint8(r.IntN(6)), ID: uint16(r.Uint32()), Seq: uint16(r.Uint32())}, pl)
		corpus = append(corpus, mutate(r, b))
	}
	var accepted, quoted int
	for _, b := range corpus {
		var g layers.ICMPv4
		gerr := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback)
		err := CheckICMP(b)
		switch {
		case err == nil && gerr != nil:
			t.Errorf("wire accepts, gopacket: %v\n% x", gerr, b)
		case err == nil:
			accepted++
			m := ICMP(b)
			eq(t, "Type", m.Type(), g.TypeCode.Type())
			eq(t, "Code", m.Code(), g.TypeCode.Code())
			eq(t, "Checksum", m.Checksum(), g.Checksum)
			eq(t, "ID", m.ID(), g.Id)
			eq(t, "Seq", m.Seq(), g.Seq)
			eqBytes(t, "Payload", m.Payload(), g.Payload)
			eq(t, "checksum", gopacket.FoldChecksum(gopacket.ComputeChecksum(b, 0)), uint16(0))
			if q, qerr := m.Quoted(); qerr == nil {
				quoted++
				// The quote decodes in gopacket too, as a truncated datagram.
				var gi layers.IPv4
				if gerr := gi.DecodeFromBytes(m.Payload(), gopacket.NilDecodeFeedback); gerr != nil {
					t.Errorf("quote accepted, gopacket: %v\n% x", gerr, b)
				} else {
					eq(t, "quoted Src", q.Src(), [4]byte(gi.SrcIP))
					eq(t, "quoted Protocol", q.Protocol(), uint8(gi.Protocol))
					if !bytes.HasPrefix(gi.Payload, q.Payload()) {
						t.Errorf("quoted Payload differs")
					}
				}
			}
		case gerr == nil:
			if err != ErrChecksum {
				t.Errorf("wire refuses with %v, gopacket accepts\n% x", err, b)
			}
		}
	}
	if accepted < len(corpus)/6 || quoted == 0 {
		t.Errorf("accepted %d, quoted %d, of %d: the generator is off", accepted, quoted, len(corpus))
	}
}

func TestDiffIGMP(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 2236))
	var corpus [][]byte
	for _, f := range [][]byte{fixtureIGMPReport, fixtureIGMPQuery, fixtureIGMPLeave} {
		_, b := l4(t, f)
		corpus = append(corpus, b)
	}
	types := []uint8{IGMPMembershipQuery, IGMPv1MembershipReport, IGMPv2MembershipReport, IGMPLeaveGroup, IGMPv3MembershipReport, 0x13, uint8(r.Uint32())}
	for range diffRandom {
		b := make([]byte, []int{8, 8, 8, 9, 11, 12, 16, 24}[r.IntN(8)])
		copy(b[4:], randBytes(r, len(b)-4))
		b[0] = types[r.IntN(len(types))]
		b[1] = uint8(r.Uint32())
		IGMP(b).SetChecksum(Checksum(b, 0))
		corpus = append(corpus, mutate(r, b))
	}
	var accepted int
	for _, b := range corpus {
		p := gopacket.NewPacket(b, layers.LayerTypeIGMP, gopacket.NoCopy)
		gerr := p.ErrorLayer()
		err := CheckIGMP(b)
		v3 := len(b) > 0 && b[0] == IGMPv3MembershipReport
		switch {
		case err == nil && gerr != nil:
			if !v3 { // gopacket parses the group records, wire does not
				t.Errorf("wire accepts, gopacket: %v\n% x", gerr.Error(), b)
			}
		case err == nil:
			accepted++
			m := IGMP(b)
			switch l := p.Layer(layers.LayerTypeIGMP).(type) {
			case *layers.IGMPv1or2:
				eq(t, "Type", m.Type(), uint8(l.Type))
				eq(t, "Checksum", m.Checksum(), l.Checksum)
				eq(t, "Group", m.Group(), [4]byte(l.GroupAddress))
				eq(t, "IsV3Query", m.IsV3Query(), false)
			case *layers.IGMP:
				eq(t, "Type", m.Type(), uint8(l.Type))
				eq(t, "Checksum", m.Checksum(), l.Checksum)
				if l.Type == layers.IGMPMembershipQuery {
					eq(t, "Group", m.Group(), [4]byte(l.GroupAddress))
					eq(t, "IsV3Query", m.IsV3Query(), true)
				}
			default:
				t.Errorf("gopacket layer %T", l)
			}
		case gerr == nil:
			// gopacket ignores its own IGMPv3 report errors (IGMP.DecodeFromBytes
			// drops decodeIGMPv3MembershipReport's result): any length passes.
			if err != ErrChecksum && !(v3 && err == ErrTruncated) {
				t.Errorf("wire refuses with %v, gopacket accepts\n% x", err, b)
			}
		}
	}
	if accepted < len(corpus)/8 {
		t.Errorf("only %d of %d accepted: the generator is off", accepted, len(corpus))
	}
}

func TestDiffEthernet(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 8021))
	corpus := allFixtures()
	for range diffRandom {
		b := make([]byte, 14+r.IntN(10))
		f := EthernetFields{Dst: [6]byte(randBytes(r, 6)), Src: [6]byte(randBytes(r, 6)),
			VLAN: r.IntN(2) == 0, TCI: uint16(r.Uint32()),
			Type: []uint16{EtherTypeIPv4, EtherTypeARP, EtherTypeVLAN, 0x86dd, uint16(r.Uint32())}[r.IntN(5)]}
		if f.VLAN {
			b = append(b, 0, 0, 0, 0)
		}
		f.Encode(b)
		corpus = append(corpus, mutate(r, b))
	}
	for _, b := range corpus {
		var g layers.Ethernet
		gerr := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback)
		eth, err := ParseEthernet(b)
		if len(b) >= 14 && binary.BigEndian.Uint16(b[12:]) < 0x0600 {
			// 802.3 length: gopacket says LLC, wire the raw value.
			wantErr(t, "802.3", err, 0)
			eq(t, "802.3 type", eth.Type, binary.BigEndian.Uint16(b[12:]))
			continue
		}
		if gerr == nil && g.EthernetType == layers.EthernetTypeDot1Q {
			var d layers.Dot1Q
			gerr = d.DecodeFromBytes(g.Payload, gopacket.NilDecodeFeedback)
			if gerr == nil {
				eq(t, "VLAN", eth.VLAN, true)
				eq(t, "TCI", eth.TCI, uint16(d.Priority)<<13|boolBit(d.DropEligible)<<12|d.VLANIdentifier)
				if d.Type >= 0x0600 {
					eq(t, "inner Type", eth.Type, uint16(d.Type))
				}
			}
		} else if gerr == nil {
			eq(t, "Type", eth.Type, uint16(g.EthernetType))
			eq(t, "VLAN", eth.VLAN, false)
		}
		if (err == nil) != (gerr == nil) {
			t.Errorf("wire: %v, gopacket: %v\n% x", err, gerr, b)
		}
		if err == nil {
			eq(t, "Dst", Ethernet(b).Dst(), [6]byte(g.DstMAC))
			eq(t, "Src", Ethernet(b).Src(), [6]byte(g.SrcMAC))
		}
	}
}

func boolBit(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

// TestDiffChecksum compares Sum, Checksum and SumAt with gopacket's
// checksum over random data, lengths and initial values.
func TestDiffChecksum(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1071))
	for range 5000 {
		b := randBytes(r, r.IntN(2000))
		if r.IntN(4) == 0 {
			for i := range b {
				b[i] |= 0xf0 // many carries
			}
		}
		init := PseudoHeaderSum(randAddr(r), randAddr(r), uint8(r.Uint32()), uint16(r.Uint32()))
		want := gopacket.FoldChecksum(gopacket.ComputeChecksum(b, init))
		eq(t, "Checksum", Checksum(b, init), want)
		eq(t, "^Fold(Sum)", ^Fold(Sum(b, init)), want)
		cut := r.IntN(len(b) + 1)
		eq(t, "SumAt chain", ^Fold(SumAt(b[cut:], SumAt(b[:cut], init, 0), cut)), want)
	}
	// A real segment serialized by gopacket, checksum included.
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP(ip1[:]), DstIP: net.IP(ip2[:])}
	for range 200 {
		f := TCPFields{SrcPort: uint16(r.Uint32()), DstPort: uint16(r.Uint32()), Seq: Seq(r.Uint32()),
			Ack: Seq(r.Uint32()), Flags: TCPFlags(r.Uint32()), Window: uint16(r.Uint32())}
		pl := randBytes(r, r.IntN(1461))
		g := &layers.TCP{SrcPort: layers.TCPPort(f.SrcPort), DstPort: layers.TCPPort(f.DstPort),
			Seq: uint32(f.Seq), Ack: uint32(f.Ack), Window: f.Window,
			FIN: f.Flags.Contains(TCPFlagFin), SYN: f.Flags.Contains(TCPFlagSyn), RST: f.Flags.Contains(TCPFlagRst),
			PSH: f.Flags.Contains(TCPFlagPsh), ACK: f.Flags.Contains(TCPFlagAck), URG: f.Flags.Contains(TCPFlagUrg),
			ECE: f.Flags.Contains(TCPFlagEce), CWR: f.Flags.Contains(TCPFlagCwr)}
		if err := g.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true},
			ip, g, gopacket.Payload(pl)); err != nil {
			t.Fatal(err)
		}
		out := buf.Bytes()
		eqBytes(t, "TCP segment", buildTCP(ip1, ip2, f, nil, pl), out[20:])
		hdr := make([]byte, 20)
		IPv4Fields{TTL: 64, Protocol: ProtoTCP, Src: ip1, Dst: ip2, TotalLength: uint16(len(out))}.Encode(hdr)
		eqBytes(t, "IPv4 header", hdr, out[:20])
		u := &layers.UDP{SrcPort: layers.UDPPort(f.SrcPort), DstPort: layers.UDPPort(f.DstPort)}
		ip.Protocol = layers.IPProtocolUDP
		if err := u.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf = gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true},
			ip, u, gopacket.Payload(pl)); err != nil {
			t.Fatal(err)
		}
		eqBytes(t, "UDP datagram", buildUDP(ip1, ip2, f.SrcPort, f.DstPort, pl), buf.Bytes()[20:])
		ip.Protocol = layers.IPProtocolTCP
	}
}
