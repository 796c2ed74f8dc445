package stack_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

var (
	group1 = [4]byte{239, 1, 2, 3}
	group2 = [4]byte{239, 9, 9, 9}
)

// igmpFrame builds an IGMP message from the peer to dst (TTL 1, router alert, as routers send
// them); size 12 makes an IGMPv3 query.
func igmpFrame(dst [4]byte, typ, maxResp uint8, group [4]byte, size int) []byte {
	msg := make([]byte, size)
	f := wire.IGMPFields{Type: typ, MaxResp: maxResp, Group: group}
	f.Encode(msg)
	if size > wire.IGMPv2Size {
		m := wire.IGMP(msg)
		m.SetChecksum(0)
		m.SetChecksum(wire.Checksum(msg, 0))
	}
	ip := make([]byte, 24+len(msg))
	ipf := wire.IPv4Fields{TOS: 0xc0, TotalLength: uint16(len(ip)), TTL: 1, Protocol: wire.ProtoIGMP,
		Src: lab.PeerIP, Dst: dst, RouterAlert: true}
	ipf.Encode(ip)
	copy(ip[24:], msg)
	return ethTo(wire.MulticastMAC(dst), wire.EtherTypeIPv4, ip)
}

// igmpSent is an IGMP message the stack emitted.
type igmpSent struct {
	typ   uint8
	group [4]byte
	dst   [4]byte
}

func (m igmpSent) String() string { return fmt.Sprintf("%#x %v→%v", m.typ, m.group, m.dst) }

// emittedIGMP checks every frame the stack sent as an IGMP message and returns them.
func emittedIGMP(t *testing.T, r *lab.Raw) []igmpSent {
	t.Helper()
	var out []igmpSent
	for _, f := range r.Emitted() {
		require.NoError(t, wire.CheckIPv4(f[14:]))
		ip := wire.IPv4(f[14:])
		require.Equal(t, uint8(wire.ProtoIGMP), ip.Protocol())
		assert.True(t, ip.ChecksumValid())
		assert.Equal(t, uint8(1), ip.TTL(), "IGMP never leaves the link")
		assert.True(t, ip.HasRouterAlert(), "RFC 2236 §2: router alert")
		assert.Equal(t, lab.StackIP, ip.Src())
		assert.Equal(t, wire.MulticastMAC(ip.Dst()), wire.Ethernet(f).Dst())
		require.NoError(t, wire.CheckIGMP(ip.Payload()))
		m := wire.IGMP(ip.Payload())
		out = append(out, igmpSent{m.Type(), m.Group(), ip.Dst()})
	}
	return out
}

// advance moves the clock by d in steps of 50 ms, performing the stack at each.
func advance(r *lab.Raw, d time.Duration) {
	for t := time.Duration(0); t < d; t += 50 * time.Millisecond {
		r.Clock.Advance(int64(50 * time.Millisecond))
		r.S.Perform()
	}
}

func TestIGMPJoinReportsThenRepeatsOnce(t *testing.T) {
	r := lab.NewRaw(t)
	require.NoError(t, r.S.JoinMulticast(group1))
	r.S.Perform()
	assert.Equal(t, []igmpSent{{wire.IGMPv2MembershipReport, group1, group1}}, emittedIGMP(t, r), "report at once")
	advance(r, 10*time.Second+100*time.Millisecond)
	assert.Equal(t, []igmpSent{{wire.IGMPv2MembershipReport, group1, group1}}, emittedIGMP(t, r), "repeated once within 10 s")
	advance(r, 20*time.Second)
	assert.Empty(t, emittedIGMP(t, r), "then quiet")
	assert.Equal(t, uint64(2), r.S.IGMPCounters().TxReports)
	require.NoError(t, r.S.LeaveMulticast(group1))
}

func TestIGMPQueries(t *testing.T) {
	allHosts := [4]byte{224, 0, 0, 1}
	tests := []struct {
		name  string
		query []byte
		want  []igmpSent // sorted by group
	}{
		{"general v2 query: every group", igmpFrame(allHosts, wire.IGMPMembershipQuery, 20, [4]byte{}, 8),
			[]igmpSent{{wire.IGMPv2MembershipReport, group1, group1}, {wire.IGMPv2MembershipReport, group2, group2}}},
		{"group-specific query: that group", igmpFrame(group2, wire.IGMPMembershipQuery, 20, group2, 8),
			[]igmpSent{{wire.IGMPv2MembershipReport, group2, group2}}},
		{"query for a group not joined: nothing", igmpFrame(allHosts, wire.IGMPMembershipQuery, 20, [4]byte{239, 5, 5, 5}, 8),
			nil},
		{"IGMPv1 query: v1 reports", igmpFrame(allHosts, wire.IGMPMembershipQuery, 0, [4]byte{}, 8),
			[]igmpSent{{wire.IGMPv1MembershipReport, group1, group1}, {wire.IGMPv1MembershipReport, group2, group2}}},
		{"IGMPv3 query: answered in v2", igmpFrame(allHosts, wire.IGMPMembershipQuery, 20, [4]byte{}, 12),
			[]igmpSent{{wire.IGMPv2MembershipReport, group1, group1}, {wire.IGMPv2MembershipReport, group2, group2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t)
			require.NoError(t, r.S.JoinMulticast(group1))
			require.NoError(t, r.S.JoinMulticast(group2))
			advance(r, 11*time.Second) // the unsolicited reports and their repeats
			r.Drain()
			before := r.S.Counters()
			r.Inject(t, tc.query)
			after := r.S.Counters()
			assert.Equal(t, before.Dropped(), after.Dropped(), "the query is accepted")
			assert.Empty(t, emittedIGMP(t, r), "answers wait a random delay")
			advance(r, 10*time.Second+100*time.Millisecond)
			got := emittedIGMP(t, r)
			if len(got) == 2 && got[0].group != group1 {
				got[0], got[1] = got[1], got[0]
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, uint64(1), r.S.IGMPCounters().RxQueries)
			require.NoError(t, r.S.LeaveMulticast(group1))
			require.NoError(t, r.S.LeaveMulticast(group2))
		})
	}
}

func TestIGMPReportSuppression(t *testing.T) {
	r := lab.NewRaw(t)
	require.NoError(t, r.S.JoinMulticast(group1))
	advance(r, 11*time.Second)
	r.Drain()
	r.Inject(t, igmpFrame([4]byte{224, 0, 0, 1}, wire.IGMPMembershipQuery, 100, [4]byte{}, 8))
	// Another member answers first: our pending report is cancelled.
	r.Inject(t, igmpFrame(group1, wire.IGMPv2MembershipReport, 0, group1, 8))
	advance(r, 11*time.Second)
	assert.Empty(t, emittedIGMP(t, r))
	assert.Equal(t, uint64(1), r.S.IGMPCounters().RxReports)
	require.NoError(t, r.S.LeaveMulticast(group1))
}

func TestIGMPLeaveOnLastReference(t *testing.T) {
	r := lab.NewRaw(t)
	require.NoError(t, r.S.JoinMulticast(group1))
	require.NoError(t, r.S.JoinMulticast(group1))
	r.S.Perform()
	assert.Len(t, emittedIGMP(t, r), 1, "one report for two references")
	require.NoError(t, r.S.LeaveMulticast(group1))
	r.S.Perform()
	assert.Empty(t, emittedIGMP(t, r), "still held")
	assert.Equal(t, [][4]byte{group1}, r.S.MulticastGroups())
	require.NoError(t, r.S.LeaveMulticast(group1))
	r.S.Perform()
	assert.Equal(t, []igmpSent{{wire.IGMPLeaveGroup, group1, [4]byte{224, 0, 0, 2}}}, emittedIGMP(t, r))
	assert.Empty(t, r.S.MulticastGroups())
	advance(r, 11*time.Second)
	assert.Empty(t, emittedIGMP(t, r), "the pending repeat went with the group")
	// With no group left, the all-hosts group is left too: queries are not for us any more.
	before := r.S.Counters()
	r.Inject(t, igmpFrame([4]byte{224, 0, 0, 1}, wire.IGMPMembershipQuery, 100, [4]byte{}, 8))
	assert.Equal(t, before.Drops[stack.DropEthNotForUs]+1, r.S.Counters().Drops[stack.DropEthNotForUs])
}

func TestIGMPErrors(t *testing.T) {
	r := lab.NewRaw(t)
	for _, g := range [][4]byte{{198, 18, 0, 5}, {224, 0, 0, 1}} {
		assert.True(t, errors.Is(r.S.JoinMulticast(g), syscall.EINVAL), "%v", g)
	}
	assert.True(t, errors.Is(r.S.LeaveMulticast(group1), syscall.EINVAL), "not joined")
	var joined [][4]byte
	var err error
	for i := 0; i < 64; i++ {
		g := [4]byte{239, 0, 1, byte(i)}
		if err = r.S.JoinMulticast(g); err != nil {
			break
		}
		joined = append(joined, g)
	}
	assert.True(t, errors.Is(err, syscall.ENOBUFS), "too many groups: %v", err)
	assert.Len(t, joined, 31, "32 filter entries, one is 224.0.0.1")
	for _, g := range joined {
		require.NoError(t, r.S.LeaveMulticast(g))
	}
	// Malformed IGMP is counted and dropped.
	require.NoError(t, r.S.JoinMulticast(group1))
	bad := igmpFrame([4]byte{224, 0, 0, 1}, wire.IGMPMembershipQuery, 100, [4]byte{}, 8)
	bad[len(bad)-1] ^= 0xff // checksum
	r.Inject(t, bad)
	assert.Equal(t, uint64(1), r.S.IGMPCounters().RxDropped)
	require.NoError(t, r.S.LeaveMulticast(group1))
	r.Drain()
}
