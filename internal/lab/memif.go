package lab

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
)

// MemifPorts probes a net_memif pair in this process, server and client on one socket in a
// fresh directory (no '=' in its path: that would end the devargs value), removed at cleanup;
// memif's info logs are quietened. Zero-copy stays off (see zfapp's zeroCopyMemif).
func MemifPorts(t testing.TB) (server, client dpdk.Port) {
	t.Helper()
	return MemifPortsWith(t, "")
}

// MemifPortsWith is MemifPorts with clientArgs appended to the client's devargs (for example
// ",zero-copy=yes").
func MemifPortsWith(t testing.TB, clientArgs string) (server, client dpdk.Port) {
	t.Helper()
	_ = dpdk.SetLogLevel("pmd.net.memif*", dpdk.LogError)
	dir, err := os.MkdirTemp("", "zmemif")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "m.sock")
	server, err = dpdk.Probe(Unique("net_memif") + ",role=server,socket=" + sock)
	require.NoError(t, err)
	client, err = dpdk.Probe(Unique("net_memif") + ",role=client,socket=" + sock + clientArgs)
	require.NoError(t, err)
	return server, client
}
