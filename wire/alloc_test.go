package wire

import "testing"

var (
	sinkErr   error
	sinkBool  bool
	sinkInt   int
	sinkU8    uint8
	sinkU32   uint32
	sinkSeq   Seq
	sinkBytes []byte
	sinkMAC   [6]byte
	sinkIP    [4]byte
	sinkStr   string
	sinkOpts  TCPOptions
	sinkEth   EthernetInfo
	sinkIPv4  IPv4
	sinkUDP   UDP
	errSource = ErrTCPOffset // not a constant: converted at run time
)

// TestZeroAlloc checks that checks, accessors, checksums and Error values
// do not allocate.
func TestZeroAlloc(t *testing.T) {
	_, tcpSeg := l4(t, fixtureTCPSynLinux)
	ip, udpDgram := l4(t, fixtureUDP)
	_, unreach := l4(t, fixtureICMPPortUnreachable)
	_, igmp := l4(t, fixtureIGMPReport)
	arp := l3(t, fixtureARPRequest)
	ipb := []byte(ip)
	bad := []byte{0x46, 0, 0, 20}
	big := make([]byte, 1500)
	src, dst := ip.Src(), ip.Dst()

	tests := []struct {
		name string
		f    func()
	}{
		{"Error to error", func() { sinkErr = errSource }},
		{"Error.Error", func() { sinkStr = errSource.Error() }},
		{"every Error to error", func() {
			for e := Error(0); e <= NumErrors; e++ {
				sinkErr = e
			}
		}},
		{"failing checks", func() {
			sinkErr = CheckIPv4(bad)
			sinkErr = CheckTCP(bad)
			sinkErr = CheckARP(bad)
			sinkErr = CheckICMP(bad)
			sinkErr = CheckIGMP(bad)
			sinkUDP, sinkErr = CheckUDP(bad)
			sinkEth, sinkErr = ParseEthernet(bad)
			sinkOpts, sinkErr = ParseTCPOptions(bad)
			sinkIPv4, sinkErr = ICMP(fixtureICMPEcho[34:]).Quoted()
		}},
		{"Ethernet", func() {
			sinkEth, sinkErr = ParseEthernet(fixtureVLANUDP)
			e := Ethernet(fixtureTCPData)
			sinkMAC = e.Dst()
			sinkMAC = e.Src()
			sinkInt = int(e.Type())
			sinkBool = IsBroadcastMAC(sinkMAC) || IsMulticastMAC(sinkMAC)
			sinkMAC = MulticastMAC(dst)
			_ = e.Fields()
		}},
		{"ARP", func() {
			sinkErr = CheckARP(arp)
			a := ARP(arp)
			sinkInt = int(a.Op())
			sinkMAC = a.SenderMAC()
			sinkIP = a.SenderIP()
			sinkMAC = a.TargetMAC()
			sinkIP = a.TargetIP()
			_ = a.Fields()
		}},
		{"IPv4", func() {
			sinkErr = CheckIPv4(ipb)
			p := IPv4(ipb)
			sinkU8 = p.Version() + p.IHL() + p.TOS() + p.TTL() + p.Protocol() + p.Flags()
			sinkInt = p.HeaderLength() + int(p.TotalLength()+p.ID()+p.FragmentOffset()+p.Checksum())
			sinkBool = p.DontFragment() || p.MoreFragments() || p.IsFragment() || p.HasSourceRoute() || p.HasRouterAlert()
			sinkIP = p.Src()
			sinkIP = p.Dst()
			sinkBytes = p.Options()
			sinkBytes = p.Payload()
			sinkBool = p.ChecksumValid()
			sinkInt = int(p.ComputeChecksum())
			sinkBool = IsBroadcast4(sinkIP) || IsMulticast4(sinkIP) || IsLoopback4(sinkIP) || IsUnspecified4(sinkIP)
			_ = p.Fields()
		}},
		{"ICMP", func() {
			sinkErr = CheckICMP(unreach)
			m := ICMP(unreach)
			sinkU8 = m.Type() + m.Code()
			sinkInt = int(m.Checksum() + m.ID() + m.Seq() + m.MTU() + m.ComputeChecksum())
			sinkBytes = m.Payload()
			sinkBool = m.IsError()
			sinkIPv4, sinkErr = m.Quoted()
			_ = m.Fields()
		}},
		{"UDP", func() {
			sinkUDP, sinkErr = CheckUDP(udpDgram)
			u := UDP(udpDgram)
			sinkInt = int(u.SrcPort() + u.DstPort() + u.Length() + u.Checksum())
			sinkBytes = u.Payload()
			sinkBool = u.ChecksumValid(src, dst)
			sinkInt = int(u.ComputeChecksum(src, dst))
			_ = u.Fields()
		}},
		{"TCP", func() {
			sinkErr = CheckTCP(tcpSeg)
			s := TCP(tcpSeg)
			sinkInt = int(s.SrcPort()+s.DstPort()+s.Window()+s.Checksum()+s.Urgent()) + s.DataOffset()
			sinkSeq = s.Seq() + s.Ack()
			sinkU8 = uint8(s.Flags())
			sinkBytes = s.Options()
			sinkBytes = s.Payload()
			sinkOpts, sinkErr = ParseTCPOptions(s.Options())
			sinkBool = s.ChecksumValid(src, dst)
			sinkInt = int(s.ComputeChecksum(src, dst))
			_ = s.Fields()
		}},
		{"IGMP", func() {
			sinkErr = CheckIGMP(igmp)
			m := IGMP(igmp)
			sinkU8 = m.Type() + m.MaxResp()
			sinkInt = int(m.Checksum() + m.ComputeChecksum())
			sinkIP = m.Group()
			sinkBool = m.IsV3Query()
			_ = m.Fields()
		}},
		{"checksums", func() {
			sinkU32 = Sum(big, 0)
			sinkU32 = SumAt(big[1:], sinkU32, 1)
			sinkInt = int(Checksum(big, PseudoHeaderSum(src, dst, ProtoTCP, 1500)))
			sinkInt = int(Fold(sinkU32) + ChecksumUpdate16(1, 2, 3) + ChecksumUpdate32(1, 2, 3))
		}},
		{"Seq", func() {
			s := Seq(sinkU32)
			sinkBool = s.LessThan(5) || s.LessThanEq(5) || s.InRange(1, 2) || s.InWindow(1, 2)
			s.UpdateForward(s.Size(s.Add(3)))
			sinkSeq = s
		}},
		{"Encode", func() {
			b := big[:60]
			EthernetFields{VLAN: true}.Encode(b)
			ARPFields{}.Encode(b)
			IPv4Fields{RouterAlert: true}.Encode(b)
			ICMPFields{}.Encode(b)
			UDPFields{}.Encode(b)
			TCPFields{MSS: 1460}.Encode(b)
			IGMPFields{}.Encode(b)
		}},
	}
	for _, tc := range tests {
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tc.name, n)
		}
	}
}
