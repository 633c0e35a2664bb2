package sqlite

import (
	"context"
	"fmt"
)

// migration is one step of the schema's history. Steps are applied in
// order, each in its own transaction together with the PRAGMA user_version
// that records it, so a crash leaves the schema at a whole step. A step,
// once released, never changes: later changes are new steps appended to
// migrations.
type migration struct {
	name string
	sql  string
}

// Timeline kinds as stored in timeline_entries.kind. They are part of the
// file format, hence their own constants rather than social.TimelineKind.
const (
	storedHome = 1
	storedList = 2
)

var migrations = []migration{
	{"initial schema", `
CREATE TABLE users (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	login       TEXT    NOT NULL, -- as typed at signup
	login_lower TEXT    NOT NULL, -- what makes logins unique in any letter case
	name        TEXT    NOT NULL,
	followers   INTEGER NOT NULL DEFAULT 0,
	following   INTEGER NOT NULL DEFAULT 0,
	posts       INTEGER NOT NULL DEFAULT 0,
	signup      INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_login_lower ON users(login_lower);

-- Password hashes live apart from users so that no query reading a
-- profile can return one by accident.
CREATE TABLE passwords (
	uid  INTEGER PRIMARY KEY REFERENCES users(id),
	hash TEXT    NOT NULL
);

CREATE TABLE tokens (
	hash    BLOB    PRIMARY KEY,
	uid     INTEGER NOT NULL REFERENCES users(id),
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_expires ON tokens(expires);
CREATE INDEX tokens_uid ON tokens(uid);

-- AUTOINCREMENT keeps ids strictly increasing even after the newest status
-- is deleted; a reused id would let stale timeline entries and late
-- cleanup jobs hit the wrong status.
CREATE TABLE statuses (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	uid     INTEGER NOT NULL REFERENCES users(id),
	login   TEXT    NOT NULL,
	message TEXT    NOT NULL,
	posted  INTEGER NOT NULL,
	lat     REAL,
	lon     REAL
);
-- Also the profile timeline: a user's statuses newest first.
CREATE INDEX statuses_uid ON statuses(uid, id);

-- Home and list timelines. Entries may outlive their status until a
-- cleanup job purges them; reads skip them.
CREATE TABLE timeline_entries (
	kind  INTEGER NOT NULL,
	owner INTEGER NOT NULL, -- user id for a home, list id for a list
	sid   INTEGER NOT NULL,
	PRIMARY KEY (kind, owner, sid)
) WITHOUT ROWID;

-- Entry counts per timeline, kept by the triggers below, so that trimming
-- to the timeline size after an insert is a lookup and an index seek to
-- the oldest entry rather than a count of the whole timeline.
CREATE TABLE timeline_sizes (
	kind  INTEGER NOT NULL,
	owner INTEGER NOT NULL,
	size  INTEGER NOT NULL,
	PRIMARY KEY (kind, owner)
) WITHOUT ROWID;

CREATE TRIGGER timeline_entries_counted_in AFTER INSERT ON timeline_entries BEGIN
	INSERT INTO timeline_sizes(kind, owner, size) VALUES (NEW.kind, NEW.owner, 1)
	ON CONFLICT (kind, owner) DO UPDATE SET size = size + 1;
END;
CREATE TRIGGER timeline_entries_counted_out AFTER DELETE ON timeline_entries BEGIN
	UPDATE timeline_sizes SET size = size - 1 WHERE kind = OLD.kind AND owner = OLD.owner;
END;

CREATE TABLE follows (
	follower INTEGER NOT NULL REFERENCES users(id),
	followee INTEGER NOT NULL REFERENCES users(id),
	since    INTEGER NOT NULL,
	PRIMARY KEY (follower, followee)
) WITHOUT ROWID;
-- Fan-out walks followers by id: a stable cursor under concurrent changes.
CREATE INDEX follows_followers_by_id ON follows(followee, follower);
CREATE INDEX follows_followers_recent ON follows(followee, since, follower);
CREATE INDEX follows_following_recent ON follows(follower, since, followee);

CREATE TABLE lists (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	uid     INTEGER NOT NULL REFERENCES users(id),
	login   TEXT    NOT NULL,
	name    TEXT    NOT NULL,
	members INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL
);
CREATE INDEX lists_uid ON lists(uid, id);

CREATE TABLE list_members (
	list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
	uid     INTEGER NOT NULL REFERENCES users(id),
	added   INTEGER NOT NULL,
	PRIMARY KEY (list_id, uid)
) WITHOUT ROWID;
CREATE INDEX list_members_uid ON list_members(uid, list_id);
CREATE INDEX list_members_recent ON list_members(list_id, added, uid);

-- A job is claimable from claimable_at on: its run time while it waits,
-- the end of its lease while it is leased (so that an expired lease makes
-- it claimable again without anyone having to notice).
CREATE TABLE jobs (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	kind         TEXT    NOT NULL,
	payload      BLOB,
	enqueued     INTEGER NOT NULL,
	run_at       INTEGER NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	leased_until INTEGER, -- NULL when not leased
	lease        TEXT,    -- token of the current claim
	consumer     TEXT,
	last_error   TEXT,
	claimable_at INTEGER GENERATED ALWAYS AS (coalesce(leased_until, run_at)) VIRTUAL
);
CREATE INDEX jobs_claimable ON jobs(claimable_at, id);

CREATE TABLE dead_jobs (
	id       INTEGER PRIMARY KEY, -- the job's id in jobs
	kind     TEXT    NOT NULL,
	payload  BLOB,
	attempts INTEGER NOT NULL,
	reason   TEXT    NOT NULL,
	died     INTEGER NOT NULL
);
CREATE INDEX dead_jobs_died ON dead_jobs(died, id);
`},
	// Fan-out wrote each entry as a row of timeline_entries and trimmed
	// there: several B-tree writes per entry, each on a leaf page of its
	// own timeline, so a fan-out to a thousand timelines put a thousand
	// and more pages in the WAL. Timelines now keep their newest ids in a
	// short text in their timelines row (many rows to a page) and move
	// them, flushAt at a time, into one row of timeline_blocks; trimming
	// drops whole blocks. See timelines.go.
	{"timeline blocks", `
CREATE TABLE timelines (
	kind    INTEGER NOT NULL,
	owner   INTEGER NOT NULL,
	-- The timeline size h of the latest write: reads show the newest keep
	-- ids. NULL for timelines last written before this step, which were
	-- trimmed exactly and are shown whole.
	keep    INTEGER,
	stored  INTEGER NOT NULL DEFAULT 0, -- the sum of n over the blocks
	-- At least every id in the blocks; every id in recent is above it.
	top     INTEGER NOT NULL DEFAULT 0,
	head    INTEGER NOT NULL DEFAULT 0, -- at least every id in recent
	pending INTEGER NOT NULL DEFAULT 0, -- how many ids recent holds
	recent  TEXT    NOT NULL DEFAULT '', -- ',' || id for each, any order
	PRIMARY KEY (kind, owner)
) WITHOUT ROWID;
-- The timelines whose recent ids are due to become a block; the 32 is
-- flushAt in timelines.go.
CREATE INDEX timelines_due ON timelines(kind, owner) WHERE pending >= 32;

-- A timeline's blocks cover disjoint ranges of ids: every id of a block
-- lies in [oldest, newest], bounds that stay true (if loose) when ids are
-- removed.
CREATE TABLE timeline_blocks (
	kind   INTEGER NOT NULL,
	owner  INTEGER NOT NULL,
	newest INTEGER NOT NULL,
	oldest INTEGER NOT NULL,
	n      INTEGER NOT NULL, -- how many ids the block holds
	ids    TEXT    NOT NULL, -- ',' || id for each, any order
	PRIMARY KEY (kind, owner, newest)
) WITHOUT ROWID;

INSERT INTO timeline_blocks (kind, owner, newest, oldest, n, ids)
SELECT kind, owner, max(sid), min(sid), count(*), group_concat(',' || sid, '')
FROM (SELECT kind, owner, sid, (row_number() OVER (PARTITION BY kind, owner ORDER BY sid) - 1) / 32 AS block
	FROM timeline_entries)
GROUP BY kind, owner, block;
INSERT INTO timelines (kind, owner, stored, top)
SELECT kind, owner, sum(n), max(newest) FROM timeline_blocks GROUP BY kind, owner;

DROP TRIGGER timeline_entries_counted_in;
DROP TRIGGER timeline_entries_counted_out;
DROP TABLE timeline_sizes;
DROP TABLE timeline_entries;
`},
	{"deployment settings and unfollow marks", `
-- Settings fixed for the life of a deployment, such as the timeline size,
-- recorded by the first process that opens the file and checked by every
-- later one.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- Who unfollowed whom recently (social.RecentUnfollowTTL), and has not
-- followed again: a delivery planned before the unfollow skips them.
CREATE TABLE unfollow_marks (
	followee INTEGER NOT NULL,
	follower INTEGER NOT NULL,
	at       INTEGER NOT NULL,
	PRIMARY KEY (followee, follower)
) WITHOUT ROWID;
CREATE INDEX unfollow_marks_at ON unfollow_marks(at);
`},
	// The retained log of stream events (eventlog.go). AUTOINCREMENT keeps
	// ids consecutive and never reused.
	{"stream event log", `
CREATE TABLE stream_events (
	id    INTEGER PRIMARY KEY AUTOINCREMENT,
	topic TEXT    NOT NULL,
	data  BLOB    NOT NULL
);
`},
	// Chat rooms (chat.go): one log of messages for every room, ids from
	// one counter, and a row per room with its count and last activity.
	{"chat rooms", `
CREATE TABLE chat_messages (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	room   TEXT    NOT NULL,
	body   TEXT    NOT NULL,
	login  TEXT    NOT NULL DEFAULT '', -- '' for an anonymous author
	posted INTEGER NOT NULL
);
CREATE INDEX chat_messages_room ON chat_messages(room, id);

CREATE TABLE chat_rooms (
	name        TEXT    PRIMARY KEY,
	messages    INTEGER NOT NULL, -- rows of chat_messages, so that trimming is not a count
	last_id     INTEGER NOT NULL,
	last_posted INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX chat_rooms_recent ON chat_rooms(last_id);
`},
	{"suspended users and dead jobs by kind", `
-- The users an admin has suspended (social.SuspensionStore).
CREATE TABLE suspended_users (
	uid INTEGER PRIMARY KEY REFERENCES users(id)
);
-- Dead jobs counted by kind for the metrics (StatsByKind).
CREATE INDEX dead_jobs_kind ON dead_jobs(kind);
`},
}

// migrate applies the steps the database has not seen yet.
func (db *DB) migrate(ctx context.Context) error {
	for {
		done, err := db.migrateStep(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next step, or reports that there is none. The
// version is read inside the write transaction, so two processes opening
// one new file at once apply each step once.
func (db *DB) migrateStep(ctx context.Context) (done bool, err error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: opening %s: %w", db.path, err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, fmt.Errorf("sqlite: reading schema version: %w", err)
	}
	switch {
	case version == len(migrations):
		return true, nil
	case version > len(migrations) || version < 0:
		return false, fmt.Errorf("sqlite: %s has schema version %d; this build knows versions up to %d",
			db.path, version, len(migrations))
	}
	m := migrations[version]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("sqlite: migration %d (%s): %w", version+1, m.name, err)
	}
	// PRAGMA takes no parameters; the value is an int formatted here.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+1)); err != nil {
		return false, fmt.Errorf("sqlite: recording migration %d: %w", version+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: committing migration %d: %w", version+1, err)
	}
	db.log.Info("sqlite: schema migrated", "version", version+1, "step", m.name, "path", db.path)
	return false, nil
}
