package attr

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGetenvSecureExec: under AT_SECURE (setuid, setgid, file capabilities) ZF_ATTR and
// ZOCKET_EAL_ARGS are ignored, with one warning per variable; otherwise they are read.
func TestGetenvSecureExec(t *testing.T) {
	tests := []struct {
		name    string
		auxv    [][2]uintptr
		ignored bool
	}{
		{"AT_SECURE=1", [][2]uintptr{{6, 4096}, {atSecure, 1}, {0, 0}}, true},
		{"AT_SECURE=0", [][2]uintptr{{6, 4096}, {atSecure, 0}, {0, 0}}, false},
		{"no AT_SECURE", [][2]uintptr{{6, 4096}, {0, 0}}, false},
		{"this process", procAuxv(), false}, // go test does not run setuid
	}
	saveAuxv, saveOut := procAuxv, warnOut
	t.Cleanup(func() { procAuxv, warnOut = saveAuxv, saveOut })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			procAuxv, warnOut = func() [][2]uintptr { return tc.auxv }, &out
			warned.Clear()
			t.Setenv("ZF_ATTR", "name=fromenv")
			t.Setenv("ZOCKET_EAL_ARGS", "-d /tmp/evil.so")
			for range 2 {
				a, err := New()
				require.NoError(t, err)
				v, ok := Getenv("ZOCKET_EAL_ARGS")
				if tc.ignored {
					assert.Equal(t, "", a.StrOf(Name))
					assert.False(t, ok)
					assert.Empty(t, v)
				} else {
					assert.Equal(t, "fromenv", a.StrOf(Name))
					assert.True(t, ok)
					assert.Equal(t, "-d /tmp/evil.so", v)
				}
			}
			if tc.ignored {
				assert.Equal(t, 1, strings.Count(out.String(), "ignoring ZF_ATTR"), out.String())
				assert.Equal(t, 1, strings.Count(out.String(), "ignoring ZOCKET_EAL_ARGS"), out.String())
			} else {
				assert.Empty(t, out.String())
			}
		})
	}
}
