package gonet

// SetTestHookDrainWake sets testHookDrainWake (nil: none).
func SetTestHookDrainWake(f func()) { testHookDrainWake = f }
