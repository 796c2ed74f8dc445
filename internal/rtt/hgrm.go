package rtt

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// hgrmTicks is the number of percentile lines per halving of the distance to 100 %, as
// HdrHistogram's outputPercentileDistribution prints by default.
const hgrmTicks = 5

// Point is one line of an .hgrm percentile distribution: the value in nanoseconds at or below
// which Percentile (0..1) of the Count recorded round trips lie.
type Point struct {
	Value      float64
	Percentile float64
	Count      int64
}

// WriteHgrm writes the recorded round trips in HdrHistogram's percentile-distribution text
// format (the .hgrm files HdrHistogram's plotters read): the header
// "Value Percentile TotalCount 1/(1-Percentile)", one line per percentile step (5 per halving
// of the distance to 100 %), and the #[Mean …] #[Max …] #[Buckets …] footer. Values are in
// nanoseconds. It returns the writer's error.
func (r *Recorder) WriteHgrm(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if _, err := r.h.PercentilesPrint(bw, hgrmTicks, 1); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteHgrmFile writes WriteHgrm's text to the file path (created or truncated); an empty path
// does nothing. It returns the file's error (e.g. ENOENT, EACCES) wrapped with the path.
func (r *Recorder) WriteHgrmFile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-hgrm: %w", err)
	}
	if err := r.WriteHgrm(f); err != nil {
		f.Close()
		return fmt.Errorf("-hgrm %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("-hgrm %s: %w", path, err)
	}
	return nil
}

// Points returns the recorded distribution as WriteHgrm prints it, one Point per line.
func (r *Recorder) Points() []Point {
	dist := r.h.CumulativeDistributionWithTicks(hgrmTicks)
	pts := make([]Point, len(dist))
	for i, b := range dist {
		pts[i] = Point{Value: float64(b.ValueAt), Percentile: b.Quantile / 100, Count: b.Count}
	}
	return pts
}

// AddPoints records the round trips a percentile distribution describes (as ReadHgrm returns
// it): each point's increase in Count at its Value. The values of an .hgrm are the upper ends of
// histogram buckets, so the percentiles of the result match the file's within the recorder's
// resolution (3 significant digits); adding several files merges their distributions.
func (r *Recorder) AddPoints(pts []Point) {
	var prev int64
	for _, p := range pts {
		if n := p.Count - prev; n > 0 {
			v := min(max(int64(p.Value+0.5), 1), r.h.HighestTrackableValue())
			_ = r.h.RecordValues(v, n)
		}
		prev = max(prev, p.Count)
	}
}

// ReadHgrm parses an .hgrm percentile distribution (WriteHgrm's, or any HdrHistogram
// implementation's): blank lines, the header and the #[…] footer lines are skipped; every
// other line must be "VALUE PERCENTILE TOTALCOUNT INVERSE" with 0 ≤ PERCENTILE ≤ 1 and
// TOTALCOUNT never decreasing. It returns the points in file order, or an error wrapping
// syscall.EINVAL with the line number for a malformed line (or a file without points), or the
// reader's error.
func ReadHgrm(rd io.Reader) ([]Point, error) {
	var pts []Point
	sc := bufio.NewScanner(rd)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || f[0] == "Value" {
			continue
		}
		p, err := parsePoint(f)
		if err == nil && len(pts) > 0 && p.Count < pts[len(pts)-1].Count {
			err = fmt.Errorf("count %d below the previous line's", p.Count)
		}
		if err != nil {
			return nil, fmt.Errorf("hgrm line %d: %v: %w", line, err, syscall.EINVAL)
		}
		pts = append(pts, p)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("hgrm: no percentile lines: %w", syscall.EINVAL)
	}
	return pts, nil
}

// parsePoint parses the four fields of an .hgrm data line.
func parsePoint(f []string) (Point, error) {
	if len(f) != 4 {
		return Point{}, fmt.Errorf("%d fields, want 4", len(f))
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 {
		return Point{}, fmt.Errorf("value %q", f[0])
	}
	p, err := strconv.ParseFloat(f[1], 64)
	if err != nil || !(p >= 0 && p <= 1) {
		return Point{}, fmt.Errorf("percentile %q", f[1])
	}
	n, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || n < 0 {
		return Point{}, fmt.Errorf("count %q", f[2])
	}
	return Point{Value: v, Percentile: p, Count: n}, nil
}
