package redis

import (
	"testing"

	"starling/internal/engine/redis/redistest"
	"starling/internal/stream"
	"starling/internal/stream/streamtest"
)

func TestEventLogConformance(t *testing.T) {
	t.Parallel()
	streamtest.Run(t, func(t *testing.T) (stream.Log, stream.Log) {
		url, prefix := redistest.Shared(t), redistest.Prefix(t)
		w := openAt(t, url, Options{Prefix: prefix}).EventLog(streamtest.Retain)
		r := openAt(t, url, Options{Prefix: prefix}).EventLog(streamtest.Retain)
		return w, r
	})
}
