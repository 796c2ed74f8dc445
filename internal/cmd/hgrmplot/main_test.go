package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/rtt"
)

// writeHgrm writes an .hgrm of n round trips around base ns with a tail to 20 × base.
func writeHgrm(t *testing.T, dir, name string, base, n int64) string {
	t.Helper()
	r := rtt.NewRecorder()
	for i := int64(0); i < n; i++ {
		v := base + i%(base/4)
		if i%500 == 3 {
			v = 20 * base
		}
		r.Record(v)
	}
	path := filepath.Join(dir, name)
	require.NoError(t, r.WriteHgrmFile(path))
	return path
}

// svgTexts parses an SVG document and returns its root element's name and every text node.
func svgTexts(t *testing.T, doc []byte) (root string, texts []string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG parses as XML")
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
		case xml.CharData:
			if s := string(bytes.TrimSpace(tok)); s != "" {
				texts = append(texts, s)
			}
		}
	}
	return root, texts
}

func TestPlotsTwoRows(t *testing.T) {
	dir := t.TempDir()
	floor := writeHgrm(t, dir, "floor.hgrm", 400, 20_000)
	udp1 := writeHgrm(t, dir, "udp.1.hgrm", 480, 20_000)
	udp2 := writeHgrm(t, dir, "udp.2.hgrm", 520, 20_000)
	out := filepath.Join(dir, "chart.svg")
	var stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-o", out, "-title", "bench test", "floor=" + floor, "udp=" + udp1 + "," + udp2}, &stderr), stderr.String())
	doc, err := os.ReadFile(out)
	require.NoError(t, err)
	root, texts := svgTexts(t, doc)
	assert.Equal(t, "svg", root)
	for _, want := range []string{"bench test", "floor", "udp", "0%", "50%", "90%", "99%", "99.9%", "99.99%", "percentile", "round trip (ns)"} {
		assert.Contains(t, texts, want)
	}
	assert.NotContains(t, texts, "99.999%", "the axis ends near 1/(1-p) = 40,000, the merged count")
}

func TestLogYLabelsDurations(t *testing.T) {
	dir := t.TempDir()
	floor := writeHgrm(t, dir, "floor.hgrm", 400, 20_000)
	out := filepath.Join(dir, "chart.svg")
	var stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-logy", "-o", out, "floor=" + floor}, &stderr), stderr.String())
	doc, err := os.ReadFile(out)
	require.NoError(t, err)
	_, texts := svgTexts(t, doc)
	for _, want := range []string{"1 µs", "round trip"} { // the axis spans 400 ns to 8 µs
		assert.Contains(t, texts, want)
	}
	for _, tc := range []struct {
		ns   float64
		want string
	}{{1, "1 ns"}, {500, "500 ns"}, {1000, "1 µs"}, {25_000, "25 µs"}, {1e6, "1 ms"}, {3e9, "3 s"}} {
		assert.Equal(t, tc.want, durationLabel(tc.ns))
	}
}

func TestMergesRounds(t *testing.T) {
	dir := t.TempDir()
	a := writeHgrm(t, dir, "a.hgrm", 400, 1000)
	b := writeHgrm(t, dir, "b.hgrm", 800, 3000)
	xys, err := load([]string{a, b})
	require.NoError(t, err)
	last := xys[len(xys)-1]
	assert.Equal(t, 4000.0, last.X, "the maximum sits at the total count")
	assert.InDelta(t, 16_000, last.Y, 16, "the maximum is b's tail")
	assert.Equal(t, 1.0, xys[0].X)
	assert.InDelta(t, 400, xys[0].Y, 1, "the minimum is a's")
}

func TestRejectsBadArguments(t *testing.T) {
	dir := t.TempDir()
	good := writeHgrm(t, dir, "good.hgrm", 400, 1000)
	bad := filepath.Join(dir, "bad.hgrm")
	require.NoError(t, os.WriteFile(bad, []byte("not a histogram\n"), 0o644))
	out := filepath.Join(dir, "x.svg")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"no series", []string{"-o", out}, 2},
		{"no output", []string{"a=" + good}, 2},
		{"no name", []string{"-o", out, "=" + good}, 2},
		{"no equals", []string{"-o", out, good}, 2},
		{"missing file", []string{"-o", out, "a=" + filepath.Join(dir, "none.hgrm")}, 1},
		{"malformed file", []string{"-o", out, "a=" + bad}, 1},
		{"unknown format", []string{"-o", filepath.Join(dir, "x.doc"), "a=" + good}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			assert.Equal(t, tc.code, run(tc.args, &stderr))
			assert.Contains(t, stderr.String(), "hgrmplot:")
		})
	}
}
