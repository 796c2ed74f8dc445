package rtt

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSummaryLineFollowsContract(t *testing.T) {
	r := NewRecorder()
	for i := int64(1); i <= 1000; i++ {
		r.Record(i * 100)
	}
	s := r.Summary()
	assert.Equal(t, int64(1000), s.N)
	assert.Equal(t, int64(100), s.Min)
	assert.InDelta(t, 50_000, s.P50, 100)
	assert.InDelta(t, 99_000, s.P99, 100)
	assert.InDelta(t, 99_900, s.P999, 100)
	assert.InDelta(t, 100_000, s.Max, 100)
	assert.Regexp(t, regexp.MustCompile(`^rtt_ns n=1000 min=100 mean=\d+ p50=\d+ p99=\d+ p999=\d+ max=\d+$`), s.Line())

	var b bytes.Buffer
	r.WriteReport(&b, 64, 99, false)
	assert.Contains(t, b.String(), "mean round-trip time: ")
	assert.Contains(t, b.String(), "size       mean      min   median      max     %ile   stddev       iter")
	assert.Contains(t, b.String(), "\n64        25025       50    25007    50015    49503", "half round trips")
	assert.Contains(t, b.String(), "\nrtt_ns n=1000 ")
	b.Reset()
	r.WriteReport(&b, 64, 99, true)
	assert.Contains(t, b.String(), "\n64        50051      100    50015   100031    99007", "whole round trips")
}

func TestRecordDoesNotAllocate(t *testing.T) {
	r := NewRecorder()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { r.Record(1234) }))
}
