package sqlite

import (
	"testing"

	"starling/internal/stream"
	"starling/internal/stream/streamtest"
)

func TestEventLogConformance(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Log, stream.Log) {
		l := openDir(t, t.TempDir()).EventLog(streamtest.Retain)
		return l, l
	})
}
