package capture

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// Filter selects frames to capture, a small subset of tcpdump's BPF syntax: terms joined by
// "or", each one of
//
//	port N          TCP or UDP, source or destination port N
//	tcp port N      the same, TCP only (udp port N: UDP only)
//	tcp | udp | icmp | arp | igmp
//
// e.g. "port 80 or port 443", "udp port 53 or arp". Matching looks at the Ethernet header (one
// VLAN tag skipped), ARP or IPv4, and the first fragment's TCP/UDP ports; it reads only the
// frame's first segment and allocates nothing. The nil *Filter matches every frame.
type Filter struct {
	text  string
	terms []term
}

type term struct {
	proto uint8 // 0: TCP or UDP (with a port); protoARP: ARP
	port  uint16
	any   bool // no port: the protocol alone
}

const protoARP = 255

// ParseFilter parses a filter expression; "" returns nil (capture everything). Errors wrap
// EINVAL and say which word is wrong.
func ParseFilter(s string) (*Filter, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	f := &Filter{text: s}
	for part := range strings.SplitSeq(s, " or ") {
		w := strings.Fields(part)
		var t term
		switch {
		case len(w) == 2 && w[0] == "port":
			p, err := parsePort(w[1])
			if err != nil {
				return nil, err
			}
			t = term{port: p}
		case len(w) == 3 && (w[0] == "tcp" || w[0] == "udp") && w[1] == "port":
			p, err := parsePort(w[2])
			if err != nil {
				return nil, err
			}
			t = term{proto: protoNumber(w[0]), port: p}
		case len(w) == 1 && protoNumber(w[0]) != 0:
			t = term{proto: protoNumber(w[0]), any: true}
		default:
			return nil, fmt.Errorf("capture filter %q: cannot parse %q (want port N, tcp port N, udp port N, tcp, udp, icmp, arp or igmp, joined by \"or\"): %w",
				s, strings.TrimSpace(part), syscall.EINVAL)
		}
		f.terms = append(f.terms, t)
	}
	return f, nil
}

func parsePort(s string) (uint16, error) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("capture filter: port %q: want 1-65535: %w", s, syscall.EINVAL)
	}
	return uint16(p), nil
}

func protoNumber(s string) uint8 {
	switch s {
	case "tcp":
		return 6
	case "udp":
		return 17
	case "icmp":
		return 1
	case "igmp":
		return 2
	case "arp":
		return protoARP
	}
	return 0
}

// String returns the expression the filter was parsed from.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	return f.text
}

// Match reports whether frame (an Ethernet frame, or its first segment) passes the filter.
func (f *Filter) Match(frame []byte) bool {
	if f == nil {
		return true
	}
	if len(frame) < 14 {
		return false
	}
	et := binary.BigEndian.Uint16(frame[12:])
	l2 := 14
	if et == 0x8100 && len(frame) >= 18 {
		et = binary.BigEndian.Uint16(frame[16:])
		l2 = 18
	}
	var proto uint8
	var sport, dport uint16
	hasPorts := false
	switch et {
	case 0x0806:
		proto = protoARP
	case 0x0800:
		ip := frame[l2:]
		if len(ip) < 20 {
			return false
		}
		proto = ip[9]
		ihl := int(ip[0]&0xf) * 4
		first := binary.BigEndian.Uint16(ip[6:])&0x1fff == 0
		if (proto == 6 || proto == 17) && first && ihl >= 20 && len(ip) >= ihl+4 {
			sport = binary.BigEndian.Uint16(ip[ihl:])
			dport = binary.BigEndian.Uint16(ip[ihl+2:])
			hasPorts = true
		}
	default:
		return false
	}
	for _, t := range f.terms {
		switch {
		case t.any:
			if t.proto == proto {
				return true
			}
		case hasPorts && (t.proto == 0 || t.proto == proto) && (sport == t.port || dport == t.port):
			return true
		}
	}
	return false
}
