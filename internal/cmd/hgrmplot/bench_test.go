package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBenchRounds runs `scripts/bench -r 2 -n 20000 -plot FILE.svg floor udp` (real DPDK, two
// processes per row over net_memif, about 25 s; run it under the lab lock) and checks its
// output: the probe and row line of each round, the rounds line, the table of medians over the
// kept rounds, the ratio and the tax — each the median of the kept rounds' own values — and
// the chart. The numbers themselves are not judged (the machine is shared).
func TestBenchRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the bench run takes about 25 s")
	}
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	dir := t.TempDir()
	svg := filepath.Join(dir, "bench.svg")
	cmd := exec.Command(filepath.Join(root, "scripts", "bench"), "-r", "2", "-n", "20000", "-plot", svg, "floor", "udp")
	cmd.Env = append(os.Environ(), "BIN="+filepath.Join(dir, "bin"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	out := stdout.String()
	t.Logf("scripts/bench -r 2 -n 20000 floor udp:\n%s", out)

	const rtt = `rtt_ns n=20000 min=\d+ mean=\d+ p50=(\d+) p99=\d+ p999=\d+ max=\d+`
	kept := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^round=(\d) c2c_batch_p50=(\d+|n/a) (near|far)$`).FindAllStringSubmatch(out, -1) {
		kept[m[1]] = m[3] == "near"
	}
	require.Len(t, kept, 2, "a probe line per round")
	p50 := map[string]map[string]float64{"floor": {}, "udp": {}}
	for _, m := range regexp.MustCompile(`(?m)^round=(\d) row=(floor|udp) `+rtt+`$`).FindAllStringSubmatch(out, -1) {
		p50[m[2]][m[1]], _ = strconv.ParseFloat(m[3], 64)
	}
	require.Len(t, p50["floor"], 2, "floor's line in each round")
	require.Len(t, p50["udp"], 2, "udp's line in each round")

	use := []string{}
	for _, k := range []string{"1", "2"} {
		if kept[k] {
			use = append(use, k)
		}
	}
	m := regexp.MustCompile(`(?m)^rounds=2 kept=(\d) far=(\d) \(far: c2c batch_p50 > 300 ns\)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "the rounds line")
	assert.Equal(t, strconv.Itoa(len(use)), m[1])
	assert.Equal(t, strconv.Itoa(2-len(use)), m[2])
	if len(use) == 0 {
		assert.Contains(t, out, "rounds: every round far, medians over all rounds")
		use = []string{"1", "2"}
	}

	var ratios, taxes []float64
	for _, row := range []string{"floor", "udp"} {
		m := regexp.MustCompile(`(?m)^row=` + row + ` ` + rtt + ` rounds=(\d)$`).FindStringSubmatch(out)
		require.NotNil(t, m, "%s's median line", row)
		var ps []float64
		for _, k := range use {
			ps = append(ps, p50[row][k])
		}
		assert.InDelta(t, median(ps), atof(t, m[1]), 0.5, "%s: p50 is the median over the kept rounds", row)
		assert.Equal(t, strconv.Itoa(len(use)), m[2])
	}
	for _, k := range use {
		ratios = append(ratios, p50["udp"][k]/p50["floor"][k])
		taxes = append(taxes, (p50["udp"][k]-p50["floor"][k])/2)
	}
	m = regexp.MustCompile(`(?m)^ratio udp/floor=(\d+\.\d\d)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "the ratio line keeps its format")
	assert.InDelta(t, median(ratios), atof(t, m[1]), 0.006)
	m = regexp.MustCompile(`(?m)^tax udp=(-?\d+\.\d) ns per half round trip$`).FindStringSubmatch(out)
	require.NotNil(t, m, "the tax line")
	assert.InDelta(t, median(taxes), atof(t, m[1]), 0.051)
	assert.NotRegexp(t, `(?m)^tax floor`, out, "no tax for the floor itself")

	doc, err := os.ReadFile(svg)
	require.NoError(t, err, "-plot wrote the chart")
	root2, texts := svgTexts(t, doc)
	assert.Equal(t, "svg", root2)
	assert.Contains(t, texts, "floor")
	assert.Contains(t, texts, "udp")
	assert.Contains(t, texts, "99.9%")
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return f
}
