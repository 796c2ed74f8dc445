package dpdk

/*
#include <stdlib.h>
#include <rte_log.h>
*/
import "C"

import "unsafe"

// Log levels of SetLogLevel (RTE_LOG_*).
const (
	LogCritical = int(C.RTE_LOG_CRIT)
	LogError    = int(C.RTE_LOG_ERR)
	LogWarning  = int(C.RTE_LOG_WARNING)
	LogInfo     = int(C.RTE_LOG_INFO)
	LogDebug    = int(C.RTE_LOG_DEBUG)
)

// SetLogLevel sets the level of the log types whose names match the shell pattern (e.g.
// "pmd.net.memif*"), as EAL's --log-level=pattern:level does (rte_log_set_level_pattern).
func SetLogLevel(pattern string, level int) error {
	cp := C.CString(pattern)
	defer C.free(unsafe.Pointer(cp))
	if r := C.rte_log_set_level_pattern(cp, C.uint32_t(level)); r < 0 {
		return callErr("rte_log_set_level_pattern", r)
	}
	return nil
}

// quietLog lowers the log type name to critical-only while its level is at errors or below
// (not raised by the user), when cond holds; the returned function restores the level.
func quietLog(name string, cond bool) (restore func()) {
	if !cond {
		return func() {}
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	id := C.rte_log_register(cn) // the existing type's id
	if id < 0 {
		return func() {}
	}
	level := C.rte_log_get_level(C.uint32_t(id))
	if level < 0 || level > C.RTE_LOG_ERR {
		return func() {}
	}
	C.rte_log_set_level(C.uint32_t(id), C.RTE_LOG_CRIT)
	return func() { C.rte_log_set_level(C.uint32_t(id), C.uint32_t(level)) }
}
