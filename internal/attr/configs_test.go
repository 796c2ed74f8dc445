package attr

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite configs/*.attr from the attribute table")

const configsDir = "../../configs"

const generated = "# Generated from internal/attr/table.go; do not edit. Regenerate with\n" +
	"#   go test ./internal/attr -run TestConfigs -update\n"

// memifConfig returns one side of the memif ping-pong pair, server (pong)
// or client (ping), and the attributes its file lists.
func memifConfig(role, name, ip, mac string) (*Attr, []ID) {
	a := NewDefault()
	for _, kv := range [][2]string{
		{"name", name},
		{"interface", "net_memif0,role=" + role + ",socket=/run/zocket/pingpong.sock"},
		{"local_ip", ip},
		{"mac", mac},
		{"n_bufs", "2048"},
		{"reactor_spin_count", "128"},
	} {
		if err := a.Set(kv[0], kv[1]); err != nil {
			panic(err)
		}
	}
	return a, []ID{Name, Interface, LocalIP, MAC, NBufs, ReactorSpinCount}
}

// configs returns the contents configs/ must have, by file name.
func configs(t *testing.T) map[string][]byte {
	files := map[string][]byte{}

	var b bytes.Buffer
	b.WriteString("# zocket attributes: every attribute at its default, one name=value a line.\n" +
		"# Load with Attr.LoadFile; ZF_ATTR=\"name=value;...\" overrides defaults too.\n" +
		"# Full documentation: stack.AttrDoc(name).\n" + generated + "\n")
	require.NoError(t, NewDefault().Write(&b, true))
	files["default.attr"] = bytes.Clone(b.Bytes())

	for _, c := range []struct{ file, role, name, ip, mac, peer string }{
		{"memif-server.attr", "server", "pong", "198.18.0.1/24", "02:00:00:00:00:01", "memif-client.attr"},
		{"memif-client.attr", "client", "ping", "198.18.0.2/24", "02:00:00:00:00:02", "memif-server.attr"},
	} {
		b.Reset()
		b.WriteString("# memif ping-pong, " + c.role + " side (" + c.name + "); its peer uses " +
			c.peer + ".\n# Two processes on one host, each polling a core of its own; the socket's\n" +
			"# directory, /run/zocket, must exist.\n" + generated + "\n")
		a, ids := memifConfig(c.role, c.name, c.ip, c.mac)
		require.NoError(t, a.writeEntries(&b, ids))
		files[c.file] = bytes.Clone(b.Bytes())
	}
	return files
}

func TestConfigs(t *testing.T) {
	for file, want := range configs(t) {
		path := filepath.Join(configsDir, file)
		if *update {
			require.NoError(t, os.WriteFile(path, want, 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err, "regenerate with: go test ./internal/attr -run TestConfigs -update")
		assert.Equal(t, string(want), string(got),
			"%s is out of date; regenerate with: go test ./internal/attr -run TestConfigs -update", path)
	}

	// The files load, and mean what they say.
	a := NewDefault()
	require.NoError(t, a.SetInt("mtu", 9000))
	require.NoError(t, a.LoadFile(filepath.Join(configsDir, "default.attr")))
	assert.Equal(t, *NewDefault(), *a)

	for _, c := range []struct{ file, role, ip string }{
		{"memif-server.attr", "server", "198.18.0.1/24"},
		{"memif-client.attr", "client", "198.18.0.2/24"},
	} {
		a := NewDefault()
		require.NoError(t, a.LoadFile(filepath.Join(configsDir, c.file)))
		assert.Equal(t, "net_memif0,role="+c.role+",socket=/run/zocket/pingpong.sock", a.StrOf(Interface))
		assert.Equal(t, c.ip, a.StrOf(LocalIP))
		assert.Equal(t, int64(2048), a.IntOf(NBufs))
		assert.Equal(t, int64(128), a.IntOf(ReactorSpinCount))
		assert.NoError(t, a.Validate())
	}
}
