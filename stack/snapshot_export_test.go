package stack

// Hooks for the external tests of snapshot.go.

// RequestSnapshot makes a snapshot request as a reader would, without waiting.
func RequestSnapshot(s *Stack) { s.obs.snap.req.Add(1) }

// SnapshotPending reports whether a request is still being served.
func SnapshotPending(s *Stack) bool { return s.obs.snap.req.Load() != s.obs.snap.done }

// SetSnapshotBudget sets the rows copied per Perform call.
func SetSnapshotBudget(s *Stack, n int) { s.obs.snap.budget = n }
