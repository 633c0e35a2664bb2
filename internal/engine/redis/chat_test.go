package redis

import (
	"testing"

	"starling/internal/chat"
	"starling/internal/chat/chattest"
)

func TestChatConformance(t *testing.T) {
	t.Parallel()
	chattest.Run(t, func(t *testing.T, retain int) chat.History {
		return openTest(t).Chat(retain)
	})
}
