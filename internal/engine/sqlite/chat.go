package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"starling/internal/chat"
)

// ChatHistory is the embedded engine's chat.History: the chat_messages
// table, ids from one counter for every room (so "N" in chat.ParseID's
// terms), and chat_rooms.
type ChatHistory struct {
	db     *DB
	retain int
}

var _ chat.History = (*ChatHistory)(nil)

// Chat returns the chat history over db, keeping at least retain messages a
// room (zero: chat.DefaultRetain).
func (db *DB) Chat(retain int) *ChatHistory {
	if retain <= 0 {
		retain = chat.DefaultRetain
	}
	return &ChatHistory{db: db, retain: retain}
}

var (
	qInsertChatMessage = writeQuery(`
INSERT INTO chat_messages (room, body, login, posted) VALUES (?, ?, ?, ?) RETURNING id`)
	qCountChatMessage = writeQuery(`
INSERT INTO chat_rooms (name, messages, last_id, last_posted) VALUES (?, 1, ?, ?)
ON CONFLICT (name) DO UPDATE SET messages = messages + 1, last_id = excluded.last_id, last_posted = excluded.last_posted
RETURNING messages`)
	qTrimChatRoom = writeQuery(`
DELETE FROM chat_messages WHERE room = ? AND id < (
	SELECT id FROM chat_messages WHERE room = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`)
	qSetChatRoomCount = writeQuery(`UPDATE chat_rooms SET messages = ? WHERE name = ?`)

	qChatAfter = readQuery(`
SELECT id, body, login, posted FROM chat_messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?`)
	qChatGap = readQuery(`
SELECT coalesce((SELECT min(id) FROM chat_messages WHERE room = ?), 0),
	EXISTS (SELECT 1 FROM chat_messages WHERE room = ? AND id = ?)`)
	qChatLatest = readQuery(`
SELECT id, body, login, posted FROM chat_messages WHERE room = ? ORDER BY id DESC LIMIT ?`)
	qChatRooms = readQuery(`
SELECT name, last_posted FROM chat_rooms ORDER BY last_id DESC LIMIT ?`)
)

// Append stores m. A room is trimmed back to retain messages once it holds
// an eighth more, so that the trim's index walk is paid once per many
// messages.
func (h *ChatHistory) Append(ctx context.Context, m chat.NewMessage) (chat.Message, error) {
	out := chat.Message{Room: m.Room, Body: m.Body, Login: m.Login, Posted: fromMillis(millis(m.Posted))}
	err := h.db.write(ctx, "chat append", func(tx *wtx) error {
		var id, count int64
		if err := tx.queryRow(qInsertChatMessage, m.Room, m.Body, m.Login, millis(m.Posted)).Scan(&id); err != nil {
			return err
		}
		if err := tx.queryRow(qCountChatMessage, m.Room, id, millis(m.Posted)).Scan(&count); err != nil {
			return err
		}
		out.ID = strconv.FormatInt(id, 10)
		if count <= int64(h.retain+h.retain/8) {
			return nil
		}
		if _, err := tx.exec(qTrimChatRoom, m.Room, m.Room, h.retain-1); err != nil {
			return err
		}
		_, err := tx.exec(qSetChatRoomCount, h.retain, m.Room)
		return err
	})
	if err != nil {
		return chat.Message{}, err
	}
	return out, nil
}

// parseChatCursor accepts the ids Append makes: decimal, positive.
func parseChatCursor(cursor string) (int64, error) {
	id, err := chat.ParseID(cursor)
	if err != nil || id.Lo != 0 || id.Hi > 1<<62 || cursor != strconv.FormatUint(id.Hi, 10) {
		return 0, fmt.Errorf("sqlite: %w: %q", chat.ErrBadCursor, cursor)
	}
	return int64(id.Hi), nil
}

func (h *ChatHistory) After(ctx context.Context, room, cursor string, limit int) ([]chat.Message, bool, error) {
	c, err := parseChatCursor(cursor)
	if err != nil {
		return nil, false, err
	}
	msgs, err := h.query(ctx, "chat after", room, qChatAfter, room, c, limit)
	if err != nil {
		return nil, false, err
	}
	var oldest int64
	var retained bool
	if err := h.db.readRow(ctx, qChatGap, room, room, c).Scan(&oldest, &retained); err != nil {
		return nil, false, h.db.fail("chat after", err)
	}
	return msgs, oldest > c && !retained, nil
}

func (h *ChatHistory) Latest(ctx context.Context, room string, n int) ([]chat.Message, error) {
	msgs, err := h.query(ctx, "chat latest", room, qChatLatest, room, n)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, nil
}

func (h *ChatHistory) Rooms(ctx context.Context, limit int) ([]chat.RoomInfo, error) {
	rows, err := h.db.readRows(ctx, qChatRooms, limit)
	if err != nil {
		return nil, h.db.fail("chat rooms", err)
	}
	defer rows.Close()
	var out []chat.RoomInfo
	for rows.Next() {
		var ri chat.RoomInfo
		var posted int64
		if err := rows.Scan(&ri.Name, &posted); err != nil {
			return nil, h.db.fail("chat rooms", err)
		}
		ri.LastActivity = fromMillis(posted)
		out = append(out, ri)
	}
	return out, h.db.fail("chat rooms", rows.Err())
}

func (h *ChatHistory) query(ctx context.Context, op, room, query string, args ...any) ([]chat.Message, error) {
	rows, err := h.db.readRows(ctx, query, args...)
	if err != nil {
		return nil, h.db.fail(op, err)
	}
	msgs, err := scanChatMessages(rows, room)
	return msgs, h.db.fail(op, err)
}

func scanChatMessages(rows *sql.Rows, room string) ([]chat.Message, error) {
	defer rows.Close()
	var out []chat.Message
	for rows.Next() {
		var id, posted int64
		m := chat.Message{Room: room}
		if err := rows.Scan(&id, &m.Body, &m.Login, &posted); err != nil {
			return nil, err
		}
		m.ID = strconv.FormatInt(id, 10)
		m.Posted = fromMillis(posted)
		out = append(out, m)
	}
	return out, rows.Err()
}
