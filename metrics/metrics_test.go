package metrics_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/capture/capturetest"
	"github.com/zocket/zocket/internal/ctl"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/metrics"
	"github.com/zocket/zocket/stack"
)

// tcpKind is the shape of a TCP transport's rows.
var tcpKind = &stack.DumpKind{
	Type: "tcp", Title: "TCP",
	States: []string{"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1"},
	Fields: []stack.DumpField{
		{Name: "snd_nxt", Group: "tx"}, {Name: "snd_una", Group: "tx"}, {Name: "cwnd", Group: "tx"},
		{Name: "ssthresh", Group: "tx"}, {Name: "rcv_nxt", Group: "rx"}, {Name: "rcv_wnd", Group: "rx"},
		{Name: "mss", Group: "rx"}, {Name: "srtt_us", Group: "rtt"}, {Name: "rttvar_us", Group: "rtt"},
		{Name: "nrtx", Group: "rtt"}, {Name: "dupacks", Group: "rtt"}, {Name: "ooo_added", Group: "ooo"},
	},
}

type conn struct {
	state uint8
	f     [12]uint64
}

// fakeTCP is a transport with n connections, a quarter of them not established.
type fakeTCP struct{ conns []*conn }

func newFakeTCP(n int) *fakeTCP {
	t := &fakeTCP{}
	for i := range n {
		c := &conn{state: 1}
		if i%4 == 3 {
			c.state = 2
		}
		for j := range c.f {
			c.f[j] = uint64(i + j)
		}
		t.conns = append(t.conns, c)
	}
	return t
}

func (t *fakeTCP) Deliver(p *stack.Packet) bool { p.Mbuf.Free(); return false }

func (t *fakeTCP) Dump(d *stack.DumpBuilder) {
	d.Counter(stack.TCPRetransmits, 5)
	d.Counter(stack.TCPDupACKs, 2)
	d.Drop("tcp_checksum", 1)
	for i := d.Cursor(); i < len(t.conns); i++ {
		if !d.More() {
			d.Continue(i)
			return
		}
		r := d.Row(tcpKind)
		r.ID, r.State = uint32(i), t.conns[i].state
		r.LocalIP, r.LocalPort = lab.StackIP, uint16(20000+i)
		copy(r.F, t.conns[i].f[:])
	}
}

// poll performs s from a goroutine of its own until the test ends.
func poll(t testing.TB, s *stack.Stack) { lab.Loop(t, func() { s.Perform() }) }

func TestCollectAndLint(t *testing.T) {
	p, _ := capturetest.Pair(t) // capture on A
	p.A.SetTransport(253, newFakeTCP(8))
	poll(t, p.A)
	c := metrics.NewCollector(p.A, p.B) // B is not polled: served its last snapshot
	c.SetTimeout(10 * time.Millisecond)
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Equal(t, 6.0, gauge(t, c, "zocket_zockets", map[string]string{"stack": "A", "type": "tcp", "state": "ESTABLISHED"}))
	assert.Equal(t, 2.0, gauge(t, c, "zocket_zockets", map[string]string{"stack": "A", "type": "tcp", "state": "SYN_SENT"}))
	assert.Equal(t, 5.0, gauge(t, c, "zocket_tcp_retransmits_total", map[string]string{"stack": "A"}))
	assert.Equal(t, 1.0, gauge(t, c, "zocket_drops_total", map[string]string{"stack": "A", "reason": "tcp_checksum"}))
	assert.Equal(t, 2047.0, gauge(t, c, "zocket_pool_buffers", map[string]string{"stack": "B"}))
	assert.GreaterOrEqual(t, gauge(t, c, "zocket_snapshot_age_seconds", map[string]string{"stack": "B"}), 0.01)
	assert.Less(t, gauge(t, c, "zocket_snapshot_age_seconds", map[string]string{"stack": "A"}), 0.5)
	assert.Equal(t, 0.0, gauge(t, c, "zocket_capture_drops_total", map[string]string{"stack": "A"}))
	assert.Equal(t, 0.0, gauge(t, c, "zocket_capture_limited_total", map[string]string{"stack": "A"}))
}

func TestDumpCollectorLint(t *testing.T) {
	r := lab.NewRaw(t)
	r.S.SetTransport(253, newFakeTCP(4))
	poll(t, r.S)
	c := metrics.NewDumpCollector(func() []*ctl.Dump { return []*ctl.Dump{r.S.ControlDump(time.Second)} })
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Equal(t, 3.0, gauge(t, c, "zocket_zockets", map[string]string{"type": "tcp", "state": "ESTABLISHED"}))
	assert.Equal(t, 2.0, gauge(t, c, "zocket_tcp_dup_acks_total", nil))
}

// TestScrapeHTTP scrapes a served collector twice over HTTP, with traffic in between.
func TestScrapeHTTP(t *testing.T) {
	pool, err := dpdk.NewPool(lab.Unique("inj"), 255, 0, dpdk.DefaultDataRoom, -1)
	require.NoError(t, err)
	t.Cleanup(func() { assert.Zero(t, pool.InUse()); pool.Free() }) // after the stack's
	r := lab.NewRaw(t)
	poll(t, r.S)
	srv, err := metrics.ListenWith("127.0.0.1:0", metrics.Options{CacheFor: -1}, metrics.NewCollector(r.S), metrics.NewRTTHistogram("test"))
	require.NoError(t, err)
	defer srv.Close()
	url := "http://" + srv.Addr() + "/metrics"
	before := scrape(t, url)
	const frames = 5
	for range frames { // sent from the peer port; the polling goroutine receives them
		m := pool.Alloc()
		f := arpRequest()
		copy(m.Append(len(f)), f)
		require.Equal(t, 1, r.Peer.TxBurst(0, []*dpdk.Mbuf{m}))
	}
	time.Sleep(10 * time.Millisecond)
	after := scrape(t, url)
	for _, name := range []string{"zocket_stack_rx_packets_total", "zocket_port_tx_packets_total", "zocket_stack_rx_arp_total"} {
		assert.Equal(t, float64(frames), value(after[name], nil)-value(before[name], nil), name)
	}
	assert.Contains(t, after, "zocket_rtt_seconds")
	assert.Contains(t, after, "go_goroutines")
	assert.Equal(t, 1.0, value(after["zocket_stack_info"], map[string]string{"driver": "net_ring"}))
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "exposition parses")
	return fams
}

// value returns the value of the family's series whose labels include want.
func value(f *dto.MetricFamily, want map[string]string) float64 {
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	return -1
}

func gauge(t *testing.T, c prometheus.Collector, name string, want map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	fams, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() == name {
			return value(f, want)
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// arpRequest is an ARP request from the raw peer for the stack's address.
func arpRequest() []byte {
	b := make([]byte, 42)
	copy(b[0:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(b[6:], lab.PeerMAC[:])
	b[12], b[13] = 0x08, 0x06
	copy(b[14:], []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(b[22:], lab.PeerMAC[:])
	copy(b[28:], lab.PeerIP[:])
	copy(b[38:], lab.StackIP[:])
	return b
}

// BenchmarkScrape1000 is one scrape of a stack with 1,000 TCP zockets: the snapshot, the
// metrics and the text exposition.
func BenchmarkScrape1000(b *testing.B) {
	r := lab.NewRaw(b, "max_tcp_endpoints", "1000")
	r.S.SetClock(nil)
	r.S.SetTransport(253, newFakeTCP(1000))
	poll(b, r.S)
	reg := prometheus.NewRegistry()
	require.NoError(b, reg.Register(metrics.NewCollector(r.S)))
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		fams, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/scrape")
	b.ReportMetric(float64(buf.Len()), "bytes")
	r.S.Snapshot(time.Second, func(sn *stack.Snapshot) {
		b.ReportMetric(float64(sn.BuildTime.Nanoseconds())/1e3, "µs-copy")
		b.ReportMetric(float64(sn.Turns), "performs")
	})
}

// TestPrometheusConfig: configs/prometheus.yml is valid YAML with scrape targets.
func TestPrometheusConfig(t *testing.T) {
	b, err := os.ReadFile("../configs/prometheus.yml")
	require.NoError(t, err)
	var cfg struct {
		Global        map[string]string `yaml:"global"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &cfg))
	assert.Equal(t, "1s", cfg.Global["scrape_interval"])
	require.NotEmpty(t, cfg.ScrapeConfigs)
	for _, sc := range cfg.ScrapeConfigs {
		assert.NotEmpty(t, sc.JobName)
		require.NotEmpty(t, sc.StaticConfigs)
		assert.NotEmpty(t, sc.StaticConfigs[0].Targets)
	}
}

// TestScrapeWhileClosing: scrapes before, during and after the stack's Close read what the
// snapshot carries, never the stack's capture state Close clears (run with -race).
func TestScrapeWhileClosing(t *testing.T) {
	p, _ := capturetest.Pair(t)
	c := metrics.NewCollector(p.A)
	c.SetTimeout(time.Millisecond) // A is not polled: each scrape serves the last snapshot
	var scrapes atomic.Int64
	stop := lab.Loop(t, func() {
		testutil.CollectAndCount(c)
		scrapes.Add(1)
	})
	for scrapes.Load() < 3 {
		runtime.Gosched()
	}
	require.NoError(t, p.A.Close())
	for n := scrapes.Load(); scrapes.Load() < n+3; {
		runtime.Gosched()
	}
	stop()
}
