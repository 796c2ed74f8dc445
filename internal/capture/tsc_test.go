package capture

import (
	"testing"
	"time"
)

func TestTSCAdvances(t *testing.T) {
	a := TSC()
	time.Sleep(time.Millisecond)
	b := TSC()
	if b <= a {
		t.Fatalf("TSC went from %d to %d", a, b)
	}
}
