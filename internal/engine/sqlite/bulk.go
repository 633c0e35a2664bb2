package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"

	"starling/internal/seed"
	"starling/internal/social"
)

// Bulk loading (seed.Loader). Each call is one write transaction, however
// many rows it carries, so the per-transaction costs (the write lock, the
// WAL commit) are paid once per batch rather than once per row; the caller
// picks the batch size. Rows go in a few hundred per INSERT ... VALUES
// statement, which costs half the CPU time of one statement per row (or of
// passing the rows as JSON to json_each, which SQLite must then parse).
//
// Follows are the bulk of a load, and each row goes into four B-trees:
// the primary key and the three secondary indexes. Rows arrive in
// follower order, which suits the two trees led by the follower (each row
// lands next to the previous one), while the two led by the followee take
// them at random places; once those outgrow the page cache every row costs
// page reads and a larger WAL. So when follows are loaded into an empty
// follows table, the first batch drops the two followee-led indexes (in
// its own transaction, so they go only if the rows start coming) and
// FinishLoad builds them again, each in one sorted pass, several times
// faster than keeping them up to date. Until then reads that need them
// scan the table: correct, only slow. A load into a table that already
// holds follows keeps its indexes and pays the per-row cost. A seed
// killed before FinishLoad leaves the indexes missing until FinishLoad
// runs (`starling seed --recount`).

var _ seed.Loader = (*DB)(nil)

// followIndexes are the followee-led indexes of follows, as migrations.go
// creates them (a test checks that the two agree): what LoadFollows drops
// and FinishLoad builds again.
var followIndexes = []struct{ name, columns string }{
	{"follows_followers_by_id", "followee, follower"},
	{"follows_followers_recent", "followee, since, follower"},
}

// indexBuildThreads is how many helper threads SQLite's sorter may use
// while FinishLoad builds the indexes; more than the cores would only
// contend.
var indexBuildThreads = min(4, runtime.GOMAXPROCS(0))

// Multi-row inserts: rowsPer rows of width columns per full statement. The
// numbers keep a statement under SQLite's 32766 parameters and its text
// short. They are prepared per batch rather than in Open, where every
// statement is checked to use an index (plans_test.go) and a VALUES list
// is a scan of its own rows; one preparation per batch of thousands of
// rows costs nothing.
var (
	// A taken login inserts nothing and so returns no row; the caller
	// compares what came back with what it sent.
	loadUsersInsert = newMultiInsert(`INSERT INTO users (login, login_lower, name, signup) VALUES`, 4, 200,
		`ON CONFLICT (login_lower) DO NOTHING RETURNING id, login_lower`)
	loadPasswordsInsert = newMultiInsert(`INSERT INTO passwords (uid, hash) VALUES`, 2, 400, ``)
	loadFollowsInsert   = newMultiInsert(`INSERT INTO follows (follower, followee, since) VALUES`, 3, 300,
		`ON CONFLICT (follower, followee) DO NOTHING`)
)

// multiInsert is an INSERT of many rows given as one flat argument list.
type multiInsert struct {
	head, tail string
	width      int    // columns per row
	rowsPer    int    // rows per full statement
	full       string // the statement of rowsPer rows
}

func newMultiInsert(head string, width, rowsPer int, tail string) multiInsert {
	m := multiInsert{head: head, tail: tail, width: width, rowsPer: rowsPer}
	m.full = m.text(rowsPer)
	return m
}

// text returns the statement for n rows.
func (m multiInsert) text(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", m.width), ",") + ")"
	return m.head + " " + strings.TrimSuffix(strings.Repeat(row+",", n), ",") + " " + m.tail
}

// run inserts the rows of args, a statement at a time, and hands each
// statement's result rows (of RETURNING) to scan, when given.
func (m multiInsert) run(tx *wtx, args []any, scan func(*sql.Rows) error) error {
	step := m.rowsPer * m.width
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for from := 0; from < len(args); from += step {
		part := args[from:min(from+step, len(args))]
		var stmt *sql.Stmt
		var err error
		if len(part) == step {
			if full == nil {
				if full, err = tx.tx.PrepareContext(tx.ctx, m.full); err != nil {
					return err
				}
			}
			stmt = full
		} else {
			if stmt, err = tx.tx.PrepareContext(tx.ctx, m.text(len(part)/m.width)); err != nil {
				return err
			}
			defer stmt.Close()
		}
		if scan == nil {
			if _, err := stmt.ExecContext(tx.ctx, part...); err != nil {
				return err
			}
			continue
		}
		rows, err := stmt.QueryContext(tx.ctx, part...)
		if err != nil {
			return err
		}
		err = scan(rows)
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// The statements below read whole tables by design, so they are prepared
// when used rather than in Open, where every statement must pass the
// check that it uses an index (plans_test.go).
const (
	sqlNoFollows = `SELECT NOT EXISTS (SELECT 1 FROM follows)`
	// Counts from the sets: the users whose count differs from their
	// set's size, then those with a count and no set at all. GROUP BY
	// walks an index led by the grouped column, so each statement reads
	// each set once.
	sqlRecountFollowers = `
UPDATE users SET followers = c.n
FROM (SELECT followee AS uid, count(*) AS n FROM follows GROUP BY followee) AS c
WHERE users.id = c.uid AND users.followers <> c.n`
	sqlRecountFollowing = `
UPDATE users SET following = c.n
FROM (SELECT follower AS uid, count(*) AS n FROM follows GROUP BY follower) AS c
WHERE users.id = c.uid AND users.following <> c.n`
	sqlZeroFollowers = `
UPDATE users SET followers = 0
WHERE followers <> 0 AND NOT EXISTS (SELECT 1 FROM follows WHERE followee = users.id)`
	sqlZeroFollowing = `
UPDATE users SET following = 0
WHERE following <> 0 AND NOT EXISTS (SELECT 1 FROM follows WHERE follower = users.id)`
)

// LoadUsers creates users with the next ids in one transaction and returns
// their ids. A taken login (in the store or earlier in users) rolls back
// the whole batch.
func (db *DB) LoadUsers(ctx context.Context, users []social.NewUser) ([]social.UserID, error) {
	if len(users) == 0 {
		return []social.UserID{}, nil
	}
	args := make([]any, 0, loadUsersInsert.width*len(users))
	for _, u := range users {
		args = append(args, u.Login, strings.ToLower(u.Login), u.Name, millis(u.Signup))
	}
	ids := make([]social.UserID, len(users))
	err := db.write(ctx, "load users", func(tx *wtx) error {
		idOf := make(map[string]social.UserID, len(users))
		err := loadUsersInsert.run(tx, args, func(rows *sql.Rows) error {
			for rows.Next() {
				var id social.UserID
				var lower string
				if err := rows.Scan(&id, &lower); err != nil {
					return err
				}
				idOf[lower] = id
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		if len(idOf) < len(users) {
			return takenLogin(users, idOf)
		}
		passwords := make([]any, 0, loadPasswordsInsert.width*len(users))
		for i, u := range users {
			ids[i] = idOf[strings.ToLower(u.Login)]
			passwords = append(passwords, ids[i], u.PasswordHash)
		}
		return loadPasswordsInsert.run(tx, passwords, nil)
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// takenLogin names the first login of users that was not inserted: taken
// in the store, or earlier in users in some letter case.
func takenLogin(users []social.NewUser, inserted map[string]social.UserID) error {
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		lower := strings.ToLower(u.Login)
		if seen[lower] {
			return fmt.Errorf("login %q appears twice: %w", u.Login, social.ErrLoginTaken)
		}
		seen[lower] = true
		if _, ok := inserted[lower]; !ok {
			return fmt.Errorf("login %q: %w", u.Login, social.ErrLoginTaken)
		}
	}
	return fmt.Errorf("sqlite: load users: %d of %d users inserted", len(inserted), len(users))
}

// LoadFollows adds follows in one transaction. The foreign keys make a
// follow of a missing user fail the batch.
func (db *DB) LoadFollows(ctx context.Context, follows []seed.Follow) error {
	if len(follows) == 0 {
		return nil
	}
	args := make([]any, 0, loadFollowsInsert.width*len(follows))
	for _, f := range follows {
		if f.Follower == f.Followee {
			return fmt.Errorf("sqlite: load follows: user %d: %w", f.Follower, social.ErrFollowSelf)
		}
		args = append(args, f.Follower, f.Followee, millis(f.At))
	}
	return db.write(ctx, "load follows", func(tx *wtx) error {
		var empty bool
		if err := tx.tx.QueryRowContext(ctx, sqlNoFollows).Scan(&empty); err != nil {
			return err
		}
		if empty {
			for _, ix := range followIndexes {
				if _, err := tx.tx.ExecContext(ctx, "DROP INDEX IF EXISTS "+ix.name); err != nil {
					return err
				}
			}
		}
		return loadFollowsInsert.run(tx, args, nil)
	})
}

// FinishLoad builds the follows indexes LoadFollows dropped, then sets
// every user's counts from the follows table, in one transaction, so that
// no reader sees some counts set and others not.
func (db *DB) FinishLoad(ctx context.Context) error {
	const op = "finish load"
	// The settings below belong to a connection, so the one writer
	// connection is held from the first to the last.
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return db.fail(op, err)
	}
	defer conn.Close()
	// Building an index sorts the whole table. The writer keeps temporary
	// data in memory (temp_store), which would hold a sort of a hundred
	// million follows in RAM; for the builds the sorter spills to
	// temporary files instead, and may use helper threads. temp_store
	// cannot change inside a transaction, hence before BEGIN.
	for _, pragma := range []string{"PRAGMA temp_store = FILE", fmt.Sprintf("PRAGMA threads = %d", indexBuildThreads)} {
		if _, err := conn.ExecContext(ctx, pragma); err != nil {
			return db.fail(op, err)
		}
	}
	defer func() {
		restore := context.WithoutCancel(ctx)
		conn.ExecContext(restore, "PRAGMA temp_store = MEMORY")
		conn.ExecContext(restore, "PRAGMA threads = 0")
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return db.fail(op, err)
	}
	defer tx.Rollback()
	for _, ix := range followIndexes {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON follows(%s)", ix.name, ix.columns)); err != nil {
			return db.fail(op, err)
		}
	}
	for _, q := range []string{sqlRecountFollowers, sqlRecountFollowing, sqlZeroFollowers, sqlZeroFollowing} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return db.fail(op, err)
		}
	}
	return db.fail(op, tx.Commit())
}
