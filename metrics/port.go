package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zocket/zocket/dpdk"
)

// PortCollector exposes the counters of bare DPDK ports, for tools that poll ports without a
// stack (zfpmd): the zocket_port_*_total series of Collector, labelled stack=name. Each scrape
// reads rte_eth_stats_get from the scraping goroutine; the PMDs here keep those counters in
// plain per-queue fields that a concurrent reader sees a moment late at worst, as DPDK's own
// telemetry thread reads them.
type PortCollector struct {
	name  string
	ports []dpdk.Port
	d     *descs
}

// NewPortCollector collects ports under the stack label name.
func NewPortCollector(name string, ports ...dpdk.Port) *PortCollector {
	return &PortCollector{name: name, ports: ports, d: newDescs()}
}

// Describe sends the port descriptors.
func (c *PortCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.d.port {
		ch <- d
	}
}

// Collect reads every port's counters.
func (c *PortCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.ports {
		st, err := p.Stats()
		if err != nil {
			continue
		}
		for name, v := range map[string]uint64{
			"rx_packets": st.RxPackets, "tx_packets": st.TxPackets, "rx_bytes": st.RxBytes, "tx_bytes": st.TxBytes,
			"rx_errors": st.RxErrors, "tx_errors": st.TxErrors, "imissed": st.RxMissed, "rx_nombuf": st.RxNoMbuf,
		} {
			ch <- prometheus.MustNewConstMetric(c.d.port[name], prometheus.CounterValue, float64(v), c.name, p.Name(), "0")
		}
	}
}
