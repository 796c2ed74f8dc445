package attr

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The attributes of chapter 7 of the TCPDirect user guide.
var chapter7 = []string{
	"alt_buf_size", "alt_count", "arp_reply_timeout", "interface", "log_format",
	"log_level", "max_tcp_endpoints", "max_tcp_listen_endpoints", "max_tcp_syn_backlog",
	"max_udp_rx_endpoints", "max_udp_tx_endpoints", "n_bufs", "name",
	"reactor_spin_count", "rx_ring_max", "rx_ring_refill_batch_size",
	"rx_ring_refill_interval", "tcp_alt_ack_rewind", "tcp_delayed_ack", "tcp_finwait_ms",
	"tcp_initial_cwnd", "tcp_retries", "tcp_syn_retries", "tcp_synack_retries",
	"tcp_timewait_ms", "tcp_wait_for_time_wait", "tx_ring_max",
}

func TestChapter7(t *testing.T) {
	require.Len(t, chapter7, 27)
	for i, name := range chapter7 {
		id, err := Lookup(name)
		require.NoError(t, err, name)
		assert.Equal(t, ID(i), id, "chapter 7 attributes come first, in the guide's order")
		assert.Equal(t, name, id.String())
	}
}

func TestDefaults(t *testing.T) {
	a := NewDefault()
	for name, want := range map[string]string{
		// chapter 7: the guide's defaults
		"alt_buf_size":              "40960",
		"alt_count":                 "0",
		"arp_reply_timeout":         "1000",
		"interface":                 "",
		"log_format":                "0x5",
		"log_level":                 "0x1111111111111",
		"max_tcp_endpoints":         "64",
		"max_tcp_listen_endpoints":  "16",
		"max_tcp_syn_backlog":       "32",
		"max_udp_rx_endpoints":      "64",
		"max_udp_tx_endpoints":      "64",
		"n_bufs":                    "0",
		"name":                      "",
		"reactor_spin_count":        "128",
		"rx_ring_max":               "512",
		"rx_ring_refill_batch_size": "16",
		"rx_ring_refill_interval":   "1",
		"tcp_alt_ack_rewind":        "65536",
		"tcp_delayed_ack":           "1",
		"tcp_finwait_ms":            "60000",
		"tcp_initial_cwnd":          "0",
		"tcp_retries":               "14",
		"tcp_syn_retries":           "5",
		"tcp_synack_retries":        "4",
		"tcp_timewait_ms":           "60000",
		"tcp_wait_for_time_wait":    "0",
		"tx_ring_max":               "512",
		// additions
		"eal_args":           "--in-memory --no-pci --no-telemetry",
		"local_ip":           "",
		"gateway":            "",
		"mac":                "",
		"mtu":                "1500",
		"cpu":                "-1",
		"rx_burst":           "32",
		"capture":            "",
		"capture_max_bytes":  "1073741824",
		"tcp_congestion":     "cubic",
		"arp_static":         "",
		"udp_rx_queue_len":   "64",
		"tcp_rto_min_ms":     "200",
		"tcp_rto_max_ms":     "120000",
		"tcp_keepalive":      "0",
		"control_socket_dir": "/run/zocket",
		"udp_ttl":            "64",
		"multicast_ttl":      "1",
	} {
		got, err := a.Get(name)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
	assert.Equal(t, "", a.String(), "a default Attr prints nothing")
	assert.NoError(t, a.Validate())
}

// TestTable checks every entry of the table against its own declaration.
func TestTable(t *testing.T) {
	require.Len(t, Names(), int(numIDs))
	assert.IsNonDecreasing(t, Names())
	for id := range numIDs {
		d := &defs[id]
		assert.NotEmpty(t, d.summary, d.name)
		assert.NotEmpty(t, d.components, d.name)
		assert.Equal(t, strings.ToLower(d.name), d.name)
		if d.kind == kindString {
			a := NewDefault()
			assert.NoError(t, a.SetString(d.name, d.defStr), "default of %s must be valid", d.name)
			continue
		}
		assert.LessOrEqual(t, d.min, d.max, d.name)
		inRange := d.min <= d.defInt && d.defInt <= d.max
		assert.True(t, inRange || (d.zeroOK && d.defInt == 0), "default of %s out of range", d.name)
	}
}

// TestRange sets every integer attribute to its bounds and just beyond.
func TestRange(t *testing.T) {
	for id := range numIDs {
		d := &defs[id]
		if d.kind == kindString {
			continue
		}
		a := NewDefault()
		for _, v := range []int64{d.min, d.max} {
			if d.checkInt != nil && d.checkInt(v) != "" {
				continue
			}
			require.NoError(t, a.SetInt(d.name, v))
			got, err := a.Int(d.name)
			require.NoError(t, err)
			assert.Equal(t, v, got)
			assert.Equal(t, v, a.IntOf(id))
			// and through the text form
			require.NoError(t, a.Reset(d.name))
			text := d.format(v, "")
			require.NoError(t, a.Set(d.name, text), text)
			assert.Equal(t, v, a.IntOf(id))
		}
		for _, v := range []int64{d.min - 1, d.max + 1} {
			if v == 0 && d.zeroOK {
				continue
			}
			err := a.SetInt(d.name, v)
			assert.ErrorIs(t, err, syscall.EOVERFLOW, "%s=%d", d.name, v)
			assert.ErrorContains(t, err, d.rangeValues())
			assert.ErrorIs(t, a.Set(d.name, strconv.FormatInt(v, 10)), syscall.EOVERFLOW)
		}
	}
}

func TestSetErrors(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		errno       syscall.Errno
		msg         string
	}{
		{"nbufs", "2048", syscall.ENOENT, "attr nbufs=2048: unknown attribute: no such file or directory"},
		{"", "1", syscall.ENOENT, "unknown attribute"},
		{"N_BUFS", "2048", syscall.ENOENT, "unknown attribute"},
		{"n_bufs", "3", syscall.EOVERFLOW,
			"attr n_bufs=3: out of range [64, 16777216] or 0: value too large for defined data type"},
		{"n_bufs", "16777217", syscall.EOVERFLOW, "out of range"},
		{"n_bufs", "-1", syscall.EOVERFLOW, "out of range"},
		{"n_bufs", "99999999999999999999", syscall.EOVERFLOW, "out of range"},
		{"n_bufs", "-0x8000000000000001", syscall.EOVERFLOW, "out of range"},
		{"n_bufs", "abc", syscall.EINVAL, "attr n_bufs=abc: not an integer: invalid argument"},
		{"n_bufs", "", syscall.EINVAL, `attr n_bufs="": not an integer`},
		{"n_bufs", "2048x", syscall.EINVAL, "not an integer"},
		{"n_bufs", "2_048", syscall.EINVAL, "not an integer"},
		{"n_bufs", "0x", syscall.EINVAL, "not an integer"},
		{"n_bufs", "--64", syscall.EINVAL, "not an integer"},
		{"n_bufs", "0b1000000", syscall.EINVAL, "not an integer"},
		{"n_bufs", "1e6", syscall.EINVAL, "not an integer"},
		{"mtu", "67", syscall.EOVERFLOW, "out of range [68, 9000]"},
		{"mtu", "9001", syscall.EOVERFLOW, "out of range [68, 9000]"},
		{"cpu", "-2", syscall.EOVERFLOW, "out of range [-1, 4095]"},
		{"log_format", "0x10", syscall.EOVERFLOW, "out of range [0x0, 0xf]"},
		{"reactor_spin_count", "0", syscall.EOVERFLOW, "out of range [1, 2147483647]"},
		{"rx_ring_refill_batch_size", "12", syscall.EINVAL, "not a multiple of 8"},
		{"tcp_delayed_ack", "2", syscall.EOVERFLOW, "out of range [0, 1]"},
		{"tcp_delayed_ack", "on", syscall.EINVAL, "not an integer"},
		{"udp_ttl", "0", syscall.EOVERFLOW, "out of range [1, 255]"},
		{"local_ip", "198.18.0.1", syscall.EINVAL, "want an IPv4 address and prefix length"},
		{"local_ip", "2001:db8::1/64", syscall.EINVAL, "want an IPv4"},
		{"local_ip", "224.0.0.1/4", syscall.EINVAL, "not a unicast address"},
		{"gateway", "198.18.0.254/24", syscall.EINVAL, "want an IPv4 address"},
		{"gateway", "0.0.0.0", syscall.EINVAL, "not a unicast address"},
		{"mac", "02:00:00:00:00", syscall.EINVAL, "want a 48-bit MAC"},
		{"mac", "01:00:5e:00:00:01", syscall.EINVAL, "not a unicast MAC"},
		{"mac", "00:00:00:00:00:00", syscall.EINVAL, "all-zero"},
		{"arp_static", "198.18.0.2", syscall.EINVAL, "entry 198.18.0.2: want ip=mac"},
		{"arp_static", "198.18.0.2=zz", syscall.EINVAL, "want a 48-bit MAC"},
		{"ctpio_mode", "fast", syscall.EINVAL, "want sf, ct or sf-np"},
		{"tcp_congestion", "reno", syscall.EINVAL, "want cubic or newreno"},
		{"tcp_congestion", "", syscall.EINVAL, "want cubic or newreno"},
		{"tcp_congestion", "CUBIC", syscall.EINVAL, "want cubic or newreno"},
		{"name", strings.Repeat("x", 21), syscall.EOVERFLOW, "longer than 20 bytes"},
		{"interface", "a;b", syscall.EINVAL, "contains ';'"},
		{"eal_args", "--no-pci\n--in-memory", syscall.EINVAL, "a newline"},
	} {
		a := NewDefault()
		err := a.Set(tc.name, tc.value)
		require.Error(t, err, "%s=%s", tc.name, tc.value)
		assert.ErrorIs(t, err, tc.errno, "%s=%s: %v", tc.name, tc.value, err)
		assert.ErrorContains(t, err, tc.msg)
		var ae *Error
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, tc.name, ae.Name)
		assert.Equal(t, tc.value, ae.Value)
		assert.Equal(t, tc.errno, ae.Errno)
		assert.Equal(t, *NewDefault(), *a, "a failed Set changes nothing")
	}
}

func TestSetValues(t *testing.T) {
	a := NewDefault()
	for _, tc := range []struct{ name, value, get string }{
		{"n_bufs", "0", "0"},
		{"n_bufs", " 2048 ", "2048"},
		{"n_bufs", "0x800", "2048"},
		{"n_bufs", "+64", "64"},
		{"n_bufs", "010", "0"}, // refused below: decimal 10, not octal 8
		{"log_level", "0xfff0", "0xfff0"},
		{"log_level", "65520", "0xfff0"},
		{"cpu", "-1", "-1"},
		{"interface", "net_memif0,role=client,socket=/run/zf.sock", "net_memif0,role=client,socket=/run/zf.sock"},
		{"interface", "0000:03:00.0", "0000:03:00.0"},
		{"interface", "", ""},
		{"local_ip", "198.18.0.1/24", "198.18.0.1/24"},
		{"mac", "02:00:00:00:00:01", "02:00:00:00:00:01"},
		{"arp_static", "198.18.0.2=02:00:00:00:00:02, 198.18.0.3=02:00:00:00:00:03", "198.18.0.2=02:00:00:00:00:02, 198.18.0.3=02:00:00:00:00:03"},
		{"name", strings.Repeat("x", 20), strings.Repeat("x", 20)},
		{"ctpio_mode", "ct", "ct"},
		{"tcp_congestion", "newreno", "newreno"},
		{"tcp_congestion", "cubic", "cubic"},
	} {
		err := a.Set(tc.name, tc.value)
		if tc.value == "010" {
			assert.ErrorIs(t, err, syscall.EOVERFLOW, "010 is ten")
			continue
		}
		require.NoError(t, err, "%s=%s", tc.name, tc.value)
		got, err := a.Get(tc.name)
		require.NoError(t, err)
		assert.Equal(t, tc.get, got, tc.name)
	}
}

func TestKinds(t *testing.T) {
	a := NewDefault()

	require.NoError(t, a.SetInt("n_bufs", 4096))
	n, err := a.Int("n_bufs")
	require.NoError(t, err)
	assert.Equal(t, int64(4096), n)
	assert.Equal(t, int64(4096), a.IntOf(NBufs))

	require.NoError(t, a.SetString("interface", "net_ring0"))
	s, err := a.Str("interface")
	require.NoError(t, err)
	assert.Equal(t, "net_ring0", s)
	assert.Equal(t, "net_ring0", a.StrOf(Interface))

	// the wrong kind
	assert.ErrorIs(t, a.SetInt("interface", 1), syscall.EINVAL)
	assert.ErrorIs(t, a.SetString("n_bufs", "64"), syscall.ENOMSG)
	_, err = a.Int("interface")
	assert.ErrorIs(t, err, syscall.EINVAL)
	assert.EqualError(t, err, "attr interface: not an integer attribute: invalid argument")
	_, err = a.Str("n_bufs")
	assert.ErrorIs(t, err, syscall.EINVAL)
	assert.Panics(t, func() { a.IntOf(Interface) })
	assert.Panics(t, func() { a.StrOf(NBufs) })

	// unknown names
	for _, err := range []error{
		a.SetInt("nope", 1), a.SetString("nope", "x"), a.Set("nope", "x"), a.Reset("nope"),
		func() error { _, err := a.Int("nope"); return err }(),
		func() error { _, err := a.Str("nope"); return err }(),
		func() error { _, err := a.Get("nope"); return err }(),
		func() error { _, err := Doc("nope"); return err }(),
		func() error { _, err := Lookup("nope"); return err }(),
	} {
		assert.ErrorIs(t, err, syscall.ENOENT)
		assert.ErrorIs(t, err, fs.ErrNotExist, "syscall.ENOENT is fs.ErrNotExist")
		assert.ErrorContains(t, err, "attr nope")
	}
	assert.Equal(t, "ID(-1)", ID(-1).String())
	assert.Equal(t, "ID(999)", ID(999).String())
}

func TestEnv(t *testing.T) {
	t.Setenv("ZF_ATTR", " n_bufs = 2048 ;; interface=net_memif0,role=client,socket=/x.sock;log_level=0x3; ")
	a, err := New()
	require.NoError(t, err)
	assert.Equal(t, int64(2048), a.IntOf(NBufs))
	assert.Equal(t, "net_memif0,role=client,socket=/x.sock", a.StrOf(Interface))
	assert.Equal(t, int64(3), a.IntOf(LogLevel))
	assert.Equal(t, "interface=net_memif0,role=client,socket=/x.sock;log_level=0x3;n_bufs=2048", a.String())

	t.Setenv("ZF_ATTR", "")
	a, err = New()
	require.NoError(t, err)
	assert.Equal(t, *NewDefault(), *a)

	for _, tc := range []struct {
		env   string
		errno syscall.Errno
		msg   string
	}{
		{"n_bufs=2048;bogus=1", syscall.ENOENT, "ZF_ATTR: attr bogus=1: unknown attribute"},
		{"n_bufs=3", syscall.EOVERFLOW, "ZF_ATTR: attr n_bufs=3: out of range [64, 16777216] or 0"},
		{"mtu=big", syscall.EINVAL, "ZF_ATTR: attr mtu=big: not an integer"},
		{"interface", syscall.EINVAL, "ZF_ATTR: attr interface: missing '='"},
	} {
		t.Setenv("ZF_ATTR", tc.env)
		a, err := New()
		assert.Nil(t, a, tc.env)
		assert.ErrorIs(t, err, tc.errno, tc.env)
		assert.ErrorContains(t, err, tc.msg)
		var ae *Error
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "ZF_ATTR", ae.Where)
	}

	// NewDefault ignores ZF_ATTR.
	assert.Equal(t, int64(0), NewDefault().IntOf(NBufs))
}

func TestParseString(t *testing.T) {
	a := NewDefault()
	require.NoError(t, a.ParseString(
		"interface=net_memif0,role=server,socket=/run/zocket/pp.sock;"+
			"eal_args=--in-memory --no-pci --log-level=lib.eal:debug ; "+
			"arp_static=198.18.0.2=02:00:00:00:00:02,198.18.0.3=02:00:00:00:00:03;"+
			"local_ip = 198.18.0.1/24;;;mtu=9000;mtu=1400"))
	assert.Equal(t, "net_memif0,role=server,socket=/run/zocket/pp.sock", a.StrOf(Interface))
	assert.Equal(t, []string{"--in-memory", "--no-pci", "--log-level=lib.eal:debug"}, a.EALArgv())
	assert.Equal(t, []Neighbour{
		{IP: netip.MustParseAddr("198.18.0.2"), MAC: [6]byte{2, 0, 0, 0, 0, 2}},
		{IP: netip.MustParseAddr("198.18.0.3"), MAC: [6]byte{2, 0, 0, 0, 0, 3}},
	}, a.Neighbours())
	assert.Equal(t, int64(1400), a.IntOf(MTU), "the last pair wins")

	// Atomic: a bad pair leaves everything as it was.
	before := *a
	err := a.ParseString("mtu=9000;n_bufs=3")
	assert.ErrorIs(t, err, syscall.EOVERFLOW)
	assert.Equal(t, before, *a)
	err = a.ParseString("mtu=9000;=5")
	assert.ErrorIs(t, err, syscall.ENOENT)
	assert.ErrorContains(t, err, "attr =5: unknown attribute")
	assert.Equal(t, before, *a)

	// String round-trips.
	b := NewDefault()
	require.NoError(t, b.ParseString(a.String()))
	assert.Equal(t, *a, *b)
	assert.NoError(t, NewDefault().ParseString(""))
	assert.NoError(t, NewDefault().ParseString(" ; ;"))
}

func TestCloneReset(t *testing.T) {
	a := NewDefault()
	require.NoError(t, a.ParseString("n_bufs=2048;interface=net_ring0"))
	b := a.Clone()
	require.NoError(t, b.ParseString("n_bufs=4096;interface=net_ring1"))
	assert.Equal(t, int64(2048), a.IntOf(NBufs))
	assert.Equal(t, "net_ring0", a.StrOf(Interface))
	assert.Equal(t, int64(4096), b.IntOf(NBufs))

	require.NoError(t, b.Reset("n_bufs"))
	assert.True(t, b.IsDefault(NBufs))
	assert.False(t, b.IsDefault(Interface))
	assert.Equal(t, "interface=net_ring1", b.String())
	b.ResetAll()
	assert.Equal(t, *NewDefault(), *b)
	assert.Equal(t, "net_ring0", a.StrOf(Interface))
}

func TestDoc(t *testing.T) {
	for id := range numIDs {
		d := &defs[id]
		doc, err := Doc(d.name)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(doc, "name: "+d.name+"\n"), doc)
		def := d.format(d.defInt, d.defStr)
		if def == "" {
			def = `""`
		}
		assert.Contains(t, doc, "default: "+def)
		assert.Contains(t, doc, "type: "+d.kind.String())
		assert.Contains(t, doc, "components: "+d.components)
		assert.Contains(t, doc, d.summary)
		if d.kind != kindString {
			assert.Contains(t, doc, "range: "+d.rangeValues())
		}
	}
	doc, err := Doc("n_bufs")
	require.NoError(t, err)
	assert.Equal(t, "name: n_bufs\ntype: int\ndefault: 0\nrange: [64, 16777216] or 0\n"+
		"components: zf_pool\ndoc: Number of packet buffers to allocate for the stack. "+
		defs[NBufs].detail+"\nzocket: "+defs[NBufs].dpdk+"\n", doc)
}

func TestTyped(t *testing.T) {
	a := NewDefault()
	_, ok := a.LocalPrefix()
	assert.False(t, ok)
	_, ok = a.GatewayAddr()
	assert.False(t, ok)
	_, ok = a.MACAddr()
	assert.False(t, ok)
	assert.Nil(t, a.Neighbours())
	assert.Equal(t, []string{"--in-memory", "--no-pci", "--no-telemetry"}, a.EALArgv())

	require.NoError(t, a.ParseString("local_ip=198.18.0.1/24;gateway=198.18.0.254;mac=02:00:00:00:00:01"))
	p, ok := a.LocalPrefix()
	assert.True(t, ok)
	assert.Equal(t, netip.MustParsePrefix("198.18.0.1/24"), p)
	g, ok := a.GatewayAddr()
	assert.True(t, ok)
	assert.Equal(t, netip.MustParseAddr("198.18.0.254"), g)
	m, ok := a.MACAddr()
	assert.True(t, ok)
	assert.Equal(t, [6]byte{2, 0, 0, 0, 0, 1}, m)
	assert.NoError(t, a.Validate())
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct{ attrs, msg string }{
		{"tcp_rto_min_ms=5000;tcp_rto_max_ms=1000", "attr tcp_rto_min_ms=5000: greater than tcp_rto_max_ms=1000"},
		{"gateway=198.18.0.254", "attr gateway=198.18.0.254: needs local_ip"},
		{"local_ip=198.18.0.1/24;gateway=198.19.0.254", "outside local_ip=198.18.0.1/24"},
		{"local_ip=198.18.0.1/24;gateway=198.18.0.1", "is local_ip's own address"},
	} {
		a := NewDefault()
		require.NoError(t, a.ParseString(tc.attrs), "values are valid one by one")
		err := a.Validate()
		assert.ErrorIs(t, err, syscall.EINVAL, tc.attrs)
		assert.ErrorContains(t, err, tc.msg)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}

	good := write("good.attr", "# a comment\n\n  # indented comment\n"+
		"interface=net_memif0,role=client,socket=/run/zocket/x.sock\n"+
		"  n_bufs = 2048  \r\n"+
		"capture=/tmp/a#b.pcapng\n"+
		"log_level=0xfff0") // no final newline
	a := NewDefault()
	require.NoError(t, a.LoadFile(good))
	assert.Equal(t, "net_memif0,role=client,socket=/run/zocket/x.sock", a.StrOf(Interface))
	assert.Equal(t, int64(2048), a.IntOf(NBufs))
	assert.Equal(t, "/tmp/a#b.pcapng", a.StrOf(Capture))
	assert.Equal(t, int64(0xfff0), a.IntOf(LogLevel))

	for _, tc := range []struct {
		text  string
		errno syscall.Errno
		msg   string
	}{
		{"# x\nn_bufs=2048\nbogus=1\n", syscall.ENOENT, ":3: unknown attribute"},
		{"\n\nmtu=20\n", syscall.EOVERFLOW, ":3: attr mtu: out of range [68, 9000]"},
		{"n_bufs 2048\n", syscall.EINVAL, ":1: want name=value"},
		{"mac=xx\n", syscall.EINVAL, ":1: attr mac: want a 48-bit MAC"},
		// -config /etc/shadow and the like: the error never shows the file's text.
		{"root:$6$hunter2$hunter2:19000:0:99999:7:::\n", syscall.EINVAL, ":1: want name=value"},
		{"db_password=hunter2\n", syscall.ENOENT, ":1: unknown attribute"},
		{"mtu=hunter2\n", syscall.EINVAL, ":1: attr mtu: not an integer"},
		{"name=" + strings.Repeat("hunter2", 10) + "\n", syscall.EOVERFLOW, ":1: attr name: longer than 20 bytes"},
	} {
		p := write("bad.attr", tc.text)
		b := a.Clone()
		err := b.LoadFile(p)
		assert.ErrorIs(t, err, tc.errno, tc.text)
		assert.ErrorContains(t, err, p+tc.msg)
		assert.NotContains(t, err.Error(), "hunter2")
		assert.NotContains(t, err.Error(), "bogus")
		assert.True(t, strings.HasPrefix(err.Error(), p+":"), err.Error())
		assert.Equal(t, *a, *b, "a failed LoadFile changes nothing")
	}

	err := a.LoadFile(filepath.Join(dir, "missing.attr"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
	var pe *fs.PathError
	assert.True(t, errors.As(err, &pe))
}

func TestWrite(t *testing.T) {
	a := NewDefault()
	var b strings.Builder
	require.NoError(t, a.Write(&b, false))
	assert.Equal(t, "", b.String())

	require.NoError(t, a.ParseString("n_bufs=2048;interface=net_ring0"))
	b.Reset()
	require.NoError(t, a.Write(&b, false))
	assert.Equal(t,
		"# Use this interface name as zf_stack interface. [str; default \"\" (none); zf_stack]\n"+
			"interface=net_ring0\n\n"+
			"# Number of packet buffers to allocate for the stack. [int; default 0; "+
			"range [64, 16777216] or 0; zf_pool]\nn_bufs=2048\n", b.String())

	b.Reset()
	require.NoError(t, a.Write(&b, true))
	p := filepath.Join(t.TempDir(), "all.attr")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	c := NewDefault()
	require.NoError(t, c.LoadFile(p))
	assert.Equal(t, *a, *c)
}

// TestDefaultEALArgs: the library's default EAL arguments leave no files behind, probe no PCI
// device and, like the tools', open no telemetry socket (another local user could read the
// process's DPDK state through it).
func TestDefaultEALArgs(t *testing.T) {
	argv := NewDefault().EALArgv()
	for _, want := range []string{"--in-memory", "--no-pci", "--no-telemetry"} {
		assert.Contains(t, argv, want)
	}
}
