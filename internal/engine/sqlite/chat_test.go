package sqlite

import (
	"testing"

	"starling/internal/chat"
	"starling/internal/chat/chattest"
)

func TestChatConformance(t *testing.T) {
	chattest.Run(t, func(t *testing.T, retain int) chat.History {
		return openDir(t, t.TempDir()).Chat(retain)
	})
}
