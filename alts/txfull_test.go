package alts_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/alts"
)

// An alternative whose burst the transmit ring refuses (A's 8-frame ring full of another
// connection's data, B not polling) joins the stream unsent and leaves once the ring has room,
// although nothing of its connection was in flight.
func TestSendTxRingFull(t *testing.T) {
	e := newEnvRing(t, 8)
	c, s := e.connect(7020)
	filler, _ := e.connect(7021)
	a := mustAlloc(t, e.A)
	require.NoError(t, alts.Queue(c, a, iov("<alt request>"), 0))
	n, err := filler.SendSingle(make([]byte, 20*1460), 0)
	require.NoError(t, err)
	require.Equal(t, 20*1460, n)
	full := e.A.Counters().TxRingFull
	require.NotZero(t, full, "the ring refused part of the filler's burst")
	require.NoError(t, alts.Send(e.A, a))
	require.Greater(t, e.A.Counters().TxRingFull, full, "the ring refused the alternative")
	require.Equal(t, "<alt request>", e.readAll(s))
}
