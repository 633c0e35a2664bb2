package stream_test

import (
	"testing"

	"starling/internal/stream"
	"starling/internal/stream/streamtest"
)

func TestMemoryLogConformance(t *testing.T) {
	streamtest.Run(t, func(t *testing.T) (stream.Log, stream.Log) {
		l := stream.NewMemoryLog(streamtest.Retain)
		return l, l
	})
}
