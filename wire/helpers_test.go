package wire

import (
	"bytes"
	"testing"
)

// Test addresses, the ones the fixtures use.
var (
	mac1 = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	mac2 = [6]byte{0x02, 0, 0, 0, 0, 0x02}
	ip1  = [4]byte{10, 0, 0, 1}
	ip2  = [4]byte{10, 0, 0, 2}
)

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func eqBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s =\n% x\nwant\n% x", what, got, want)
	}
}

// wantErr asserts err is exactly want, or nil when want is 0.
func wantErr(t *testing.T, what string, err error, want Error) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Errorf("%s: error %v, want nil", what, err)
		}
		return
	}
	if e, ok := err.(Error); !ok || e != want {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// l3 returns the Ethernet payload of a fixture frame, padding included.
func l3(t *testing.T, frame []byte) []byte {
	t.Helper()
	eth, err := ParseEthernet(frame)
	if err != nil {
		t.Fatalf("ParseEthernet: %v", err)
	}
	return frame[eth.HeaderLen:]
}

// l4 returns the IPv4 payload of a fixture frame, after checking the
// Ethernet and IPv4 headers and the IPv4 checksum.
func l4(t *testing.T, frame []byte) (IPv4, []byte) {
	t.Helper()
	b := l3(t, frame)
	if err := CheckIPv4(b); err != nil {
		t.Fatalf("CheckIPv4: %v", err)
	}
	ip := IPv4(b)
	if !ip.ChecksumValid() {
		t.Fatalf("IPv4 checksum invalid")
	}
	return ip, ip.Payload()
}

// Builders for test packets: correct checksums unless a test breaks them.

func buildIPv4(proto uint8, src, dst [4]byte, payload []byte) []byte {
	b := make([]byte, IPv4MinimumSize+len(payload))
	IPv4Fields{ID: 1, TTL: 64, Protocol: proto, Src: src, Dst: dst,
		TotalLength: uint16(len(b))}.Encode(b)
	copy(b[IPv4MinimumSize:], payload)
	return b
}

// buildIPv4Opts builds a header with the given option bytes (padded to a
// multiple of 4 with zeros) and fixes IHL, total length and checksum.
func buildIPv4Opts(opts []byte, payload []byte) []byte {
	ol := (len(opts) + 3) &^ 3
	hl := IPv4MinimumSize + ol
	b := make([]byte, hl+len(payload))
	IPv4Fields{ID: 2, TTL: 64, Protocol: ProtoUDP, Src: ip1, Dst: ip2,
		TotalLength: uint16(len(b))}.Encode(b)
	b[0] = 0x40 | uint8(hl/4)
	copy(b[IPv4MinimumSize:], opts)
	copy(b[hl:], payload)
	ip := IPv4(b)
	ip.SetChecksum(ip.ComputeChecksum())
	return b
}

func buildUDP(src, dst [4]byte, sp, dp uint16, payload []byte) []byte {
	b := make([]byte, UDPMinimumSize+len(payload))
	UDPFields{SrcPort: sp, DstPort: dp, Length: uint16(len(b))}.Encode(b)
	copy(b[UDPMinimumSize:], payload)
	UDP(b).SetChecksum(UDP(b).ComputeChecksum(src, dst))
	return b
}

// buildTCP builds a segment with f's header, or with opts in place of
// f's options when opts is not nil, and a correct checksum.
func buildTCP(src, dst [4]byte, f TCPFields, opts, payload []byte) []byte {
	b := make([]byte, TCPMaximumHeaderSize+len(payload))
	hl := f.Encode(b)
	if opts != nil {
		hl = TCPMinimumSize + (len(opts)+3)&^3
		clear(b[TCPMinimumSize:hl])
		copy(b[TCPMinimumSize:], opts)
		b[tcpDataOffset] = uint8(hl/4) << 4
	}
	copy(b[hl:], payload)
	b = b[:hl+len(payload)]
	TCP(b).SetChecksum(TCP(b).ComputeChecksum(src, dst))
	return b
}

func buildICMP(f ICMPFields, payload []byte) []byte {
	b := make([]byte, ICMPMinimumSize+len(payload))
	copy(b[ICMPMinimumSize:], payload)
	f.Encode(b)
	return b
}

func buildIGMP(f IGMPFields) []byte {
	b := make([]byte, IGMPv2Size)
	f.Encode(b)
	return b
}
