package chattest

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"starling/internal/chat"
)

// Memory is a chat.History in process memory, for tests. Ids are one
// counter for every room, as on the embedded engine.
type Memory struct {
	retain int

	mu    sync.Mutex // guards next and rooms
	next  int64
	rooms map[string][]chat.Message
	// Fail, when set, is returned by every call.
	fail error
}

var _ chat.History = (*Memory)(nil)

// NewMemory returns an empty Memory keeping retain messages a room (zero:
// chat.DefaultRetain).
func NewMemory(retain int) *Memory {
	if retain <= 0 {
		retain = chat.DefaultRetain
	}
	return &Memory{retain: retain, rooms: make(map[string][]chat.Message)}
}

// SetFailure makes every later call fail with err (nil: succeed again).
func (m *Memory) SetFailure(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

func (m *Memory) Append(ctx context.Context, nm chat.NewMessage) (chat.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return chat.Message{}, m.fail
	}
	m.next++
	msg := chat.Message{ID: strconv.FormatInt(m.next, 10), Room: nm.Room, Body: nm.Body, Login: nm.Login,
		Posted: time.UnixMilli(nm.Posted.UnixMilli()).UTC()}
	log := append(m.rooms[nm.Room], msg)
	if len(log) > m.retain {
		log = append([]chat.Message(nil), log[len(log)-m.retain:]...)
	}
	m.rooms[nm.Room] = log
	return msg, nil
}

func (m *Memory) After(ctx context.Context, room, cursor string, limit int) ([]chat.Message, bool, error) {
	c, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || c < 0 {
		return nil, false, fmt.Errorf("chattest: %w: %q", chat.ErrBadCursor, cursor)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, false, m.fail
	}
	log := m.rooms[room]
	i := sort.Search(len(log), func(i int) bool { return idOf(log[i]) > c })
	gap := len(log) > 0 && idOf(log[0]) > c && !(i > 0 && idOf(log[i-1]) == c)
	out := log[i:min(len(log), i+limit)]
	return append([]chat.Message(nil), out...), gap, nil
}

func (m *Memory) Latest(ctx context.Context, room string, n int) ([]chat.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	log := m.rooms[room]
	return append([]chat.Message(nil), log[max(0, len(log)-n):]...), nil
}

func (m *Memory) Rooms(ctx context.Context, limit int) ([]chat.RoomInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	var out []chat.RoomInfo
	last := map[string]int64{}
	for name, log := range m.rooms {
		if len(log) > 0 {
			out = append(out, chat.RoomInfo{Name: name, LastActivity: log[len(log)-1].Posted})
			last[name] = idOf(log[len(log)-1])
		}
	}
	sort.Slice(out, func(i, j int) bool { return last[out[i].Name] > last[out[j].Name] })
	return out[:min(len(out), limit)], nil
}

func idOf(m chat.Message) int64 {
	n, _ := strconv.ParseInt(m.ID, 10, 64)
	return n
}
