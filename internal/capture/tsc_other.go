//go:build !amd64

package capture

import "github.com/zocket/zocket/dpdk"

// TSC reads the CPU's time-stamp counter (dpdk.TSC, a cgo call, on this architecture).
func TSC() uint64 { return dpdk.TSC() }
