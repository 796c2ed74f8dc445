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

// fakeProbe stands in for the c2c probe (ZK_C2C_PROBE): round 2 is far, round 3's probe fails
// (which counts as near), the others are near.
const fakeProbe = `#!/bin/sh
case $1 in 2) echo "c2c_ns n=1 batch_p50=480" ;; 3) exit 1 ;; *) echo "c2c_ns n=1 batch_p50=100" ;; esac
`

// TestBenchRounds runs `scripts/bench -r ROUNDS -n 20000 -plot FILE.svg floor udp` (real DPDK,
// two processes per row over net_memif, about 25 s for 2 rounds; run it under the lab lock),
// once with the real c2c probe and once with a fake one that makes round 2 far, and checks its
// output: the probe and row line of each round, the rounds line, the table of medians over the
// kept rounds, the ratio and the tax — each the median of the kept rounds' own values — and
// the chart. The numbers themselves are not judged (the machine is shared).
func TestBenchRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the bench runs take about a minute")
	}
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	probe := filepath.Join(t.TempDir(), "probe")
	require.NoError(t, os.WriteFile(probe, []byte(fakeProbe), 0o755))
	for _, tc := range []struct {
		name     string
		rounds   int
		env      []string
		wantKept map[string]bool // nil: whatever the real probe finds
	}{
		{"c2c probe", 2, nil, nil},
		{"round 2 far", 3, []string{"ZK_C2C_PROBE=" + probe}, map[string]bool{"1": true, "2": false, "3": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, svg := runBench(t, root, tc.rounds, tc.env)
			checkRounds(t, out, tc.rounds, tc.wantKept)
			doc, err := os.ReadFile(svg)
			require.NoError(t, err, "-plot wrote the chart")
			root, texts := svgTexts(t, doc)
			assert.Equal(t, "svg", root)
			assert.Contains(t, texts, "floor")
			assert.Contains(t, texts, "udp")
			assert.Contains(t, texts, "99.9%")
		})
	}
}

// runBench runs scripts/bench -r rounds -n 20000 -plot DIR/bench.svg floor udp with the tools
// built into a temporary BIN, and returns its stdout and the chart's path.
func runBench(t *testing.T, root string, rounds int, env []string) (string, string) {
	dir := t.TempDir()
	svg := filepath.Join(dir, "bench.svg")
	cmd := exec.Command(filepath.Join(root, "scripts", "bench"), "-r", strconv.Itoa(rounds), "-n", "20000", "-plot", svg, "floor", "udp")
	cmd.Env = append(append(os.Environ(), "BIN="+filepath.Join(dir, "bin")), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	t.Logf("scripts/bench -r %d -n 20000 floor udp:\n%s", rounds, stdout.String())
	return stdout.String(), svg
}

// checkRounds checks bench's -r output for rows floor and udp against the rounds it printed.
func checkRounds(t *testing.T, out string, rounds int, wantKept map[string]bool) {
	const rtt = `rtt_ns n=20000 min=\d+ mean=\d+ p50=(\d+) p99=\d+ p999=\d+ max=\d+`
	kept := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^round=(\d) c2c_batch_p50=(\d+|n/a) (near|far)$`).FindAllStringSubmatch(out, -1) {
		kept[m[1]] = m[3] == "near"
	}
	require.Len(t, kept, rounds, "a probe line per round")
	if wantKept != nil {
		assert.Equal(t, wantKept, kept)
	}
	p50 := map[string]map[string]float64{"floor": {}, "udp": {}}
	for _, m := range regexp.MustCompile(`(?m)^round=(\d) row=(floor|udp) `+rtt+`$`).FindAllStringSubmatch(out, -1) {
		p50[m[2]][m[1]] = atof(t, m[3])
	}
	// A row may fail in a round (the memif zero-copy client's occasional "mmap failed"): it
	// then prints an error line for that round and its medians are over the others.
	errs := regexp.MustCompile(`(?m)^round=\d row=(floor|udp) error$`).FindAllStringSubmatch(out, -1)
	for _, row := range []string{"floor", "udp"} {
		n := len(p50[row])
		for _, e := range errs {
			if e[1] == row {
				n++
			}
		}
		require.Equal(t, rounds, n, "%s: a line per round", row)
	}
	if len(errs) > 0 {
		t.Logf("%d failed rows: the medians are over the rounds they succeeded in", len(errs))
	}

	var use []string
	for k := 1; k <= rounds; k++ {
		if kept[strconv.Itoa(k)] {
			use = append(use, strconv.Itoa(k))
		}
	}
	m := regexp.MustCompile(`(?m)^rounds=(\d) kept=(\d) far=(\d) \(far: c2c batch_p50 > 300 ns\)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "the rounds line")
	assert.Equal(t, []string{strconv.Itoa(rounds), strconv.Itoa(len(use)), strconv.Itoa(rounds - len(use))}, m[1:])
	if len(use) == 0 {
		assert.Contains(t, out, "rounds: every round far, medians over all rounds")
		for k := 1; k <= rounds; k++ {
			use = append(use, strconv.Itoa(k))
		}
	}

	for _, row := range []string{"floor", "udp"} {
		m := regexp.MustCompile(`(?m)^row=` + row + ` ` + rtt + ` rounds=(\d)$`).FindStringSubmatch(out)
		require.NotNil(t, m, "%s's median line", row)
		var ps []float64
		for _, k := range use {
			if v, ok := p50[row][k]; ok {
				ps = append(ps, v)
			}
		}
		require.NotEmpty(t, ps, "%s failed in every kept round", row)
		assert.InDelta(t, median(ps), atof(t, m[1]), 0.5, "%s: p50 is the median over the kept rounds", row)
		assert.Equal(t, strconv.Itoa(len(ps)), m[2])
	}
	var ratios, taxes []float64
	for _, k := range use {
		_, okF := p50["floor"][k]
		_, okU := p50["udp"][k]
		if !okF || !okU {
			continue
		}
		ratios = append(ratios, p50["udp"][k]/p50["floor"][k])
		taxes = append(taxes, (p50["udp"][k]-p50["floor"][k])/2)
	}
	require.NotEmpty(t, ratios, "no kept round in which both rows succeeded")
	m = regexp.MustCompile(`(?m)^ratio udp/floor=(\d+\.\d\d)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "the ratio line keeps its format")
	assert.InDelta(t, median(ratios), atof(t, m[1]), 0.006)
	m = regexp.MustCompile(`(?m)^tax udp=(-?\d+\.\d) ns per half round trip$`).FindStringSubmatch(out)
	require.NotNil(t, m, "the tax line")
	assert.InDelta(t, median(taxes), atof(t, m[1]), 0.051)
	assert.NotRegexp(t, `(?m)^tax floor`, out, "no tax for the floor itself")
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
