package wire

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int{20, 64, 1500} {
		buf := make([]byte, n)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				sinkInt = int(Checksum(buf, 0))
			}
		})
	}
}

func BenchmarkCheckIPv4(b *testing.B) {
	ip := fixtureTCPData[EthernetMinimumSize:]
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = CheckIPv4(ip)
	}
}

// BenchmarkReceiveIPv4 is CheckIPv4 plus the header checksum, without
// offload.
func BenchmarkReceiveIPv4(b *testing.B) {
	ip := IPv4(fixtureTCPData[EthernetMinimumSize:])
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = CheckIPv4(ip)
		sinkBool = ip.ChecksumValid()
	}
}

func BenchmarkCheckTCP(b *testing.B) {
	seg := fixtureTCPSynLinux[EthernetMinimumSize+IPv4MinimumSize:]
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = CheckTCP(seg)
	}
}

func BenchmarkParseTCPOptions(b *testing.B) {
	opts := TCP(fixtureTCPSynLinux[EthernetMinimumSize+IPv4MinimumSize:]).Options()
	b.ReportAllocs()
	for b.Loop() {
		sinkOpts, sinkErr = ParseTCPOptions(opts)
	}
}

func BenchmarkCheckUDP(b *testing.B) {
	d := fixtureUDP[EthernetMinimumSize+IPv4MinimumSize:]
	b.ReportAllocs()
	for b.Loop() {
		sinkUDP, sinkErr = CheckUDP(d)
	}
}

// BenchmarkTCPChecksumValid1460 verifies a full-sized segment in software.
func BenchmarkTCPChecksumValid1460(b *testing.B) {
	seg := TCP(buildTCP(ip1, ip2, TCPFields{Flags: TCPFlagAck}, nil, make([]byte, 1460)))
	b.SetBytes(int64(len(seg)))
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = seg.ChecksumValid(ip1, ip2)
	}
}
