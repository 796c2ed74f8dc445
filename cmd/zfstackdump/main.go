// Command zfstackdump lists the zocket stacks of this machine and shows what is inside them,
// like TCPDirect's zf_stackdump (user guide §5.14):
//
//	zfstackdump [flags] [list|dump] [stack ...]
//
// list (the default) prints one line per stack: its name, id and pid. dump prints each stack's
// state: pool, configuration, alternatives, counters of the stack, its port and transports,
// then every zocket with its addresses, state and fields (UDP RX/TX queues; TCP snd_nxt,
// snd_una, cwnd, ssthresh, rcv_nxt, windows, mss, srtt/rttvar, nrtx, dupacks, out-of-order
// counters, timers…). -json prints the same as JSON (internal/ctl's Dump), one object per stack
// in an array. Stacks are chosen by id, pid:id or name; without any, every stack is.
//
// Stacks are found through their control sockets in control_socket_dir (default /run/zocket,
// or ZF_ATTR's; -dir overrides); sockets left by processes that are gone are removed. A stack
// answers between two Perform calls; one whose application has stopped polling answers after
// -timeout with its last snapshot, marked stale with its age.
//
// -metrics ADDR serves the stacks' metrics over HTTP (GET /metrics) until interrupted, reading
// them through the control sockets (at most once a second, however often it is scraped): a
// Prometheus exporter for the stacks of every process on the machine. ":PORT" serves every
// interface, with a warning; give 127.0.0.1:PORT to serve this host only.
//
// What a server sends is not trusted: a response is read up to ctl.MaxResponse (64 MiB) and
// refused beyond, and the text output escapes control characters in every string a stack
// reported (names, interfaces, attributes, zocket titles and states), so that none reaches
// the terminal raw. zfstackdump sees the stacks of its own user (root: all of them); see
// docs/security.md.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/internal/ctl"
	"github.com/zocket/zocket/metrics"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil)) }

const usageText = `usage: zfstackdump [flags] [list|dump] [stack ...]

Commands:
  list   list the stacks: name, id and pid (the default)
  dump   show the state of the stacks

A stack is named by its id, pid:id or name; without any, every stack is listed or dumped.

flags:
`

type config struct {
	dir     string
	json    bool
	timeout time.Duration
	metrics string
	cmd     string
	sel     []string
}

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("zfstackdump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.dir, "dir", defaultDir(), "`DIR` of the control sockets (attribute control_socket_dir)")
	fs.BoolVar(&c.json, "json", false, "print JSON: an array of objects (list: identities; dump: internal/ctl's Dump)")
	fs.DurationVar(&c.timeout, "timeout", time.Second, "wait at most `DURATION` for each stack (a stack not polled answers with its last snapshot)")
	fs.StringVar(&c.metrics, "metrics", "", "serve the stacks' Prometheus metrics on `ADDR` (host:port; :PORT means every interface) at /metrics until interrupted")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	rest := fs.Args()
	c.cmd = "list"
	if len(rest) > 0 {
		switch rest[0] {
		case "list", "dump":
			c.cmd, rest = rest[0], rest[1:]
		default:
			if c.metrics == "" {
				fs.Usage()
				return nil, fmt.Errorf("zfstackdump: unknown command %q (list or dump)", rest[0])
			}
		}
	}
	c.sel = rest
	return c, nil
}

// defaultDir is control_socket_dir from ZF_ATTR, or its default.
func defaultDir() string {
	if a, err := attr.New(); err == nil {
		if d := a.StrOf(attr.ControlSocketDir); d != "" {
			return d
		}
	}
	return attr.NewDefault().StrOf(attr.ControlSocketDir)
}

// run is the command; stop, when not nil, ends -metrics serving (tests), as SIGINT does.
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	c, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	if c.metrics != "" {
		return serveMetrics(c, stderr, stop)
	}
	eps, err := selected(c)
	if err != nil {
		fmt.Fprintln(stderr, "zfstackdump:", err)
		return 1
	}
	switch c.cmd {
	case "list":
		return list(c, eps, stdout, stderr)
	default:
		return dump(c, eps, stdout, stderr)
	}
}

// selected lists the control sockets and keeps those the command line names.
func selected(c *config) ([]ctl.Endpoint, error) {
	eps, err := ctl.List(c.dir, true)
	if err != nil {
		return nil, err
	}
	if len(c.sel) == 0 {
		return eps, nil
	}
	var out []ctl.Endpoint
	for _, s := range c.sel {
		n := 0
		for _, ep := range eps {
			if matches(s, ep) {
				out = append(out, ep)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("no stack %q in %s", s, c.dir)
		}
	}
	return out, nil
}

// matches reports whether s (id, pid:id or name) names ep.
func matches(s string, ep ctl.Endpoint) bool {
	if p, i, ok := strings.Cut(s, ":"); ok {
		return p == strconv.Itoa(ep.PID) && i == strconv.Itoa(ep.ID)
	}
	if _, err := strconv.Atoi(s); err == nil {
		return s == strconv.Itoa(ep.ID)
	}
	return ctl.SafeName(s) == ep.Name
}

func list(c *config, eps []ctl.Endpoint, stdout, stderr io.Writer) int {
	var infos []*ctl.Info
	code := 0
	for _, ep := range eps {
		in, err := info(ep, c.timeout)
		if err != nil {
			fmt.Fprintf(stderr, "zfstackdump: %s: %s\n", esc(ep.Path), esc(err.Error()))
			code = 1
			continue
		}
		infos = append(infos, in)
	}
	if c.json {
		return max(code, writeJSON(stdout, stderr, infos))
	}
	for _, in := range infos {
		fmt.Fprintf(stdout, "%-20s id=%-4d pid=%d\n", esc(in.Name), in.ID, in.PID)
	}
	return code
}

func info(ep ctl.Endpoint, timeout time.Duration) (*ctl.Info, error) {
	cl, err := ctl.Dial(ep.Path, timeout)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return cl.Info()
}

func fetch(ep ctl.Endpoint, timeout time.Duration) (*ctl.Dump, error) {
	cl, err := ctl.Dial(ep.Path, timeout+time.Second)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return cl.Dump(timeout)
}

func dump(c *config, eps []ctl.Endpoint, stdout, stderr io.Writer) int {
	code := 0
	dumps := []*ctl.Dump{}
	for _, ep := range eps {
		d, err := fetch(ep, c.timeout)
		if err != nil {
			fmt.Fprintf(stderr, "zfstackdump: %s: %s\n", esc(ep.Path), esc(err.Error()))
			code = 1
			continue
		}
		dumps = append(dumps, d)
	}
	if c.json {
		return max(code, writeJSON(stdout, stderr, dumps))
	}
	for _, d := range dumps {
		writeText(stdout, d)
	}
	return code
}

func writeJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, "zfstackdump:", err)
		return 1
	}
	return 0
}

// lineWidth is where field lists wrap onto another line with the same heading.
const lineWidth = 100

// fieldLines prints "heading: a=1 b=2 …", wrapped, skipping fields keep refuses.
func fieldLines(w io.Writer, heading string, fs ctl.Fields, keep func(ctl.Field) bool) {
	var b strings.Builder
	for _, f := range fs {
		if keep != nil && !keep(f) {
			continue
		}
		item := esc(f.Name) + "=" + strconv.FormatUint(f.Value, 10)
		if b.Len() > 0 && b.Len()+1+len(item) > lineWidth {
			fmt.Fprintln(w, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(esc(heading) + ":")
		}
		b.WriteString(" " + item)
	}
	if b.Len() > 0 {
		fmt.Fprintln(w, b.String())
	}
}

func nonZero(f ctl.Field) bool { return f.Value != 0 }

// writeText prints a dump in the layout of zf_stackdump's (§5.14).
func writeText(w io.Writer, d *ctl.Dump) {
	in := &d.Info
	fmt.Fprintln(w, "=====")
	fmt.Fprintf(w, "name=%s id=%d pid=%d\n", esc(in.Name), in.ID, in.PID)
	fmt.Fprintf(w, "intf: %s port=%s port_id=%d queue=%d driver=%s\n", esc(in.Interface), esc(in.Port), in.PortID, in.Queue, esc(in.Driver))
	fmt.Fprintf(w, "addr: ip=%s mac=%s mtu=%d\n", esc(in.IP), esc(in.MAC), in.MTU)
	stale := ""
	if !d.Fresh {
		stale = " STALE (the stack did not answer: not polled)"
	}
	fmt.Fprintf(w, "snapshot: seq=%d age=%s build_ns=%d turns=%d%s\n", d.Seq,
		time.Duration(d.AgeSeconds*1e9).Round(time.Microsecond), d.BuildNs, d.Turns, stale)
	fmt.Fprintf(w, "pool: pkt_bufs_n=%d free=%d in_use=%d\n", d.Pool.Size, d.Pool.Free, d.Pool.InUse)
	for i := 0; i < len(d.Config); i += 2 {
		fieldLines(w, "config", d.Config[i:min(i+2, len(d.Config))], nil)
	}
	if d.Attributes != "" {
		fmt.Fprintf(w, "attributes: %s\n", esc(d.Attributes))
	}
	fieldLines(w, "alts", d.Alts, nil)
	fieldLines(w, "stats", d.Stats, func(f ctl.Field) bool {
		return !strings.HasPrefix(f.Name, "drop_") && !strings.HasPrefix(f.Name, "fault_") || f.Value != 0
	})
	fieldLines(w, "port", d.Port, nil)
	fieldLines(w, "drops", d.Drops, nonZero)
	fieldLines(w, "transport", d.Transport, nonZero)
	if cp := d.Capture; cp != nil {
		fmt.Fprintf(w, "capture: file=%s filter=%q packets=%d bytes=%d drops=%d limited=%d write_errors=%d\n",
			esc(cp.File), cp.Filter, cp.Packets, cp.Bytes, cp.Drops, cp.Limited, cp.Errors)
	}
	zs := append([]ctl.Zocket(nil), d.Zockets...)
	sort.SliceStable(zs, func(i, j int) bool { return zs[i].Title < zs[j].Title })
	for _, z := range zs {
		fmt.Fprintln(w, "=====")
		head := fmt.Sprintf("%s %s:%d", esc(z.Title), esc(in.Name), z.ID)
		if z.State != "" {
			head += " " + esc(z.State)
		}
		fmt.Fprintln(w, head)
		fmt.Fprintf(w, "filter: lcl=%s rmt=%s\n", esc(z.Local), esc(z.Remote))
		groups := z.Groups
		if len(groups) == 0 {
			names := make([]string, len(z.Fields))
			for i, f := range z.Fields {
				names[i] = f.Name
			}
			groups = []ctl.Group{{Name: strings.ToLower(z.Title), Fields: names}}
		}
		for _, g := range groups {
			fs := make(ctl.Fields, 0, len(g.Fields))
			for _, n := range g.Fields {
				v, _ := z.Fields.Get(n)
				fs = append(fs, ctl.Field{Name: n, Value: v})
			}
			heading := g.Name
			if heading == "" {
				heading = strings.ToLower(z.Title)
			}
			fieldLines(w, heading, fs, nil)
		}
	}
}

// esc returns s with what a terminal would act on escaped: control characters (C0, DEL, C1),
// other unprintable runes (format characters such as U+202E, which reverses the text after
// it) and invalid UTF-8, written \xNN or \uNNNN as in Go strings. Every string a server sent
// goes through it before the text output, so that a stack (or anything listening in the
// socket directory) cannot move the cursor, clear the screen or retitle the terminal; -json
// output is escaped by the JSON encoder instead.
func esc(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < utf8.RuneSelf && !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// serveMetrics serves every stack's metrics, dumping them through their sockets per scrape.
func serveMetrics(c *config, stderr io.Writer, stop <-chan struct{}) int {
	col := metrics.NewDumpCollector(func() []*ctl.Dump {
		eps, err := selected(c)
		if err != nil {
			fmt.Fprintln(stderr, "zfstackdump:", err)
			return nil
		}
		var ds []*ctl.Dump
		for _, ep := range eps {
			if d, err := fetch(ep, c.timeout); err == nil {
				ds = append(ds, d)
			}
		}
		return ds
	})
	srv, err := metrics.Listen(c.metrics, col)
	if err != nil {
		fmt.Fprintln(stderr, "zfstackdump: -metrics:", err)
		return 1
	}
	fmt.Fprintf(stderr, "zfstackdump: serving http://%s/metrics for the stacks in %s\n", srv.Addr(), c.dir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-stop:
	}
	if err := srv.Close(); err != nil {
		fmt.Fprintln(stderr, "zfstackdump:", err)
		return 1
	}
	return 0
}
