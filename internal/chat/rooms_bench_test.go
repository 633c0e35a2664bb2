package chat_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"starling/internal/chat"
	"starling/internal/chat/chattest"
)

// BenchmarkWakeWaiters measures one post reaching every waiter of a room:
// from Post's start until each of the waiters has its batch, as the
// transports see it before they write (the history is in memory).
func BenchmarkWakeWaiters(b *testing.B) {
	for _, waiters := range []int{1000, 5000} {
		b.Run(fmt.Sprint(waiters), func(b *testing.B) {
			rs := chat.NewRooms(chat.Config{History: chattest.NewMemory(0)})
			ctx := context.Background()
			last, err := rs.Post(ctx, "lobby", "start", "")
			if err != nil {
				b.Fatal(err)
			}
			cursor := last.ID
			b.StopTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range waiters {
					wg.Go(func() {
						if _, err := rs.Wait(ctx, "lobby", cursor); err != nil {
							b.Error(err)
						}
					})
				}
				for rs.Waiters() < int64(waiters) {
					time.Sleep(time.Millisecond)
				}
				b.StartTimer()
				e, err := rs.Post(ctx, "lobby", "m", "")
				if err != nil {
					b.Fatal(err)
				}
				wg.Wait()
				b.StopTimer()
				cursor = e.ID
			}
		})
	}
}
