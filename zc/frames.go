package zc

import (
	"unsafe"

	"github.com/zocket/zocket/dpdk"
)

// The frame set: which buffers are the frame of an outstanding zero-copy SendZC. A buffer can be
// one frame at a time only (its headroom holds that frame's headers, its data offset and length
// are that frame's), so SendZC looks a buffer up before sending it without a copy. An
// open-addressed table of record numbers + 1 (0: an empty slot) keyed by the record's buffer,
// with linear probing and backward-shift deletion; twice NotifyCap slots, so it never fills and
// probes stay short. No allocation.

// frameSlots is the size of the table: a power of two, twice NotifyCap.
const frameSlots = 2 * NotifyCap

// frameHome is m's first slot (Fibonacci hashing of the pointer).
func frameHome(m *dpdk.Mbuf) uint32 {
	return uint32(uint64(uintptr(unsafe.Pointer(m)))*0x9E3779B97F4A7C15>>32) & (frameSlots - 1)
}

// framed reports whether m is an outstanding SendZC's frame.
func (s *state) framed(m *dpdk.Mbuf) bool {
	for i := frameHome(m); ; i = (i + 1) & (frameSlots - 1) {
		v := s.frames[i]
		if v == 0 {
			return false
		}
		if s.recs[v-1].m == m {
			return true
		}
	}
}

// addFrame enters record r's buffer.
func (s *state) addFrame(r uint32) {
	i := frameHome(s.recs[r].m)
	for s.frames[i] != 0 {
		i = (i + 1) & (frameSlots - 1)
	}
	s.frames[i] = r + 1
	s.recs[r].framed = true
}

// dropFrame removes record r's buffer (r's record must still name it) and moves later entries
// of the probe run back, so that lookups never stop short at the freed slot.
func (s *state) dropFrame(r uint32) {
	i := frameHome(s.recs[r].m)
	for s.frames[i] != r+1 {
		i = (i + 1) & (frameSlots - 1)
	}
	s.recs[r].framed = false
	for j := i; ; {
		s.frames[i] = 0
		for {
			j = (j + 1) & (frameSlots - 1)
			v := s.frames[j]
			if v == 0 {
				return
			}
			// The entry at j may move to i unless its home lies cyclically in (i, j].
			if h := frameHome(s.recs[v-1].m); (j-h)&(frameSlots-1) >= (j-i)&(frameSlots-1) {
				s.frames[i] = v
				i = j
				break
			}
		}
	}
}
