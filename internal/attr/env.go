package attr

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Environment variables are a trust boundary: ZF_ATTR's eal_args and interface reach
// rte_eal_init and device probing unfiltered (DPDK's `-d lib.so` loads any library, net_pcap
// reads and writes any file), and ZOCKET_EAL_ARGS replaces the tools' EAL arguments. Whoever
// sets a process's environment owns the process. A program that runs with privileges its
// caller does not have (setuid, setgid or file capabilities) must not let the caller's
// environment in: like the dynamic loader with LD_PRELOAD, Getenv ignores the variables when
// the kernel marked the execution secure (AT_SECURE in the auxiliary vector).

// atSecure is AT_SECURE of linux/auxvec.h.
const atSecure = 23

// procAuxv returns the process's auxiliary vector (a variable so that tests can drive
// Getenv's decision).
var procAuxv = func() [][2]uintptr {
	v, _ := unix.Auxv()
	return v
}

// warnOut is where Getenv's warnings go.
var warnOut io.Writer = os.Stderr

var warned sync.Map // variable name → struct{}: warned once

// secureExec reports whether auxv marks the execution secure: AT_SECURE present and not 0.
func secureExec(auxv [][2]uintptr) bool {
	for _, kv := range auxv {
		if kv[0] == atSecure {
			return kv[1] != 0
		}
	}
	return false
}

// Getenv returns the environment variable name as os.LookupEnv does, unless the process runs
// with elevated privileges it did not start with (AT_SECURE: setuid, setgid, file
// capabilities): then it returns "", false and writes a warning to stderr, once per name.
// zocket reads ZF_ATTR ([New]) and ZOCKET_EAL_ARGS through it.
func Getenv(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	if !ok || !secureExec(procAuxv()) {
		return v, ok
	}
	if _, dup := warned.LoadOrStore(name, struct{}{}); !dup {
		fmt.Fprintf(warnOut, "zocket: ignoring %s: the process runs with privileges its caller may not have (setuid, setgid or file capabilities: AT_SECURE)\n", name)
	}
	return "", false
}
