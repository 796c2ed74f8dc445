package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/net/netutil"
)

// Serving /metrics to the network.
//
// The endpoint is for the operators' Prometheus, which may scrape from another host, so it
// is plain HTTP on the address given: "127.0.0.1:9464" serves this host only, while ":9464"
// means every interface (Listen warns about it on stderr). Whoever reaches it reads the
// stacks' counters, names, interfaces and addresses, but no connection's sequence numbers
// (those are in the control socket's dumps). What a client can cost the process is bounded:
// every phase of a connection has a timeout (Options), at most MaxConns connections are
// served at once (more wait in the kernel's backlog), at most 4 scrapes run at once, and the
// samples are cached for CacheFor (1 s), so that a scrape storm costs each stack one snapshot
// a second however many clients ask.
//
// In the tools, which pin every thread of the process to the polling core (zfapp.Place), the
// HTTP server's goroutines share that core with the polling thread: the cache bounds what a
// remote client can make it do to one snapshot a second and the encoding of one cached
// exposition per scrape; scripts/scrape-impact measures the latency cost.

// Options are a server's limits. Zero fields take the default (DefaultOptions).
type Options struct {
	ReadHeaderTimeout time.Duration // to read a request's headers (5 s)
	ReadTimeout       time.Duration // to read a whole request (10 s)
	WriteTimeout      time.Duration // to write a response, from the end of the request (15 s)
	IdleTimeout       time.Duration // a keep-alive connection's wait for its next request (30 s)
	MaxConns          int           // connections served at once (16)
	// CacheFor is how long gathered samples are served again before the collectors are asked
	// anew (1 s); negative: never cached (every scrape snapshots every stack).
	CacheFor time.Duration
	// Warn receives the warning about a non-loopback address (os.Stderr).
	Warn io.Writer
}

// DefaultOptions are the limits of Listen and Serve.
var DefaultOptions = Options{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       10 * time.Second,
	WriteTimeout:      15 * time.Second,
	IdleTimeout:       30 * time.Second,
	MaxConns:          16,
	CacheFor:          time.Second,
}

// withDefaults fills o's zero fields from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions
	pick := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	pick(&o.ReadHeaderTimeout, d.ReadHeaderTimeout)
	pick(&o.ReadTimeout, d.ReadTimeout)
	pick(&o.WriteTimeout, d.WriteTimeout)
	pick(&o.IdleTimeout, d.IdleTimeout)
	pick(&o.CacheFor, d.CacheFor)
	if o.MaxConns <= 0 {
		o.MaxConns = d.MaxConns
	}
	if o.Warn == nil {
		o.Warn = os.Stderr
	}
	return o
}

// Server serves /metrics over HTTP for a set of collectors, with the Go runtime's and the
// process's metrics beside them.
type Server struct {
	ln  net.Listener
	srv *http.Server
	reg *prometheus.Registry
	err chan error
}

// Listen is ListenWith with DefaultOptions.
func Listen(addr string, cs ...prometheus.Collector) (*Server, error) {
	return ListenWith(addr, Options{}, cs...)
}

// ListenWith starts serving GET /metrics on addr ("host:port"; ":0" picks a port, see Addr;
// an empty host means every interface) from goroutines of its own, within o's limits. An
// address that is not a loopback one is served, with a warning on o.Warn. Collectors that
// fail to register (a duplicate metric) are an error, as is an address that cannot be bound.
func ListenWith(addr string, o Options, cs ...prometheus.Collector) (*Server, error) {
	o = o.withDefaults()
	reg := prometheus.NewRegistry()
	all := append([]prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}, cs...)
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	warnExposed(o.Warn, addr, ln.Addr())
	var g prometheus.Gatherer = reg
	if o.CacheFor > 0 {
		g = &cachedGatherer{g: reg, ttl: o.CacheFor}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	s := &Server{ln: netutil.LimitListener(ln, o.MaxConns), reg: reg, err: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: o.ReadHeaderTimeout, ReadTimeout: o.ReadTimeout,
			WriteTimeout: o.WriteTimeout, IdleTimeout: o.IdleTimeout, MaxHeaderBytes: 16 << 10}}
	go func() { s.err <- s.srv.Serve(s.ln) }()
	return s, nil
}

// warnExposed writes a warning when the server listens on something else than loopback.
func warnExposed(w io.Writer, addr string, bound net.Addr) {
	ta, ok := bound.(*net.TCPAddr)
	switch {
	case !ok || ta.IP.IsLoopback():
		return
	case ta.IP.IsUnspecified():
		fmt.Fprintf(w, "metrics: warning: -metrics %s serves every interface (%s): any host that reaches this one reads the stacks' metrics; give 127.0.0.1:PORT to serve this host only\n", addr, bound)
	default:
		fmt.Fprintf(w, "metrics: warning: -metrics %s serves a non-loopback address (%s): any host that reaches it reads the stacks' metrics\n", addr, bound)
	}
}

// cachedGatherer gathers at most once per ttl; scrapes in between get the same families
// (promhttp only reads them). Scrapes that arrive during a gather wait for it.
type cachedGatherer struct {
	g    prometheus.Gatherer
	ttl  time.Duration
	mu   sync.Mutex
	at   time.Time
	fams []*dto.MetricFamily
	err  error
}

// Gather returns the cached families, gathering them anew when older than ttl.
func (c *cachedGatherer) Gather() ([]*dto.MetricFamily, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fams == nil && c.err == nil || time.Since(c.at) >= c.ttl {
		c.fams, c.err = c.g.Gather()
		c.at = time.Now()
	}
	return c.fams, c.err
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Registry is the server's registry (for collectors added later).
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Close stops the server, letting a scrape in progress finish for up to a second.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if e := <-s.err; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// Serve is Listen for commands with a -metrics ADDR flag: an empty addr serves nothing (stop
// is then a no-op); ":PORT" serves every interface, with a warning on stderr. Call stop before
// closing the stacks the collectors read.
func Serve(addr string, cs ...prometheus.Collector) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	s, err := Listen(addr, cs...)
	if err != nil {
		return nil, err
	}
	return func() { s.Close() }, nil
}
