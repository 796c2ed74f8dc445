package gonet_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/nettest"

	"github.com/zocket/zocket/gonet"
)

// TestNettestConn runs x/net/nettest's conformance suite for net.Conn on pipes made of two
// gonet stacks, over net_ring and over net_memif, in both wait modes.
func TestNettestConn(t *testing.T) {
	for _, tc := range []struct {
		name string
		pair func(testing.TB, ...gonet.Option) (*gonet.Stack, *gonet.Stack)
		mode gonet.WaitMode
	}{
		{"ring/sleep", ringPair, gonet.Sleep},
		{"ring/busy", ringPair, gonet.BusyPoll},
		{"memif/sleep", memifPair, gonet.Sleep},
		{"memif/busy", memifPair, gonet.BusyPoll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.pair(t, gonet.WithWaitMode(tc.mode))
			l, err := b.Listen("tcp", ":7000")
			require.NoError(t, err)
			defer l.Close()
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				c1, c2, err = connPair(t, a, b, l)
				if err != nil {
					return nil, nil, nil, err
				}
				return c1, c2, func() { c1.Close(); c2.Close() }, nil
			})
		})
	}
}
