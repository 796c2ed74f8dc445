package tcp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 12 (rate limit), RFC 5961 §7 without CVE-2016-5696's side channel: challenge ACKs
// are spaced by tcp_invalid_ratelimit_ms per connection, so one connection's challenges (an
// off-path attacker's probes of its own) neither use up nor reveal another's.
func TestScriptChallengeACKPerConnection(t *testing.T) {
	sc := newScript(t)
	l := sc.listen()
	const pa, pb = 20001, 20002
	sc.acceptFrom(l, pa)
	sc.acceptFrom(l, pb)
	for _, step := range []struct {
		advance int64 // ms before the SYN
		sport   uint16
		acked   bool
	}{
		{0, pa, true}, {0, pa, false}, {0, pa, false}, {100, pa, false},
		{0, pb, true}, // independent of A's
		{0, pb, false}, {399, pa, false}, {1, pa, true}, {0, pa, false}, {100, pb, true},
	} {
		sc.r.Clock.Advance(step.advance * ms)
		sc.send(seg{flags: fS, seq: peerISN + 500, sport: step.sport})
		if step.acked {
			sc.expect(flags(fA), seqNum(stackISN+1), ackNum(peerISN+1))
		} else {
			sc.expectNone()
		}
	}
	cnt := StackCounters(sc.r.S)
	assert.Equal(t, uint64(4), cnt.ChallengeACKs)
	assert.Equal(t, uint64(6), cnt.ChallengeLimited)
}

// The stack-wide budget behind the per-connection limit (tcp_challenge_ack_limit) is drawn at
// random each second from [limit/2, limit·3/2), as Linux's since the CVE-2016-5696 fix, so
// that counting one's own challenge ACKs says nothing about the others'.
func TestScriptChallengeACKGlobalBudget(t *testing.T) {
	const limit = 10
	sc := newScript(t, "tcp_challenge_ack_limit", "10", "tcp_invalid_ratelimit_ms", "0")
	c := sc.established()
	seen := map[int]bool{}
	for sec := 0; sec < 20; sec++ {
		n := 0
		for i := 0; i < 2*limit; i++ {
			sc.send(seg{flags: fS, seq: peerISN + 500})
			n += len(sc.emitted())
		}
		require.GreaterOrEqual(t, n, (limit+1)/2, "second %d", sec)
		require.Less(t, n, limit+(limit+1)/2, "second %d", sec)
		seen[n] = true
		sc.r.Clock.Advance(1000 * ms)
	}
	assert.Greater(t, len(seen), 1, "the budget is randomised: %v", seen)
	assert.Equal(t, StateEstablished, c.State())
	cnt := StackCounters(sc.r.S)
	assert.Equal(t, uint64(20*2*limit), cnt.ChallengeACKs+cnt.ChallengeLimited)
}
