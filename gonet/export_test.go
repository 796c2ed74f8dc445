package gonet

// SetTestHookDrainWake sets testHookDrainWake (nil: none).
func SetTestHookDrainWake(f func()) { testHookDrainWake = f }

// Spinning reports whether a blocked caller polls the stack in the poller's place.
func (s *Stack) Spinning() bool { return s.spinner.Load() }
