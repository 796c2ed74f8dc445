package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"net_ring0", "net_ring0"},
		{"net_memif0,role=client,socket=/run/x.sock", "net_memif0,role=client,socket=/run/x.sock"},
		{"net_memif0,role=client,secret=abc", "net_memif0,role=client,secret=REDACTED"},
		{"net_memif0,secret=abc,role=server", "net_memif0,secret=REDACTED,role=server"},
		{"interface=net_memif0,secret=a=b;name=x", "interface=net_memif0,secret=REDACTED;name=x"},
		{"--vdev=net_memif0,secret=abc --no-pci", "--vdev=net_memif0,secret=REDACTED --no-pci"},
		{"PASSWORD=x,api_key=y,passwd=z", "PASSWORD=REDACTED,api_key=REDACTED,passwd=REDACTED"},
		{"secret=", "secret="},
		{"secret=,x=1", "secret=,x=1"},
		{"=secret", "=secret"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, String(tc.in))
		})
	}
}

func TestStringAllocatesNothingWhenClean(t *testing.T) {
	s := "interface=net_memif0,role=client,socket=/run/x.sock;name=A"
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = String(s) }))
}
