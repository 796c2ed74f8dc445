package stack_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/metrics"
	"github.com/zocket/zocket/stack"
)

// TestSecretsRedacted: a device argument such as memif's secret= never reaches the control
// info, a Prometheus label, the dump (zfstackdump), the log or an error message.
func TestSecretsRedacted(t *testing.T) {
	const secret = "hunter2"
	rp, err := dpdk.NewRingPair(lab.Unique("redact"), 64)
	require.NoError(t, err)
	defer rp.Close()
	logFile := filepath.Join(t.TempDir(), "log")
	a := lab.Attr(t, "local_ip", "198.18.0.1/24", "interface", rp.A.Name()+",secret="+secret,
		"log_file", logFile, "log_level", "0x4", "eal_args", "--vdev=net_memif9,secret="+secret)
	s, err := stack.New(a)
	require.NoError(t, err)
	assert.Equal(t, rp.A.Name()+",secret=REDACTED", s.ControlInfo().Interface)
	c := metrics.NewCollector(s)
	c.SetTimeout(time.Millisecond) // not polled: the last snapshot
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	labels := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotContains(t, l.GetValue(), secret, "label %s of %s", l.GetName(), mf.GetName())
				labels++
			}
		}
	}
	assert.NotZero(t, labels)
	d := pollDump(t, s)
	assert.NotContains(t, d.Info.Interface, secret)
	assert.NotContains(t, d.Attributes, secret)
	assert.Contains(t, d.Attributes, "secret=REDACTED")
	require.NoError(t, s.Close())
	log, err := os.ReadFile(logFile)
	require.NoError(t, err)
	assert.Contains(t, string(log), "stack opened")
	assert.NotContains(t, string(log), secret)

	a = lab.Attr(t, "local_ip", "198.18.0.1/24", "interface", "net_nosuchdriver0,secret="+secret)
	_, err = stack.New(a)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	err = a.Set("mtu", "x,secret="+secret)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
}
