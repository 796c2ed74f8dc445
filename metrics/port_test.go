package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/metrics"
)

func TestPortCollector(t *testing.T) {
	rp, err := dpdk.NewRingPair(lab.Unique("pc"), 64)
	require.NoError(t, err)
	defer rp.Close()
	pool, err := dpdk.NewPool(lab.Unique("pcpool"), 255, 0, dpdk.DefaultDataRoom, -1)
	require.NoError(t, err)
	defer pool.Free()
	for _, p := range []dpdk.Port{rp.A, rp.B} {
		require.NoError(t, p.Configure(&dpdk.Config{RxQueues: 1, TxQueues: 1, RxDesc: 64, TxDesc: 64, Pool: pool}))
		require.NoError(t, p.Start())
	}
	ms := dpdk.NewMbufArray(3)
	defer dpdk.FreeMbufArray(ms)
	require.NoError(t, pool.AllocBulk(ms))
	for _, m := range ms {
		m.Append(60)
	}
	require.Equal(t, 3, rp.A.TxBurst(0, ms))
	dpdk.FreeBulk(ms[:rp.B.RxBurst(0, ms)])

	c := metrics.NewPortCollector("zfpmd", rp.A, rp.B)
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Equal(t, 16, testutil.CollectAndCount(c))
	assert.Equal(t, float64(3), testutil.ToFloat64(filter{c, "zocket_port_tx_packets_total", rp.A.Name()}))
}

// filter keeps one series of a collector, for testutil.ToFloat64.
type filter struct {
	c    *metrics.PortCollector
	name string
	port string
}

func (f filter) Describe(ch chan<- *prometheus.Desc) { f.c.Describe(ch) }

func (f filter) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 64)
	f.c.Collect(all)
	close(all)
	for m := range all {
		var pb dto.Metric
		_ = m.Write(&pb)
		if strings.Contains(m.Desc().String(), `"`+f.name+`"`) && hasLabel(&pb, "port", f.port) {
			ch <- m
		}
	}
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}
