package alts

// SetBurstHook sets the function Send calls right after its burst returns (nil: none).
func SetBurstHook(f func()) { burstHook = f }
