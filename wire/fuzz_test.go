package wire

// Fuzz targets: each parses arbitrary bytes; when the check passes it reads
// every accessor (the receive contract: none may panic) and round-trips
// the header through its Fields and Encode. Seed corpora are in
// testdata/fuzz/FuzzXxx, written by TestWriteFuzzSeeds from fuzzSeeds.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func FuzzEthernet(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		eth, err := ParseEthernet(data)
		if err != nil {
			if err != ErrTruncated {
				t.Fatalf("ParseEthernet: %v", err)
			}
			return
		}
		if eth.HeaderLen > len(data) || (eth.HeaderLen != 14 && eth.HeaderLen != 18) {
			t.Fatalf("HeaderLen %d of %d", eth.HeaderLen, len(data))
		}
		h := Ethernet(data)
		_, _, _ = h.Dst(), h.Src(), h.Type()
		fs := h.Fields()
		if fs.Type != eth.Type || fs.VLAN != eth.VLAN || fs.TCI != eth.TCI {
			t.Fatalf("Fields %+v, ParseEthernet %+v", fs, eth)
		}
		b := make([]byte, 18)
		n := fs.Encode(b)
		if n != eth.HeaderLen || !bytes.Equal(b[:n], data[:n]) {
			t.Fatalf("Encode:\n% x\nwant\n% x", b[:n], data[:n])
		}
		eth2, err := ParseEthernet(b[:n])
		if err != nil || eth2 != eth || Ethernet(b).Fields() != fs {
			t.Fatalf("re-parse: %+v %v, want %+v", eth2, err, eth)
		}
	})
}

func FuzzARP(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := CheckARP(data); err != nil {
			return
		}
		a := ARP(data)
		_, _, _, _, _ = a.Op(), a.SenderMAC(), a.SenderIP(), a.TargetMAC(), a.TargetIP()
		fs := a.Fields()
		b := make([]byte, ARPSize)
		fs.Encode(b)
		if !bytes.Equal(b, data[:ARPSize]) {
			t.Fatalf("Encode:\n% x\nwant\n% x", b, data[:ARPSize])
		}
		if err := CheckARP(b); err != nil || ARP(b).Fields() != fs {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func FuzzIPv4(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := CheckIPv4(data); err != nil {
			return
		}
		ip := IPv4(data)
		_, _, _, _ = ip.Version(), ip.IHL(), ip.TOS(), ip.ID()
		_, _, _, _ = ip.Flags(), ip.DontFragment(), ip.MoreFragments(), ip.IsFragment()
		_, _, _, _, _ = ip.TTL(), ip.Protocol(), ip.Checksum(), ip.Src(), ip.Dst()
		_, _ = ip.HasSourceRoute(), ip.HasRouterAlert()
		_, _ = ip.ChecksumValid(), ip.ComputeChecksum()
		hl, tl := ip.HeaderLength(), int(ip.TotalLength())
		if len(ip.Options()) != hl-IPv4MinimumSize || len(ip.Payload()) != tl-hl {
			t.Fatalf("Options %d, Payload %d, header %d, total %d", len(ip.Options()), len(ip.Payload()), hl, tl)
		}
		if int(ip.FragmentOffset())%8 != 0 {
			t.Fatalf("FragmentOffset %d", ip.FragmentOffset())
		}
		c := IPv4(clone(data))
		c.SetChecksum(c.ComputeChecksum())
		if !c.ChecksumValid() {
			t.Fatalf("ComputeChecksum does not verify")
		}
		// Round trip through Fields: a header of 20 bytes, or 24 with router
		// alert, then the payload.
		fs := ip.Fields()
		b := make([]byte, tl)
		n := fs.Encode(b)
		copy(b[n:], ip.Payload())
		if err := CheckIPv4(b); err != nil {
			t.Fatalf("re-parse: %v\n% x", err, b)
		}
		if got := IPv4(b).Fields(); got != fs {
			t.Fatalf("re-parse Fields %+v, want %+v", got, fs)
		}
		if !IPv4(b).ChecksumValid() {
			t.Fatalf("Encode checksum does not verify")
		}
		if n == hl && !bytes.Equal(IPv4(b).Payload(), ip.Payload()) {
			t.Fatalf("re-parse Payload differs")
		}
	})
}

func FuzzICMP(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := CheckICMP(data); err != nil {
			return
		}
		m := ICMP(data)
		_, _, _, _, _, _ = m.Type(), m.Code(), m.Checksum(), m.ID(), m.Seq(), m.MTU()
		_, _ = m.Payload(), m.ComputeChecksum()
		q, err := m.Quoted()
		if (err == ErrICMPType) == m.IsError() {
			t.Fatalf("Quoted: %v, IsError %v", err, m.IsError())
		}
		if err == nil {
			_ = q.Fields()
			_, _, _, _ = q.Options(), q.HasSourceRoute(), q.ChecksumValid(), q.ComputeChecksum()
			if len(q.Payload()) < 8 || len(q) > len(m.Payload()) {
				t.Fatalf("quoted Payload %d bytes, view %d", len(q.Payload()), len(q))
			}
		}
		fs := m.Fields()
		b := clone(data)
		fs.Encode(b)
		if err := CheckICMP(b); err != nil || ICMP(b).Fields() != fs || !bytes.Equal(ICMP(b).Payload(), m.Payload()) {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func FuzzUDP(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := CheckUDP(data)
		if err != nil {
			if u != nil {
				t.Fatalf("view with error %v", err)
			}
			return
		}
		if int(u.Length()) != len(u) || len(u) > len(data) {
			t.Fatalf("view %d bytes, Length %d", len(u), u.Length())
		}
		_, _, _ = u.SrcPort(), u.DstPort(), u.Payload()
		_ = u.ChecksumValid(ip1, ip2)
		c := UDP(clone(u))
		c.SetChecksum(c.ComputeChecksum(ip1, ip2))
		if c.Checksum() == 0 || !c.ChecksumValid(ip1, ip2) {
			t.Fatalf("ComputeChecksum %#04x does not verify", c.Checksum())
		}
		fs := u.Fields()
		b := make([]byte, len(u))
		fs.Encode(b)
		copy(b[UDPMinimumSize:], u.Payload())
		u2, err := CheckUDP(b)
		if err != nil || u2.Fields() != fs || !bytes.Equal(u2, u) {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func FuzzTCP(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := CheckTCP(data); err != nil {
			return
		}
		s := TCP(data)
		_, _, _, _ = s.SrcPort(), s.DstPort(), s.Seq(), s.Ack()
		_, _, _, _ = s.Flags(), s.Window(), s.Checksum(), s.Urgent()
		_ = s.Flags().String()
		_, _ = ParseTCPOptions(s.Options())
		if len(s.Options())+TCPMinimumSize != s.DataOffset() || s.DataOffset()+len(s.Payload()) != len(data) {
			t.Fatalf("DataOffset %d, Options %d, Payload %d", s.DataOffset(), len(s.Options()), len(s.Payload()))
		}
		c := TCP(clone(data))
		c.SetChecksum(c.ComputeChecksum(ip1, ip2))
		if !c.ChecksumValid(ip1, ip2) {
			t.Fatalf("ComputeChecksum does not verify")
		}
		fs := s.Fields()
		b := make([]byte, TCPMaximumHeaderSize+len(s.Payload()))
		n := fs.Encode(b)
		copy(b[n:], s.Payload())
		b = b[:n+len(s.Payload())]
		if err := CheckTCP(b); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if got := TCP(b).Fields(); got != fs || !bytes.Equal(TCP(b).Payload(), s.Payload()) {
			t.Fatalf("re-parse Fields %+v, want %+v", got, fs)
		}
	})
}

func FuzzTCPOptions(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseTCPOptions(data)
		if err != nil {
			if o != (TCPOptions{}) || err != ErrOptions {
				t.Fatalf("error %v with %+v", err, o)
			}
			return
		}
		if !optionsWellFormed(data) {
			t.Fatalf("parsed options that CheckTCP refuses")
		}
		fixed := 0 // Encode's bytes before the SACK blocks
		if o.HasMSS {
			fixed += 4
		}
		if o.HasTimestamps {
			fixed += 12
		} else if o.SACKPermitted {
			fixed += 4
		}
		if o.HasWScale {
			fixed += 4
		}
		o.NumSACK = min(o.NumSACK, (MaxTCPOptionsSize-fixed-4)/8)
		for k := o.NumSACK; k < MaxSACKBlocks; k++ {
			o.SACK[k] = SACKBlock{}
		}
		var buf [MaxTCPOptionsSize]byte
		b := buf[:o.Encode(buf[:])]
		o2, err := ParseTCPOptions(b)
		if err != nil || o2 != o {
			t.Fatalf("re-parse %+v %v, want %+v", o2, err, o)
		}
	})
}

func FuzzIGMP(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := CheckIGMP(data); err != nil {
			return
		}
		m := IGMP(data)
		_, _, _, _ = m.Type(), m.MaxResp(), m.Checksum(), m.Group()
		_, _ = m.IsV3Query(), m.ComputeChecksum()
		fs := m.Fields()
		b := make([]byte, IGMPv2Size)
		fs.Encode(b)
		if err := CheckIGMP(b); err != nil || IGMP(b).Fields() != fs {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

// fuzzSeeds returns the seed corpus of each fuzz target, by file name:
// the fixtures and the malformed cases of the table tests.
func fuzzSeeds() map[string]map[string][]byte {
	at := func(frame []byte, off int) []byte { return clone(frame[off:]) }
	ipOf := func(frame []byte) []byte { return at(frame, EthernetMinimumSize) }
	l4Of := func(frame []byte) []byte {
		ip := IPv4(ipOf(frame))
		return clone(ip.Payload())
	}
	set := func(b []byte, i int, v ...byte) []byte {
		b = clone(b)
		copy(b[i:], v)
		return b
	}
	tcpData := l4Of(fixtureTCPData)
	inner := buildIPv4(ProtoUDP, ip2, ip1, buildUDP(ip2, ip1, 40000, 9000, []byte("query")))
	unreach := func(q []byte) []byte {
		return buildICMP(ICMPFields{Type: ICMPDestUnreachable, Code: ICMPPortUnreachable}, q)
	}
	igmpQuery := func(n int) []byte {
		b := make([]byte, n)
		b[0], b[1] = IGMPMembershipQuery, 100
		IGMP(b).SetChecksum(Checksum(b, 0))
		return b
	}
	udp := l4Of(fixtureUDP)
	return map[string]map[string][]byte{
		"FuzzEthernet": {
			"fixture-arp-request": fixtureARPRequest,
			"fixture-vlan-udp":    fixtureVLANUDP,
			"fixture-tcp-data":    fixtureTCPData,
			"fixture-igmp-report": fixtureIGMPReport,
			"runt-13":             fixtureTCPData[:13],
			"vlan-17":             fixtureVLANUDP[:17],
			"qinq":                set(fixtureVLANUDP, 16, 0x81, 0x00),
			"llc-length":          set(fixtureTCPData, 12, 0x00, 0x2e),
		},
		"FuzzARP": {
			"fixture-request":  l3Of(fixtureARPRequest),
			"fixture-reply":    l3Of(fixtureARPReply),
			"htype-6":          set(l3Of(fixtureARPRequest), 1, 6),
			"ptype-ipv6":       set(l3Of(fixtureARPRequest), 2, 0x86, 0xdd),
			"hlen-plen":        set(l3Of(fixtureARPRequest), 4, 8, 16),
			"op-3":             set(l3Of(fixtureARPRequest), 7, 3),
			"truncated-27":     l3Of(fixtureARPRequest)[:27],
			"fixed-truncated7": l3Of(fixtureARPRequest)[:7],
		},
		"FuzzIPv4": {
			"fixture-tcp-data":    ipOf(fixtureTCPData),
			"fixture-icmp-echo":   ipOf(fixtureICMPEcho),
			"fixture-udp-padded":  ipOf(fixtureUDPPadded),
			"fixture-igmp-ra":     ipOf(fixtureIGMPReport),
			"fixture-dns-capture": ipOf(fixtureUDPDNS),
			"version-6":           set(ipOf(fixtureTCPData), 0, 0x65),
			"ihl-4":               set(ipOf(fixtureTCPData), 0, 0x44),
			"ihl-15":              set(ipOf(fixtureTCPData), 0, 0x4f),
			"total-length-0":      set(ipOf(fixtureTCPData), 2, 0, 0),
			"total-length-long":   set(ipOf(fixtureTCPData), 2, 0x05, 0xdc),
			"option-length-0":     buildIPv4Opts([]byte{0x44, 0, 0, 0}, nil),
			"option-length-1":     buildIPv4Opts([]byte{0x44, 1, 0, 0}, nil),
			"option-past-header":  buildIPv4Opts([]byte{1, 0x44, 12, 5}, nil),
			"lsrr":                buildIPv4Opts([]byte{1, IPv4OptionLSRR, 7, 4, 10, 0, 0, 9}, []byte("x")),
			"fragment":            set(ipOf(fixtureTCPData), 6, 0x3f, 0xff),
		},
		"FuzzICMP": {
			"fixture-echo":         l4Of(fixtureICMPEcho),
			"fixture-unreachable":  l4Of(fixtureICMPPortUnreachable),
			"fixture-frag-needed":  l4Of(fixtureICMPFragNeeded),
			"short-7":              l4Of(fixtureICMPEcho)[:7],
			"bad-checksum":         set(l4Of(fixtureICMPEcho), 2, 0, 0),
			"quote-truncated":      unreach(inner[:27]),
			"quote-ihl-4":          unreach(set(inner, 0, 0x44)),
			"quote-bad-option":     unreach(set(inner, 0, 0x46, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x44, 1)),
			"quote-short-total":    unreach(set(inner, 3, 27)),
			"quote-whole-datagram": unreach(inner),
		},
		"FuzzUDP": {
			"fixture-udp":         udp,
			"fixture-dns-capture": l4Of(fixtureUDPDNS),
			"length-7":            set(udp, 4, 0, 7),
			"length-long":         set(udp, 4, 0, 200),
			"length-0":            set(udp, 4, 0, 0),
			"trimmed":             append(clone(udp), 0xde, 0xad),
			"port-0":              buildUDP(ip1, ip2, 0, 0, nil),
			"short-7":             udp[:7],
		},
		"FuzzTCP": {
			"fixture-syn-mss":    l4Of(fixtureTCPSynMSS),
			"fixture-syn-linux":  l4Of(fixtureTCPSynLinux),
			"fixture-data":       tcpData,
			"fixture-rst":        l4Of(fixtureTCPRst),
			"offset-4":           set(tcpData, 12, 0x40),
			"offset-15":          set(tcpData, 12, 0xf0),
			"option-length-0":    buildTCP(ip1, ip2, TCPFields{Flags: TCPFlagSyn}, []byte{2, 0, 5, 0xb4}, nil),
			"option-past-header": buildTCP(ip1, ip2, TCPFields{Flags: TCPFlagSyn}, []byte{8, 10, 0, 0}, nil),
			"syn-fin":            buildTCP(ip1, ip2, TCPFields{Flags: TCPFlagSyn | TCPFlagFin}, nil, nil),
			"short-19":           tcpData[:19],
		},
		"FuzzTCPOptions": {
			"linux-syn":       TCP(l4Of(fixtureTCPSynLinux)).Options(),
			"mss":             {2, 4, 5, 0xb4},
			"mss-length-3":    {2, 3, 5, 1},
			"timestamps":      {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2},
			"length-0":        {99, 0},
			"length-past-end": {99, 5, 0, 0},
			"eol-then-junk":   {0, 2, 4, 1},
			"sack-blocks":     {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2},
		},
		"FuzzIGMP": {
			"fixture-report": l4Of(fixtureIGMPReport),
			"fixture-query":  l4Of(fixtureIGMPQuery),
			"fixture-leave":  l4Of(fixtureIGMPLeave),
			"v3-query":       igmpQuery(12),
			"query-10":       igmpQuery(10),
			"bad-type":       buildIGMP(IGMPFields{Type: 0x13}),
			"bad-checksum":   set(l4Of(fixtureIGMPReport), 2, 0, 0),
			"short-7":        l4Of(fixtureIGMPReport)[:7],
		},
	}
}

func l3Of(frame []byte) []byte {
	eth, err := ParseEthernet(frame)
	if err != nil {
		panic(err)
	}
	return clone(frame[eth.HeaderLen:])
}

// TestWriteFuzzSeeds writes testdata/fuzz when WIRE_WRITE_FUZZ_SEEDS is
// set, and otherwise checks that the files are there and up to date.
func TestWriteFuzzSeeds(t *testing.T) {
	write := os.Getenv("WIRE_WRITE_FUZZ_SEEDS") != ""
	for target, seeds := range fuzzSeeds() {
		dir := filepath.Join("testdata", "fuzz", target)
		if write {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, b := range seeds {
			want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			path := filepath.Join(dir, name)
			if write {
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Errorf("%s missing or stale: run WIRE_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds ./wire", path)
			}
		}
	}
}
