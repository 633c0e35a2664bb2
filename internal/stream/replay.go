package stream

import (
	"context"
	"fmt"
)

// gapFrame is the frame that tells a resuming client that events it missed
// are no longer retained.
func gapFrame(f Format) []byte {
	switch f {
	case FormatSSE:
		return []byte("event: gap\ndata: {}\n\n")
	case FormatWS:
		return []byte(`"event":"gap"}` + "\n")
	}
	return nil
}

// Start lets a subscription's live frames flow. Until it is called they are
// held, so that what the transport writes first (its headers, an
// acknowledgement) comes before them. It first writes, through write, the
// events c missed: those after the id it gave Subscribe up to where its
// live events start, or a gap frame when they are no longer all retained.
// write gets whole frames (with the client's head) and must not call into
// the hub.
func (c *Client) Start(ctx context.Context, write func(frame []byte) error) error {
	s := c.sink
	var err error
	if c.lost || c.skipThrough > 0 && c.skipThrough < c.start {
		err = c.replay(ctx, write)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.replaying = false
	if s.reason == "" && len(c.held) > 0 {
		if len(s.buf)+len(c.held) > s.limit {
			s.end(ReasonTooSlow)
		} else {
			s.buf = append(s.buf, c.held...)
			s.signal()
		}
	}
	c.held = nil
	return err
}

func (c *Client) replay(ctx context.Context, write func([]byte) error) error {
	log := c.sink.hub.log
	after := c.skipThrough
	if c.lost {
		return write(append(append([]byte(nil), c.head...), gapFrame(c.format)...))
	}
	first := true
	for after < c.start {
		entries, gap, err := log.Read(ctx, after, min(readBatch, int(c.start-after)), 0)
		if err != nil {
			return fmt.Errorf("stream: replaying: %w", err)
		}
		if gap && first || len(entries) == 0 {
			return write(append(append([]byte(nil), c.head...), gapFrame(c.format)...))
		}
		first = false
		for _, e := range entries {
			if e.ID > c.start {
				return nil
			}
			after = e.ID
			ev, err := decodeEvent(e)
			if err != nil || !c.spec.matches(ev) || c.sink.hub.hides(ctx, ev) {
				continue
			}
			if err := write(append(append([]byte(nil), c.head...), ev.frame(c.format)...)); err != nil {
				return err
			}
		}
	}
	return nil
}
