package wire

import "testing"

func TestIGMPDeconstruct(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  IGMPFields
	}{
		// 10.0.0.1 > 239.1.2.3: igmp v2 report 239.1.2.3
		{"report", fixtureIGMPReport, IGMPFields{Type: IGMPv2MembershipReport, Group: [4]byte{239, 1, 2, 3}}},
		// 10.0.0.2 > 224.0.0.1: igmp query v2
		{"query", fixtureIGMPQuery, IGMPFields{Type: IGMPMembershipQuery, MaxResp: 100}},
		// 10.0.0.1 > 224.0.0.2: igmp leave 239.1.2.3
		{"leave", fixtureIGMPLeave, IGMPFields{Type: IGMPLeaveGroup, Group: [4]byte{239, 1, 2, 3}}},
	}
	for _, tc := range tests {
		ip, b := l4(t, tc.frame)
		eq(t, tc.name+" router alert", ip.HasRouterAlert(), true)
		wantErr(t, tc.name, CheckIGMP(b), 0)
		m := IGMP(b)
		eq(t, tc.name+" Type", m.Type(), tc.want.Type)
		eq(t, tc.name+" MaxResp", m.MaxResp(), tc.want.MaxResp)
		eq(t, tc.name+" Group", m.Group(), tc.want.Group)
		eq(t, tc.name+" IsV3Query", m.IsV3Query(), false)
		eq(t, tc.name+" ComputeChecksum", m.ComputeChecksum(), m.Checksum())
	}
}

func TestIGMPConstruct(t *testing.T) {
	for _, frame := range [][]byte{fixtureIGMPReport, fixtureIGMPQuery, fixtureIGMPLeave} {
		_, want := l4(t, frame)
		b := make([]byte, IGMPv2Size)
		f := IGMP(want).Fields()
		eq(t, "Encode", f.Encode(b), IGMPv2Size)
		eqBytes(t, "Encode", b, want)
		m := IGMP(make([]byte, IGMPv2Size))
		m.SetType(f.Type)
		m.SetMaxResp(f.MaxResp)
		m.SetGroup(f.Group)
		m.SetChecksum(m.ComputeChecksum())
		eqBytes(t, "setters", m, want)
	}
	// A whole report frame: Ethernet, IPv4 with router alert, IGMP.
	grp := [4]byte{239, 1, 2, 3}
	b := make([]byte, 60)
	n := EthernetFields{Dst: MulticastMAC(grp), Src: mac1, Type: EtherTypeIPv4}.Encode(b)
	n += IPv4Fields{ID: 7238, DF: true, TTL: 64, Protocol: ProtoIGMP, Src: ip1, Dst: grp,
		TotalLength: 24 + IGMPv2Size, RouterAlert: true}.Encode(b[n:])
	IGMPFields{Type: IGMPv2MembershipReport, Group: grp}.Encode(b[n:])
	eqBytes(t, "report frame", b, fixtureIGMPReport)
}

func TestCheckIGMPMalformed(t *testing.T) {
	_, report := l4(t, fixtureIGMPReport)
	badSum := clone(report)
	badSum[5] ^= 1
	query := func(n int) []byte {
		b := make([]byte, n)
		b[0] = IGMPMembershipQuery
		b[1] = 100
		IGMP(b).SetChecksum(Checksum(b, 0))
		return b
	}
	typ := func(t uint8) []byte {
		return buildIGMP(IGMPFields{Type: t, Group: [4]byte{239, 1, 2, 3}})
	}
	v3report := make([]byte, 16) // one group record, no sources
	v3report[0] = IGMPv3MembershipReport
	v3report[7] = 1
	v3report[8] = 4 // CHANGE_TO_EXCLUDE
	copy(v3report[12:], []byte{239, 1, 2, 3})
	IGMP(v3report).SetChecksum(Checksum(v3report, 0))
	tests := []struct {
		name string
		b    []byte
		want Error
		v3q  bool
	}{
		{"ok", report, 0, false},
		{"empty", nil, ErrTruncated, false},
		{"7 bytes", report[:7], ErrTruncated, false},
		{"bad checksum", badSum, ErrChecksum, false},
		{"v2 query", query(8), 0, false},
		{"query of 9", query(9), ErrIGMPLength, false},
		{"query of 11", query(11), ErrIGMPLength, false},
		{"v3 query", query(12), 0, true},
		{"v3 query with sources", query(20), 0, true},
		{"v1 report", typ(IGMPv1MembershipReport), 0, false},
		{"v2 report", typ(IGMPv2MembershipReport), 0, false},
		{"leave", typ(IGMPLeaveGroup), 0, false},
		{"v3 report", v3report, 0, false},
		{"type 0", typ(0), ErrIGMPType, false},
		{"type 0x13 (DVMRP)", typ(0x13), ErrIGMPType, false},
		{"type 0x30 (MRD)", typ(0x30), ErrIGMPType, false},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, CheckIGMP(tc.b), tc.want)
		if tc.want == 0 {
			eq(t, tc.name+" IsV3Query", IGMP(tc.b).IsV3Query(), tc.v3q)
		}
	}
}
