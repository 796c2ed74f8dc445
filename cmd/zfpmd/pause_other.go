//go:build !amd64

package main

// cpuPause is a no-op where there is no PAUSE instruction wired up.
func cpuPause() {}
