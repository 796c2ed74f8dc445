package main

// cpuPause executes one PAUSE instruction (what rte_pause does on x86): a spin-wait hint.
//
//go:noescape
func cpuPause()
