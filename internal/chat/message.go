package chat

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits of rooms and messages.
const (
	// MaxRoomLen bounds a room name.
	MaxRoomLen = 64
	// MaxBodyLen bounds a message body, in characters, after trimming.
	MaxBodyLen = 2000
	// MaxBodyBytes bounds a raw body before it is cleaned: four bytes a
	// character and as much again for white space to trim.
	MaxBodyBytes = 2 * 4 * MaxBodyLen
	// Lobby is the room every deployment has.
	Lobby = "lobby"
	// DefaultRetain is how many of a room's newest messages the history
	// keeps at least.
	DefaultRetain = 10_000
	// DefaultWindow is how many of a room's newest messages Rooms keeps in
	// memory.
	DefaultWindow = 200
)

// NewMessage is a message as History.Append takes it.
type NewMessage struct {
	Room   string
	Body   string // cleaned (CleanBody)
	Login  string // empty for an anonymous author
	Posted time.Time
}

// Message is a stored message. ID is opaque to clients; ParseID orders the
// ids of one room.
type Message struct {
	ID     string
	Room   string
	Body   string
	Login  string // empty for an anonymous author
	Posted time.Time
}

// RoomInfo is a room as History.Rooms lists it.
type RoomInfo struct {
	Name         string
	LastActivity time.Time // zero for a room without messages
}

// ValidRoom reports whether name is 1–64 of [a-z0-9_-].
func ValidRoom(name string) bool {
	if len(name) < 1 || len(name) > MaxRoomLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Errors of the chat package. Engines return ErrBadCursor (wrapped) for a
// cursor that is not one of their ids.
var (
	ErrBadCursor = errors.New("chat: malformed cursor")
	ErrBadRoom   = &InputError{Field: "room", Reason: "must be 1–64 of a-z, 0-9, _ and -"}
	ErrClosed    = errors.New("chat: rooms closed")
)

// InputError refuses a message or a room name.
type InputError struct {
	Field  string // "body" or "room"
	Reason string
}

func (e *InputError) Error() string { return "chat: " + e.Field + " " + e.Reason }

// ID orders the message ids of a room. Engines write ids as "N" (one
// counter) or "N-M" (a Redis stream entry id); both parse, and compare
// numerically part by part.
type ID struct{ Hi, Lo uint64 }

// ParseID parses a message id.
func ParseID(s string) (ID, error) {
	hi, lo, dash := strings.Cut(s, "-")
	var id ID
	var err error
	if id.Hi, err = parseDigits(hi); err != nil {
		return ID{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	if dash {
		if id.Lo, err = parseDigits(lo); err != nil {
			return ID{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
		}
	}
	return id, nil
}

// parseDigits accepts only ASCII digits (no sign, no spaces), at most 20.
func parseDigits(s string) (uint64, error) {
	if len(s) == 0 || len(s) > 20 {
		return 0, ErrBadCursor
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrBadCursor
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// Compare returns -1, 0 or 1 as a is before, the same as or after b.
func (a ID) Compare(b ID) int {
	switch {
	case a.Hi < b.Hi:
		return -1
	case a.Hi > b.Hi:
		return 1
	case a.Lo < b.Lo:
		return -1
	case a.Lo > b.Lo:
		return 1
	}
	return 0
}
