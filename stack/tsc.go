package stack

// TSCToNs converts a reading of the CPU's time-stamp counter (dpdk.TSC) to nanoseconds on the
// scale of Now when the stack runs on its TSC clock (no SetClock), so that a tool can stamp a
// send with dpdk.TSC and subtract it from the Now of the turn that received the answer.
func (s *Stack) TSCToNs(tsc uint64) int64 { return s.tscToNs(tsc) }
