package chat

import "context"

// History is the durable store of chat messages, one ordered log per room.
// Each engine implements it; chattest.Run is its conformance suite.
//
// Ids are assigned by Append, increase within a room in the order Appends
// complete (a reader that sees a message sees every earlier one of its
// room), and parse with ParseID. A room keeps at least its newest retain
// messages (the engine's setting, DefaultRetain unless told otherwise);
// older ones may be dropped.
type History interface {
	// Append stores m as the newest message of its room and returns it
	// with its id. m.Posted is kept to the millisecond.
	Append(ctx context.Context, m NewMessage) (Message, error)
	// After returns at most limit messages of room that come after the
	// message cursor names, oldest first. gap reports that cursor names
	// no message the room retains and is older than the oldest it
	// retains: messages after it may have been dropped. A cursor that is
	// not an id of this engine's form fails with ErrBadCursor.
	After(ctx context.Context, room, cursor string, limit int) (msgs []Message, gap bool, err error)
	// Latest returns the newest n messages of room, oldest first.
	Latest(ctx context.Context, room string, n int) ([]Message, error)
	// Rooms returns at most limit rooms that have messages, the most
	// recently active first.
	Rooms(ctx context.Context, limit int) ([]RoomInfo, error)
}
