package sqlite

import (
	"context"
	"errors"
	"sync"
)

// maxGroup bounds how many writes one grouped transaction commits.
const maxGroup = 64

// Group commit. Posting is the write that arrives many at a time, each a
// transaction of a few statements, and each commit appends every page it
// touched to the WAL: the users page, the statuses and jobs tables' last
// pages, the author's home row. Writes that queue up behind a commit
// therefore share the next one: writeGrouped runs the writes waiting at
// that moment in one transaction, each inside a savepoint of its own, so
// that one failing (an unknown author) rolls back only its own changes,
// and the pages they share go to the WAL once.
//
// No goroutine is kept for it. The first writer to arrive when none is
// committing leads: it takes the writes waiting (its own first), commits
// them, wakes their writers, and hands the lead to the first writer that
// arrived meanwhile, so every writer waits for at most the transaction
// before its own and then its own. A writer alone runs its transaction at
// once, as write does.
type writeGroup struct {
	mu      sync.Mutex
	pending []*groupedWrite
	busy    bool // a leader is committing
	commits int  // batches taken by leaders, for tests
}

type groupedWrite struct {
	ctx  context.Context
	op   string
	fn   func(*wtx) error
	err  error
	lead bool          // woken to lead rather than with its result
	wake chan struct{} // one signal: the result is in, or lead
}

var (
	qSavepoint  = writeQuery(`SAVEPOINT grouped`)
	qRelease    = writeQuery(`RELEASE grouped`)
	qRollbackTo = writeQuery(`ROLLBACK TO grouped`)
)

// writeGrouped is write for writes that may share a transaction with
// others (see writeGroup): fn runs in a transaction, perhaps with other
// writes, and the call returns once that transaction has committed (nil)
// or fn's changes were rolled back (the error). A write whose ctx is done
// when its turn comes is not run; once fn has run, its changes commit or
// not with the others'.
func (db *DB) writeGrouped(ctx context.Context, op string, fn func(*wtx) error) error {
	w := &groupedWrite{ctx: ctx, op: op, fn: fn, wake: make(chan struct{}, 1)}
	g := &db.group
	g.mu.Lock()
	g.pending = append(g.pending, w)
	if g.busy {
		g.mu.Unlock()
		<-w.wake
		if !w.lead {
			return w.err
		}
		g.mu.Lock()
	}
	g.busy = true
	n := min(len(g.pending), maxGroup)
	batch := g.pending[:n:n] // w first: it leads the oldest writes
	g.pending = g.pending[n:]
	g.commits++
	g.mu.Unlock()

	defer db.handOff(batch)
	db.commitGroup(batch)
	return w.err
}

// handOff ends a leader's turn: it passes the lead to the first write
// that arrived meanwhile, or leaves the group idle, and wakes the writers
// of batch. It runs deferred, so that a panic in a write's fn (which
// write rolls back) still hands the lead on, and the batch's other writes
// learn that theirs did not commit.
func (db *DB) handOff(batch []*groupedWrite) {
	p := recover()
	if p != nil {
		for _, w := range batch {
			if w.err == nil {
				w.err = errGroupAborted
			}
		}
	}
	g := &db.group
	g.mu.Lock()
	if len(g.pending) > 0 {
		next := g.pending[0]
		next.lead = true
		next.wake <- struct{}{}
	} else {
		g.busy = false
		g.pending = nil
	}
	g.mu.Unlock()
	for _, other := range batch[1:] {
		other.wake <- struct{}{}
	}
	if p != nil {
		panic(p)
	}
}

// commitGroup runs the writes of batch in one transaction, each in a
// savepoint when there are several, and records each one's result.
func (db *DB) commitGroup(batch []*groupedWrite) {
	if len(batch) == 1 {
		w := batch[0]
		w.err = db.write(w.ctx, w.op, w.fn)
		return
	}
	// The transaction serves several callers, so no one caller's context
	// may cancel it; each caller's context was checked before its turn.
	ctx := context.WithoutCancel(batch[0].ctx)
	err := db.write(ctx, batch[0].op, func(tx *wtx) error {
		ok := 0
		for _, w := range batch {
			if err := w.ctx.Err(); err != nil {
				w.err = db.fail(w.op, err)
				continue
			}
			if _, err := tx.exec(qSavepoint); err != nil {
				return err
			}
			if err := w.fn(tx); err != nil {
				w.err = db.fail(w.op, err)
				if _, err := tx.exec(qRollbackTo); err != nil {
					return err
				}
			} else {
				ok++
			}
			if _, err := tx.exec(qRelease); err != nil {
				return err
			}
		}
		if ok == 0 {
			return errNothingToCommit
		}
		return nil
	})
	if err == nil || errors.Is(err, errNothingToCommit) {
		return
	}
	// The transaction failed as a whole: every write in it failed.
	for _, w := range batch {
		if w.err == nil {
			w.err = db.fail(w.op, err)
		}
	}
}

// errNothingToCommit rolls back a grouped transaction whose every write
// failed on its own.
var errNothingToCommit = errors.New("nothing to commit")

// errGroupAborted is the result of the writes of a grouped transaction
// that a panic in one of them rolled back.
var errGroupAborted = errors.New("sqlite: rolled back by a panic in another write of its transaction")
