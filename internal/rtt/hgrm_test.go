package rtt

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// skewed records a latency-like distribution: most round trips near 400 ns, a tail to 40 µs.
func skewed() *Recorder {
	r := NewRecorder()
	for i := int64(0); i < 100_000; i++ {
		v := 380 + i%50
		switch {
		case i%1000 == 7:
			v = 2_000 + i%3000
		case i%20_000 == 11:
			v = 40_000
		}
		r.Record(v)
	}
	return r
}

func TestHgrmRoundTripsPercentiles(t *testing.T) {
	r := skewed()
	var b bytes.Buffer
	require.NoError(t, r.WriteHgrm(&b))
	text := b.String()
	assert.True(t, strings.HasPrefix(text, " Value\tPercentile\tTotalCount\t1/(1-Percentile)\n\n"), "header")
	assert.Contains(t, text, "#[Mean    = ")
	assert.Contains(t, text, "#[Max     = ")
	assert.Contains(t, text, "Total count    =       100000]")
	assert.Contains(t, text, "#[Buckets = ")

	pts, err := ReadHgrm(&b)
	require.NoError(t, err)
	samePoints(t, r.Points(), pts)
	last := pts[len(pts)-1]
	assert.Equal(t, int64(100_000), last.Count)
	assert.Equal(t, 1.0, last.Percentile)

	back := NewRecorder()
	back.AddPoints(pts)
	for _, p := range []float64{0, 10, 50, 90, 99, 99.9, 99.99, 100} {
		assert.Equal(t, r.Percentile(p), back.Percentile(p), "percentile %v", p)
	}
	assert.Equal(t, r.Summary().N, back.Summary().N)
}

// samePoints asserts that got is want as written to a file: values and counts equal,
// percentiles to the file's 6 decimals.
func samePoints(t *testing.T, want, got []Point) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for i := range want {
		assert.Equal(t, want[i].Value, got[i].Value, "line %d", i)
		assert.Equal(t, want[i].Count, got[i].Count, "line %d", i)
		assert.InDelta(t, want[i].Percentile, got[i].Percentile, 1e-6, "line %d", i)
	}
}

func TestAddPointsMerges(t *testing.T) {
	a, b := NewRecorder(), NewRecorder()
	for i := int64(0); i < 1000; i++ {
		a.Record(100)
		b.Record(300)
	}
	m := NewRecorder()
	m.AddPoints(a.Points())
	m.AddPoints(b.Points())
	s := m.Summary()
	assert.Equal(t, int64(2000), s.N)
	assert.Equal(t, int64(100), m.Percentile(25))
	assert.Equal(t, int64(300), m.Percentile(75))
}

func TestWriteHgrmFile(t *testing.T) {
	r := skewed()
	assert.NoError(t, r.WriteHgrmFile(""), "no path, no file")
	path := filepath.Join(t.TempDir(), "x.hgrm")
	require.NoError(t, r.WriteHgrmFile(path))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	pts, err := ReadHgrm(f)
	require.NoError(t, err)
	samePoints(t, r.Points(), pts)
	err = r.WriteHgrmFile(filepath.Join(t.TempDir(), "missing", "x.hgrm"))
	assert.True(t, errors.Is(err, syscall.ENOENT), "%v", err)
}

func TestReadHgrmRejectsMalformed(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"empty", ""},
		{"only header and footer", " Value\tPercentile\tTotalCount\t1/(1-Percentile)\n\n#[Mean = 1]\n"},
		{"three fields", "100.000 0.5 10\n"},
		{"value not a number", "abc 0.5 10 2.00\n"},
		{"negative value", "-1 0.5 10 2.00\n"},
		{"percentile above 1", "100 1.5 10 2.00\n"},
		{"count not an integer", "100 0.5 1.5 2.00\n"},
		{"count decreasing", "100 0.5 10 2.00\n200 0.9 9 10.00\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadHgrm(strings.NewReader(tc.text))
			assert.True(t, errors.Is(err, syscall.EINVAL), "%v", err)
		})
	}
	pts, err := ReadHgrm(strings.NewReader("       Value     Percentile TotalCount 1/(1-Percentile)\n\n  100.000 0.000000000000 1 1.00\n  250.000 1.000000000000 4 inf\n#[Mean = 1]\n"))
	require.NoError(t, err, "Java HdrHistogram's spacing")
	assert.Equal(t, []Point{{100, 0, 1}, {250, 1, 4}}, pts)
}
