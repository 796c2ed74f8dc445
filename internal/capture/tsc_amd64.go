package capture

// TSC reads the CPU's time-stamp counter with RDTSC: the value DPDK's rte_rdtsc (dpdk.TSC)
// returns, without a cgo call (a few ns instead of ~20).
//
//go:noescape
func TSC() uint64
