package attr

import (
	"net"
	"net/netip"
	"strings"

	"github.com/zocket/zocket/internal/capture"
)

// Validity checks of the table: each returns why a value is refused
// (EINVAL), or "" to accept it.

func multipleOf8(v int64) string {
	if v%8 != 0 {
		return "not a multiple of 8"
	}
	return ""
}

func ctpioMode(s string) string {
	switch s {
	case "sf", "ct", "sf-np":
		return ""
	}
	return "want sf, ct or sf-np"
}

func congestionName(s string) string {
	switch s {
	case "cubic", "newreno":
		return ""
	}
	return "want cubic or newreno"
}

func checkPrefix(s string) string {
	if s == "" {
		return ""
	}
	if _, err := parsePrefix(s); err != "" {
		return err
	}
	return ""
}

func parsePrefix(s string) (netip.Prefix, string) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, "want an IPv4 address and prefix length, like 198.18.0.1/24"
	}
	a := p.Addr()
	if a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Prefix{}, "not a unicast address"
	}
	return p, ""
}

func checkAddr(s string) string {
	if s == "" {
		return ""
	}
	_, err := parseUnicast(s)
	return err
}

func parseUnicast(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, "want an IPv4 address, like 198.18.0.254"
	}
	if a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}, "not a unicast address"
	}
	return a, ""
}

func checkMAC(s string) string {
	if s == "" {
		return ""
	}
	_, err := parseMAC(s)
	return err
}

func parseMAC(s string) ([6]byte, string) {
	var m [6]byte
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return m, "want a 48-bit MAC address, like 02:00:00:00:00:01"
	}
	copy(m[:], hw)
	if m[0]&1 != 0 {
		return m, "not a unicast MAC address"
	}
	if m == [6]byte{} {
		return m, "all-zero MAC address"
	}
	return m, ""
}

func checkNeighbours(s string) string {
	_, err := parseNeighbours(s)
	return err
}

func parseNeighbours(s string) ([]Neighbour, string) {
	if s == "" {
		return nil, ""
	}
	var ns []Neighbour
	for e := range strings.SplitSeq(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		ip, mac, ok := strings.Cut(e, "=")
		if !ok {
			return nil, "entry " + e + ": want ip=mac"
		}
		a, err := parseUnicast(strings.TrimSpace(ip))
		if err != "" {
			return nil, "entry " + e + ": " + err
		}
		m, err := parseMAC(strings.TrimSpace(mac))
		if err != "" {
			return nil, "entry " + e + ": " + err
		}
		ns = append(ns, Neighbour{IP: a, MAC: m})
	}
	return ns, ""
}

// checkText refuses characters that no attribute file or ZF_ATTR string
// could carry back.
func checkText(s string) string {
	if strings.ContainsAny(s, ";\n\r\x00") {
		return "contains ';', a newline or NUL"
	}
	return ""
}

func checkCaptureFilter(s string) string {
	if _, err := capture.ParseFilter(s); err != nil {
		return err.Error()
	}
	return ""
}
