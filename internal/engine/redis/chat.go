package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/chat"
)

// ChatHistory is the Redis engine's chat.History: a stream per room,
// "<prefix>room:<name>", capped with MAXLEN ~ so that it keeps at least
// retain entries (Redis trims whole nodes of a stream only), whose entry ids
// are the message ids; and a sorted set "<prefix>rooms" of room names scored
// by their last message's time.
type ChatHistory struct {
	e      *Engine
	retain string
}

var _ chat.History = (*ChatHistory)(nil)

// Chat returns the chat history over e, keeping at least retain messages a
// room (zero: chat.DefaultRetain).
func (e *Engine) Chat(retain int) *ChatHistory {
	if retain <= 0 {
		retain = chat.DefaultRetain
	}
	return &ChatHistory{e: e, retain: strconv.Itoa(retain)}
}

// Stream entry fields, short because every entry repeats them.
const (
	chatFieldBody   = "b"
	chatFieldLogin  = "l"
	chatFieldPosted = "p"
)

func (e *Engine) roomKey(name string) string { return e.key("room:", name) }
func (e *Engine) roomsKey() string           { return e.key("rooms") }

// Append adds the entry and records the room's activity in one pipeline;
// the sorted set only orders the room list, so the two need not be atomic.
// GT keeps a process with a slow clock from moving a room back.
func (h *ChatHistory) Append(ctx context.Context, m chat.NewMessage) (chat.Message, error) {
	c := h.e.client
	posted := ms(m.Posted)
	fv := c.B().Xadd().Key(h.e.roomKey(m.Room)).Maxlen().Almost().Threshold(h.retain).Id("*").FieldValue().
		FieldValue(chatFieldBody, m.Body).FieldValue(chatFieldPosted, posted)
	if m.Login != "" {
		fv = fv.FieldValue(chatFieldLogin, m.Login)
	}
	res := c.DoMulti(ctx, fv.Build(),
		c.B().Zadd().Key(h.e.roomsKey()).Gt().ScoreMember().ScoreMember(float64(m.Posted.UnixMilli()), m.Room).Build())
	id, err := res[0].ToString()
	if err != nil {
		return chat.Message{}, h.e.fail("chat append", err)
	}
	if err := res[1].Error(); err != nil {
		h.e.log.WarnContext(ctx, "redis: recording a room's activity failed", "room", m.Room, "err", err)
	}
	posted64, _ := strconv.ParseInt(posted, 10, 64)
	return chat.Message{ID: id, Room: m.Room, Body: m.Body, Login: m.Login, Posted: fromMillisUTC(posted64)}, nil
}

// parseStreamCursor accepts stream entry ids as XADD makes them, "ms-seq".
func parseStreamCursor(cursor string) error {
	id, err := chat.ParseID(cursor)
	if err != nil || !strings.Contains(cursor, "-") || cursor != strconv.FormatUint(id.Hi, 10)+"-"+strconv.FormatUint(id.Lo, 10) {
		return fmt.Errorf("redis: %w: %q", chat.ErrBadCursor, cursor)
	}
	return nil
}

// After reads the entries after cursor, whether cursor is still an entry,
// and the oldest entry, in one round trip.
func (h *ChatHistory) After(ctx context.Context, room, cursor string, limit int) ([]chat.Message, bool, error) {
	if err := parseStreamCursor(cursor); err != nil {
		return nil, false, err
	}
	c, key := h.e.client, h.e.roomKey(room)
	res := c.DoMulti(ctx,
		c.B().Xrange().Key(key).Start("("+cursor).End("+").Count(int64(limit)).Build(),
		c.B().Xrange().Key(key).Start(cursor).End(cursor).Build(),
		c.B().Xrange().Key(key).Start("-").End("+").Count(1).Build())
	var entries [3][]rueidis.XRangeEntry
	for i, r := range res {
		var err error
		if entries[i], err = r.AsXRange(); err != nil {
			if rerr, ok := rueidis.IsRedisErr(err); ok && strings.Contains(rerr.Error(), "ID") {
				// The largest id has nothing after it, and "(" of it is
				// refused.
				return nil, false, fmt.Errorf("redis: %w: %q", chat.ErrBadCursor, cursor)
			}
			return nil, false, h.e.fail("chat after", err)
		}
	}
	msgs, err := chatMessages(room, entries[0])
	if err != nil {
		return nil, false, err
	}
	gap := false
	if len(entries[1]) == 0 && len(entries[2]) > 0 {
		oldest, err := chat.ParseID(entries[2][0].ID)
		if err != nil {
			return nil, false, fmt.Errorf("redis: chat after: entry id %q: %w", entries[2][0].ID, err)
		}
		cur, _ := chat.ParseID(cursor)
		gap = oldest.Compare(cur) > 0
	}
	return msgs, gap, nil
}

func (h *ChatHistory) Latest(ctx context.Context, room string, n int) ([]chat.Message, error) {
	c := h.e.client
	entries, err := c.Do(ctx, c.B().Xrevrange().Key(h.e.roomKey(room)).End("+").Start("-").Count(int64(n)).Build()).AsXRange()
	if err != nil {
		return nil, h.e.fail("chat latest", err)
	}
	msgs, err := chatMessages(room, entries)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, nil
}

func (h *ChatHistory) Rooms(ctx context.Context, limit int) ([]chat.RoomInfo, error) {
	if limit <= 0 {
		return nil, nil
	}
	c := h.e.client
	scores, err := c.Do(ctx, c.B().Zrange().Key(h.e.roomsKey()).Min("+inf").Max("-inf").Byscore().Rev().
		Limit(0, int64(limit)).Withscores().Build()).AsZScores()
	if err != nil {
		return nil, h.e.fail("chat rooms", err)
	}
	out := make([]chat.RoomInfo, len(scores))
	for i, s := range scores {
		out[i] = chat.RoomInfo{Name: s.Member, LastActivity: fromMillisUTC(int64(s.Score))}
	}
	return out, nil
}

func chatMessages(room string, entries []rueidis.XRangeEntry) ([]chat.Message, error) {
	out := make([]chat.Message, len(entries))
	for i, en := range entries {
		posted, err := parseInt("chat entry", en.FieldValues[chatFieldPosted])
		if err != nil {
			return nil, err
		}
		out[i] = chat.Message{ID: en.ID, Room: room, Body: en.FieldValues[chatFieldBody],
			Login: en.FieldValues[chatFieldLogin], Posted: fromMillisUTC(posted)}
	}
	return out, nil
}

func fromMillisUTC(n int64) time.Time { return time.UnixMilli(n).UTC() }
