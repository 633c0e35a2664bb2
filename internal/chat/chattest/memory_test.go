package chattest_test

import (
	"testing"

	"starling/internal/chat"
	"starling/internal/chat/chattest"
)

// The suite holds the reference implementation to the same contract as the
// engines.
func TestMemoryConformance(t *testing.T) {
	chattest.Run(t, func(t *testing.T, retain int) chat.History { return chattest.NewMemory(retain) })
}
