package zc

// Refcnt is the reference count of h's buffer (tests check ownership with it).
func Refcnt(h Handle) int { return int(h.m.Refcnt()) }
