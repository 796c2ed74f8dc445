package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestErrorText(t *testing.T) {
	seen := map[string]Error{}
	for e := ErrTruncated; e < NumErrors; e++ {
		s := e.Error()
		if !strings.HasPrefix(s, "wire: ") || s == "wire: unknown error" || s == "wire: no error" {
			t.Errorf("Error(%d).Error() = %q", e, s)
		}
		if d, ok := seen[s]; ok {
			t.Errorf("Errors %d and %d share the text %q", d, e, s)
		}
		seen[s] = e
	}
	eq(t, "NumErrors.Error()", NumErrors.Error(), "wire: unknown error")
	eq(t, "Error(255).Error()", Error(255).Error(), "wire: unknown error")
	var counters [NumErrors]uint64
	counters[ErrIGMPLength]++ // the last one fits
	eq(t, "counter", counters[NumErrors-1], uint64(1))
}

func TestErrorAs(t *testing.T) {
	err := CheckIPv4(make([]byte, 3))
	var e Error
	if !errors.As(err, &e) || e != ErrTruncated {
		t.Fatalf("errors.As: %v", err)
	}
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("errors.Is(%v, ErrTruncated) = false", err)
	}
}
