package capture

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriterPcapng writes records through a Writer and reads the file back with gopacket's
// reader: packets, lengths, directions, timestamps from the TSC, and the statistics block.
func TestWriterPcapng(t *testing.T) {
	file := filepath.Join(t.TempDir(), "w.pcapng")
	r := NewRing(0)
	const hz = 1_000_000_000 // 1 tick = 1 ns
	clk := NewClock(1000, hz)
	w, err := Create(file, r, Options{Interface: "A", Description: "test", Filter: "arp", Clock: clk})
	require.NoError(t, err)
	for i := range 3 {
		fl := uint32(Inbound)
		if i == 1 {
			fl = Outbound
		}
		b := r.Reserve(60, 64, uint64(1000+i*1000), fl, 0)
		b[0] = byte(i)
	}
	r.Publish()
	require.NoError(t, w.Sync())
	require.NoError(t, w.Close(2, 1))
	assert.Equal(t, uint64(3), w.Written())

	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	rd, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	require.NoError(t, err)
	intf, err := rd.Interface(0)
	require.NoError(t, err)
	assert.Equal(t, "A", intf.Name)
	assert.Equal(t, "arp", intf.Filter)
	var times []time.Time
	for i := range 3 {
		data, ci, err := rd.ReadPacketData()
		require.NoError(t, err)
		assert.Equal(t, byte(i), data[0])
		assert.Equal(t, 60, ci.CaptureLength)
		assert.Equal(t, 64, ci.Length)
		times = append(times, ci.Timestamp)
	}
	assert.Equal(t, time.Microsecond, times[1].Sub(times[0]))
	assert.Equal(t, time.Microsecond, times[2].Sub(times[1]))
	assert.WithinDuration(t, time.Now(), times[0], time.Minute)
}

func TestClock(t *testing.T) {
	c := NewClock(100, 2_000_000_000) // 2 GHz
	assert.Equal(t, 500*time.Nanosecond, c.Time(1100).Sub(c.Time(100)))
	assert.Equal(t, c.Time(100), c.Time(50), "readings before the reference map to it")
	z := NewClock(0, 0)
	assert.WithinDuration(t, time.Now(), z.Time(12345), time.Second)
}
