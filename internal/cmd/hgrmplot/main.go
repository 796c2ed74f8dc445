// Command hgrmplot draws latency percentile distributions (.hgrm files, as the latency tools'
// -hgrm writes them) on one chart, the way HdrHistogram's plotters do: round-trip time against
// percentile, the percentile axis at 1/(1−percentile) on a log scale so that the tail spreads
// out (ticks labelled 0 %, 50 %, 90 %, 99 %, 99.9 %, …). scripts/bench -plot calls it.
//
//	hgrmplot -o FILE.svg [-title TEXT] [-logy] NAME=FILE.hgrm[,FILE.hgrm…] …
//
// Each NAME=… argument is one line of the chart, named NAME in the legend; several files after
// one name (a row's rounds) are merged into one distribution first (rtt.Recorder.AddPoints).
// The 100 % point (the maximum) is drawn at 1/(1−percentile) = the total count, where the
// largest of N samples sits. -logy puts the latency on a log scale too (decades labelled 1 µs,
// 10 µs, …). The output format follows the file's extension (svg, png, pdf, eps); values are
// taken as nanoseconds. Exit status 2 for a usage error, 1 when a file cannot be read or parsed
// or the chart not written.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/zocket/zocket/internal/rtt"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// series is one line of the chart.
type series struct {
	name  string
	files []string
}

// run is main with its arguments and error stream; it returns the exit status.
func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("hgrmplot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the chart to `FILE` (.svg, .png, .pdf, .eps)")
	title := fs.String("title", "round-trip time by percentile", "chart `TITLE`")
	logY := fs.Bool("logy", false, "latency on a log scale too")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hgrmplot -o FILE.svg [-title TEXT] [-logy] NAME=FILE.hgrm[,FILE.hgrm…] …")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ss, err := parseSeries(fs.Args())
	if err == nil && *out == "" {
		err = errors.New("-o FILE missing")
	}
	if err != nil {
		fmt.Fprintln(stderr, "hgrmplot:", err)
		fs.Usage()
		return 2
	}
	p, err := chart(*title, *logY, ss)
	if err == nil {
		err = p.Save(16*vg.Centimeter, 10*vg.Centimeter, *out)
	}
	if err != nil {
		fmt.Fprintln(stderr, "hgrmplot:", err)
		return 1
	}
	return 0
}

// parseSeries reads the NAME=FILE[,FILE…] arguments.
func parseSeries(args []string) ([]series, error) {
	if len(args) == 0 {
		return nil, errors.New("no NAME=FILE.hgrm")
	}
	ss := make([]series, 0, len(args))
	for _, a := range args {
		name, files, ok := strings.Cut(a, "=")
		if !ok || name == "" || files == "" {
			return nil, fmt.Errorf("%q: want NAME=FILE.hgrm[,FILE.hgrm…]", a)
		}
		ss = append(ss, series{name: name, files: strings.Split(files, ",")})
	}
	return ss, nil
}

// chart builds the plot of every series.
func chart(title string, logY bool, ss []series) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "round trip"
	if !logY {
		p.Y.Label.Text = "round trip (ns)"
	}
	p.X.Scale = plot.LogScale{}
	p.Legend.Top = true
	p.Legend.Left = true
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.TickerFunc(durationTicks)
	}
	p.Add(plotter.NewGrid())
	maxX := 10.0
	for i, s := range ss {
		xys, err := load(s.files)
		if err != nil {
			return nil, err
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
		maxX = max(maxX, xys[len(xys)-1].X)
	}
	p.X.Min, p.X.Max = 1, maxX
	p.X.Tick.Marker = plot.ConstantTicks(percentileTicks(maxX))
	return p, nil
}

// load reads one series' files (merged when several) and returns its points as (1/(1−p), ns).
func load(files []string) (plotter.XYs, error) {
	var pts []rtt.Point
	merged := rtt.NewRecorder()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		pts, err = rtt.ReadHgrm(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		merged.AddPoints(pts)
	}
	if len(files) > 1 {
		pts = merged.Points()
	}
	total := float64(pts[len(pts)-1].Count)
	xys := make(plotter.XYs, 0, len(pts))
	for _, pt := range pts {
		x := total
		if pt.Percentile < 1 {
			x = min(1/(1-pt.Percentile), total)
		}
		xys = append(xys, plotter.XY{X: max(x, 1), Y: max(pt.Value, 1)})
	}
	return xys, nil
}

// percentileTicks labels the 1/(1−p) axis with percentiles up to maxX: 0 %, 50 %, then one
// more nine per decade (90 %, 99 %, 99.9 %, …).
func percentileTicks(maxX float64) []plot.Tick {
	ticks := []plot.Tick{{Value: 1, Label: "0%"}, {Value: 2, Label: "50%"}}
	for k := 1; math.Pow10(k) <= maxX*1.0001; k++ {
		pct := 100 * (1 - math.Pow10(-k))
		ticks = append(ticks, plot.Tick{Value: math.Pow10(k), Label: strconv.FormatFloat(pct, 'f', max(k-2, 0), 64) + "%"})
		for m := 2; m < 10 && float64(m)*math.Pow10(k) <= maxX; m++ {
			ticks = append(ticks, plot.Tick{Value: float64(m) * math.Pow10(k)})
		}
	}
	return ticks
}

// durationTicks is plot.LogTicks with the decades labelled as durations (100 ns, 1 µs, …).
func durationTicks(lo, hi float64) []plot.Tick {
	ticks := plot.LogTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = durationLabel(ticks[i].Value)
		}
	}
	return ticks
}

// durationLabel writes ns nanoseconds in the largest unit that keeps it ≥ 1.
func durationLabel(ns float64) string {
	for _, u := range []struct {
		scale float64
		unit  string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}} {
		if ns >= u.scale {
			return strconv.FormatFloat(ns/u.scale, 'g', -1, 64) + " " + u.unit
		}
	}
	return strconv.FormatFloat(ns, 'g', -1, 64) + " ns"
}
