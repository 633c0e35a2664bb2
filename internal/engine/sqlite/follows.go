package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// followerChunkDefault is the chunk size FollowerChunk uses when asked for
// none.
const followerChunkDefault = 1000

var (
	qUsersExist = writeQuery(`SELECT count(*) FROM users WHERE id IN (?1, ?2)`)
	// Counts move by one only when a row really went in or out, inside the
	// same transaction, so they always equal the set sizes without
	// counting the sets.
	qInsertFollow = writeQuery(`
INSERT INTO follows (follower, followee, since) VALUES (?, ?, ?)
ON CONFLICT (follower, followee) DO NOTHING`)
	qDeleteFollow      = writeQuery(`DELETE FROM follows WHERE follower = ? AND followee = ?`)
	qMarkUnfollow      = writeQuery(`INSERT OR REPLACE INTO unfollow_marks (followee, follower, at) VALUES (?2, ?1, ?3)`)
	qUnmarkUnfollow    = writeQuery(`DELETE FROM unfollow_marks WHERE follower = ? AND followee = ?`)
	qExpireUnfollows   = writeQuery(`DELETE FROM unfollow_marks WHERE at < ?`)
	qUnfollowedBy      = writeQuery(`SELECT follower FROM unfollow_marks WHERE followee = ?`)
	qAddFollowingCount = writeQuery(`UPDATE users SET following = following + ?2 WHERE id = ?1`)
	qAddFollowerCount  = writeQuery(`UPDATE users SET followers = followers + ?2 WHERE id = ?1`)

	qFollowers = readQuery(`
SELECT follower FROM follows WHERE followee = ? ORDER BY since DESC, follower DESC LIMIT ? OFFSET ?`)
	qFollowing = readQuery(`
SELECT followee FROM follows WHERE follower = ? ORDER BY since DESC, followee DESC LIMIT ? OFFSET ?`)
	qFollowerChunk = readQuery(`
SELECT follower FROM follows WHERE followee = ? AND follower > ? ORDER BY follower LIMIT ?`)
)

// Follow makes user a follow user b at time at and copies b's newest h
// statuses into a's home timeline, trimmed to h. It reports false and
// changes nothing when a already follows b.
func (db *DB) Follow(ctx context.Context, a, b social.UserID, at time.Time) (bool, error) {
	h := db.opts.TimelineSize
	if a == b {
		return false, social.ErrFollowSelf
	}
	followed := false
	err := db.write(ctx, "follow", func(tx *wtx) error {
		var found int
		if err := tx.queryRow(qUsersExist, a, b).Scan(&found); err != nil {
			return err
		}
		if found != 2 {
			return social.ErrUserNotFound
		}
		n, err := tx.execCount(qInsertFollow, a, b, millis(at))
		if err != nil || n == 0 {
			return err
		}
		followed = true
		if _, err := tx.exec(qUnmarkUnfollow, a, b); err != nil {
			return err
		}
		if err := tx.addFollowCounts(a, b, 1); err != nil {
			return err
		}
		return tx.copyNewest(storedHome, int64(a), int64(b), h)
	})
	return followed, err
}

// Unfollow makes a stop following b, removes b's statuses from a's home
// timeline and, when that leaves it short, enqueues refill in the same
// transaction. It reports false when a did not follow b.
func (db *DB) Unfollow(ctx context.Context, a, b social.UserID, refill jobs.NewJob) (bool, error) {
	h := db.opts.TimelineSize
	unfollowed := false
	err := db.write(ctx, "unfollow", func(tx *wtx) error {
		n, err := tx.execCount(qDeleteFollow, a, b)
		if err != nil || n == 0 {
			return err
		}
		unfollowed = true
		now := time.Now()
		if _, err := tx.exec(qMarkUnfollow, a, b, millis(now)); err != nil {
			return err
		}
		if _, err := tx.exec(qExpireUnfollows, millis(now.Add(-social.RecentUnfollowTTL))); err != nil {
			return err
		}
		if err := tx.addFollowCounts(a, b, -1); err != nil {
			return err
		}
		size, err := tx.purgeAuthor(storedHome, int64(a), int64(b), h)
		if err != nil {
			return err
		}
		if social.NeedsRefill(size, h) {
			return tx.enqueue(refill)
		}
		return nil
	})
	return unfollowed, err
}

func (tx *wtx) addFollowCounts(a, b social.UserID, delta int) error {
	if _, err := tx.exec(qAddFollowingCount, a, delta); err != nil {
		return err
	}
	_, err := tx.exec(qAddFollowerCount, b, delta)
	return err
}

// Followers returns a page of the ids of uid's followers, most recent
// first. Page.MaxID does not apply to follower lists and is ignored.
func (db *DB) Followers(ctx context.Context, uid social.UserID, p social.Page) ([]social.UserID, error) {
	return readIDs[social.UserID](ctx, db, "followers", qFollowers, uid, pageCount(p), p.Offset())
}

// Following returns a page of the ids of those uid follows, most recent
// first.
func (db *DB) Following(ctx context.Context, uid social.UserID, p social.Page) ([]social.UserID, error) {
	return readIDs[social.UserID](ctx, db, "following", qFollowing, uid, pageCount(p), p.Offset())
}

// FollowerChunk returns up to limit follower ids of uid in increasing id
// order after cursor, the last id returned. A follow made behind the
// cursor during a walk is missed and an unfollow ahead of it is seen, but
// no follower present throughout is skipped or returned twice.
func (db *DB) FollowerChunk(ctx context.Context, uid social.UserID, cursor string, limit int) ([]social.UserID, string, error) {
	if limit <= 0 {
		limit = followerChunkDefault
	}
	after := int64(0)
	if cursor != "" {
		var err error
		after, err = strconv.ParseInt(cursor, 10, 64)
		if err != nil || after < 0 {
			return nil, "", fmt.Errorf("sqlite: follower chunk: malformed cursor %q", cursor)
		}
	}
	// One more than asked tells whether another chunk follows, so the walk
	// ends without an extra empty read.
	ids, err := readIDs[social.UserID](ctx, db, "follower chunk", qFollowerChunk, uid, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(ids) <= limit {
		return ids, "", nil
	}
	ids = ids[:limit]
	return ids, strconv.FormatInt(int64(ids[limit-1]), 10), nil
}

func pageCount(p social.Page) int {
	if p.Count <= 0 {
		return social.DefaultCount
	}
	return p.Count
}
