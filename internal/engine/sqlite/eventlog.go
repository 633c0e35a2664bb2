package sqlite

import (
	"context"
	"fmt"
	"time"

	"starling/internal/stream"
)

// EventLog is the stream.Log of the embedded engine: the table
// stream_events, whose AUTOINCREMENT ids are the consecutive entry ids.
// One process owns the database, so a notifier in memory wakes the hub's
// waiting Read when an append commits.
type EventLog struct {
	db     *DB
	retain int
	added  notifier
}

var _ stream.Log = (*EventLog)(nil)

// trimEvery is how many appends pass between trims of the log, so that the
// delete runs rarely; the log holds at most retain+trimEvery entries.
const trimEvery = 1000

// EventLog returns the database's stream event log keeping at least the
// newest retain entries (stream.DefaultRetain when retain is not
// positive). Make one per DB.
func (db *DB) EventLog(retain int) *EventLog {
	if retain <= 0 {
		retain = stream.DefaultRetain
	}
	l := &EventLog{db: db, retain: retain}
	l.added.init()
	return l
}

var (
	qAppendEvent = writeQuery(`INSERT INTO stream_events (topic, data) VALUES (?, ?)`)
	qTrimEvents  = writeQuery(`DELETE FROM stream_events WHERE id <= ?`)
	qReadEvents  = readQuery(`SELECT id, topic, data FROM stream_events WHERE id > ? ORDER BY id LIMIT ?`)
	// The newest row is never trimmed, so its id is the last one given.
	qLastEvent = readQuery(`SELECT coalesce(max(id), 0) FROM stream_events`)
)

// Append adds an entry in a write transaction of its own.
func (l *EventLog) Append(ctx context.Context, topic string, data []byte) (uint64, error) {
	return l.AppendBatch(ctx, []stream.Entry{{Topic: topic, Data: data}})
}

// AppendBatch adds entries in one write transaction.
func (l *EventLog) AppendBatch(ctx context.Context, batch []stream.Entry) (uint64, error) {
	var id int64
	err := l.db.write(ctx, "appending events", func(tx *wtx) error {
		for _, e := range batch {
			res, err := tx.exec(qAppendEvent, e.Topic, e.Data)
			if err != nil {
				return err
			}
			if id, err = res.LastInsertId(); err != nil {
				return err
			}
			if id%trimEvery == 0 && id > int64(l.retain) {
				if _, err := tx.exec(qTrimEvents, id-int64(l.retain)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	l.added.broadcast()
	return uint64(id), nil
}

// Read returns entries above after, waiting up to wait for one.
func (l *EventLog) Read(ctx context.Context, after uint64, limit int, wait time.Duration) ([]stream.Entry, bool, error) {
	var timer *time.Timer
	for {
		added := l.added.wait()
		entries, err := l.read(ctx, after, limit)
		if err != nil {
			return nil, false, err
		}
		if len(entries) > 0 {
			return entries, stream.Gap(after, entries, 0), nil
		}
		if wait <= 0 {
			last, err := l.Last(ctx)
			return nil, stream.Gap(after, nil, last), err
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-added:
		case <-timer.C:
			last, err := l.Last(ctx)
			return nil, stream.Gap(after, nil, last), err
		case <-ctx.Done():
			return nil, false, fmt.Errorf("sqlite: reading events: %w", ctx.Err())
		case <-l.db.closing:
			return nil, false, stream.ErrLogClosed
		}
	}
}

func (l *EventLog) read(ctx context.Context, after uint64, limit int) ([]stream.Entry, error) {
	rows, err := l.db.readRows(ctx, qReadEvents, int64(after), limit)
	if err != nil {
		return nil, l.db.fail("reading events", err)
	}
	defer rows.Close()
	var out []stream.Entry
	for rows.Next() {
		var e stream.Entry
		var id int64
		if err := rows.Scan(&id, &e.Topic, &e.Data); err != nil {
			return nil, l.db.fail("reading events", err)
		}
		e.ID = uint64(id)
		out = append(out, e)
	}
	return out, l.db.fail("reading events", rows.Err())
}

// Last returns the newest id assigned.
func (l *EventLog) Last(ctx context.Context) (uint64, error) {
	var seq int64
	if err := l.db.readRow(ctx, qLastEvent).Scan(&seq); err != nil {
		return 0, l.db.fail("reading the last event id", err)
	}
	return uint64(seq), nil
}
