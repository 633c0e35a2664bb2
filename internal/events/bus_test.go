package events_test

import (
	"testing"

	"starling/internal/events"
	"starling/internal/events/eventstest"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, topic string
		want           bool
	}{
		{"status.created", "status.created", true},
		{"status.created", "status.deleted", false},
		{"status.*", "status.created", true},
		{"status.*", "status", false},
		{"status.*", "status.created.extra", false},
		{"*.created", "status.created", true},
		{">", "status.created", true},
		{">", "status", true},
		{"status.>", "status.created.extra", true},
		{"status.>", "status", false},
		{"user.*", "status.created", false},
		{"status", "status.created", false},
		{"status.created", "status", false},
	}
	for _, tt := range tests {
		if got := events.Match(tt.pattern, tt.topic); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.topic, got, tt.want)
		}
	}
}

func TestValidPattern(t *testing.T) {
	for p, want := range map[string]bool{"a.b": true, "a.*": true, "a.>": true, ">": true, "": false, "a..b": false, ">.a": false} {
		if got := events.ValidPattern(p); got != want {
			t.Errorf("ValidPattern(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestMemoryConformance(t *testing.T) {
	eventstest.Run(t, func(t *testing.T) (events.Bus, events.Bus) {
		b := events.NewMemory(events.MemoryOptions{})
		t.Cleanup(func() { b.Close() })
		return b, b
	})
}
