package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves /metrics over HTTP for a set of collectors, with the Go runtime's and the
// process's metrics beside them.
type Server struct {
	ln  net.Listener
	srv *http.Server
	reg *prometheus.Registry
	err chan error
}

// Listen starts serving GET /metrics on addr ("host:port"; ":0" picks a port, see Addr) from a
// goroutine of its own. Collectors that fail to register (a duplicate metric) are an error.
func Listen(addr string, cs ...prometheus.Collector) (*Server, error) {
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
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	s := &Server{ln: ln, reg: reg, err: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() { s.err <- s.srv.Serve(ln) }()
	return s, nil
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
// is then a no-op). Call stop before closing the stacks the collectors read.
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
