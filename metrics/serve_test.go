package metrics_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/metrics"
)

// countingCollector counts its Collect calls (the snapshots a scrape would take).
type countingCollector struct {
	n    atomic.Int64
	desc *prometheus.Desc
}

func newCounting() *countingCollector {
	return &countingCollector{desc: prometheus.NewDesc("test_collects_total", "Collect calls.", nil, nil)}
}

func (c *countingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c *countingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.n.Add(1)))
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(b)
}

// TestScrapeStormCostsOneCollect: scrapes within CacheFor share one Collect.
func TestScrapeStormCostsOneCollect(t *testing.T) {
	c := newCounting()
	srv, err := metrics.ListenWith("127.0.0.1:0", metrics.Options{CacheFor: time.Hour}, c)
	require.NoError(t, err)
	defer srv.Close()
	for range 20 {
		get(t, "http://"+srv.Addr()+"/metrics")
	}
	assert.Contains(t, get(t, "http://"+srv.Addr()+"/metrics"), "test_collects_total 1\n")
	assert.Equal(t, int64(1), c.n.Load())
}

// TestIdleConnectionClosed: a keep-alive connection left idle is closed after IdleTimeout.
func TestIdleConnectionClosed(t *testing.T) {
	srv, err := metrics.ListenWith("127.0.0.1:0", metrics.Options{IdleTimeout: 100 * time.Millisecond}, newCounting())
	require.NoError(t, err)
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(3*time.Second)))
	start := time.Now()
	_, err = r.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the server closes the idle connection")
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestConnectionCap: beyond MaxConns, connections wait to be served until one closes.
func TestConnectionCap(t *testing.T) {
	srv, err := metrics.ListenWith("127.0.0.1:0", metrics.Options{MaxConns: 2}, newCounting())
	require.NoError(t, err)
	defer srv.Close()
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", srv.Addr())
		require.NoError(t, err)
		defer c.Close()
		idle = append(idle, c)
	}
	done := make(chan error, 1)
	go func() {
		cl := &http.Client{Timeout: 5 * time.Second}
		resp, err := cl.Get("http://" + srv.Addr() + "/metrics")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a third connection was served while two were open (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	idle[0].Close()
	assert.NoError(t, <-done, "served once a connection closed")
}

// TestWarnsOnNonLoopback: binding anything but a loopback address says so on the warning
// writer.
func TestWarnsOnNonLoopback(t *testing.T) {
	tests := []struct {
		addr string
		warn string
	}{
		{"127.0.0.1:0", ""},
		{"[::1]:0", ""},
		{":0", "every interface"},
		{"0.0.0.0:0", "every interface"},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			var w strings.Builder
			srv, err := metrics.ListenWith(tc.addr, metrics.Options{Warn: &w}, newCounting())
			require.NoError(t, err)
			srv.Close()
			if tc.warn == "" {
				assert.Empty(t, w.String())
			} else {
				assert.Contains(t, w.String(), tc.warn)
			}
		})
	}
}

// BenchmarkScrapeHTTP is the cost of one scrape over loopback HTTP (the Go and process collectors
// and one stack of a lab pair polled by a goroutine), with and without the sample cache: in
// the tools this CPU time is taken on the polling core.
//
//	go test ./metrics -run '^$' -bench ScrapeHTTP
func BenchmarkScrapeHTTP(b *testing.B) {
	for _, tc := range []struct {
		name  string
		cache time.Duration
	}{{"uncached", -1}, {"cached", time.Second}} {
		b.Run(tc.name, func(b *testing.B) {
			r := lab.NewRaw(b)
			poll(b, r.S)
			srv, err := metrics.ListenWith("127.0.0.1:0", metrics.Options{CacheFor: tc.cache}, metrics.NewCollector(r.S))
			require.NoError(b, err)
			defer srv.Close()
			url := "http://" + srv.Addr() + "/metrics"
			b.ResetTimer()
			for b.Loop() {
				resp, err := http.Get(url)
				require.NoError(b, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
