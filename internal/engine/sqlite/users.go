package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"starling/internal/social"
)

const userColumns = `id, login, name, followers, following, posts, signup`

var (
	// The login's uniqueness is decided by the UNIQUE index on login_lower
	// inside the write transaction; a taken login inserts nothing and so
	// returns no id.
	qInsertUser = writeQuery(`
INSERT INTO users (login, login_lower, name, signup) VALUES (?, ?, ?, ?)
ON CONFLICT (login_lower) DO NOTHING
RETURNING id`)
	qInsertPassword = writeQuery(`INSERT INTO passwords (uid, hash) VALUES (?, ?)`)

	qUser        = readQuery(`SELECT ` + userColumns + ` FROM users WHERE id = ?`)
	qUserByLogin = readQuery(`SELECT ` + userColumns + ` FROM users WHERE login_lower = ?`)
	qUsers       = readQuery(`SELECT ` + userColumns + ` FROM users WHERE id IN (SELECT value FROM json_each(?))`)
	qPassword    = readQuery(`SELECT hash FROM passwords WHERE uid = ?`)

	qInsertToken = writeQuery(`INSERT INTO tokens (hash, uid, created, expires) VALUES (?, ?, ?, ?)`)
	// A few expired tokens go with each new one, so the table does not
	// grow with every session ever opened and no sweeper is needed.
	qPruneTokens = writeQuery(`
DELETE FROM tokens WHERE hash IN (SELECT hash FROM tokens WHERE expires <= ? LIMIT 16)`)
	qToken       = readQuery(`SELECT uid, created, expires FROM tokens WHERE hash = ? AND expires > ?`)
	qDeleteToken = writeQuery(`DELETE FROM tokens WHERE hash = ?`)
	// A nil keep (NULL) matches no hash, so every token goes.
	qDeleteTokensOf = writeQuery(`DELETE FROM tokens WHERE uid = ?1 AND hash IS NOT ?2`)
	qSetPassword    = writeQuery(`UPDATE passwords SET hash = ? WHERE uid = ?`)
)

// CreateUser adds a user with the next user id, or returns
// social.ErrLoginTaken when the login is taken in any letter case.
func (db *DB) CreateUser(ctx context.Context, u social.NewUser) (social.User, error) {
	user := social.User{Login: u.Login, Name: u.Name, Signup: fromMillis(millis(u.Signup))}
	err := db.write(ctx, "create user", func(tx *wtx) error {
		err := tx.queryRow(qInsertUser, u.Login, strings.ToLower(u.Login), u.Name, millis(u.Signup)).Scan(&user.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return social.ErrLoginTaken
		}
		if err != nil {
			return err
		}
		_, err = tx.exec(qInsertPassword, user.ID, u.PasswordHash)
		return err
	})
	if err != nil {
		return social.User{}, err
	}
	return user, nil
}

// User returns user id, or social.ErrUserNotFound.
func (db *DB) User(ctx context.Context, id social.UserID) (social.User, error) {
	u, err := scanUser(db.readRow(ctx, qUser, id))
	return u, db.fail("user", err)
}

// UserByLogin finds a user case-insensitively, or returns
// social.ErrUserNotFound.
func (db *DB) UserByLogin(ctx context.Context, login string) (social.User, error) {
	u, err := scanUser(db.readRow(ctx, qUserByLogin, strings.ToLower(login)))
	return u, db.fail("user by login", err)
}

// Users returns the users with the given ids in that order, skipping ids
// that name no user.
func (db *DB) Users(ctx context.Context, ids []social.UserID) ([]social.User, error) {
	if len(ids) == 0 {
		return []social.User{}, nil
	}
	rows, err := db.readRows(ctx, qUsers, jsonIDs(ids))
	if err != nil {
		return nil, db.fail("users", err)
	}
	defer rows.Close()
	byID := make(map[social.UserID]social.User, len(ids))
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, db.fail("users", err)
		}
		byID[u.ID] = u
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("users", err)
	}
	users := make([]social.User, 0, len(ids))
	for _, id := range ids {
		if u, ok := byID[id]; ok {
			users = append(users, u)
		}
	}
	return users, nil
}

// PasswordHash returns user id's password hash, or social.ErrUserNotFound.
func (db *DB) PasswordHash(ctx context.Context, id social.UserID) (string, error) {
	var hash string
	err := db.readRow(ctx, qPassword, id).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", social.ErrUserNotFound
	}
	return hash, db.fail("password hash", err)
}

// CreateToken stores a session token.
func (db *DB) CreateToken(ctx context.Context, t social.Token) error {
	return db.write(ctx, "create token", func(tx *wtx) error {
		if _, err := tx.exec(qPruneTokens, millis(t.Created)); err != nil {
			return err
		}
		_, err := tx.exec(qInsertToken, t.Hash, t.UID, millis(t.Created), millis(t.Expires))
		return err
	})
}

// TokenByHash returns the token with that hash, or social.ErrInvalidToken
// when there is none or it has expired by now.
func (db *DB) TokenByHash(ctx context.Context, hash []byte, now time.Time) (social.Token, error) {
	t := social.Token{Hash: hash}
	var created, expires int64
	err := db.readRow(ctx, qToken, hash, millis(now)).Scan(&t.UID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return social.Token{}, social.ErrInvalidToken
	}
	if err != nil {
		return social.Token{}, db.fail("token", err)
	}
	t.Created, t.Expires = fromMillis(created), fromMillis(expires)
	return t, nil
}

// DeleteToken removes a token; removing a missing one is not an error.
func (db *DB) DeleteToken(ctx context.Context, hash []byte) error {
	return db.write(ctx, "delete token", func(tx *wtx) error {
		_, err := tx.exec(qDeleteToken, hash)
		return err
	})
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner) (social.User, error) {
	var u social.User
	var signup int64
	err := s.Scan(&u.ID, &u.Login, &u.Name, &u.Followers, &u.Following, &u.Posts, &signup)
	if errors.Is(err, sql.ErrNoRows) {
		return social.User{}, social.ErrUserNotFound
	}
	if err != nil {
		return social.User{}, err
	}
	u.Signup = fromMillis(signup)
	return u, nil
}

// jsonIDs encodes ids as a JSON array, the one parameter through which a
// prepared statement takes a list (by way of json_each).
func jsonIDs[ID ~int64](ids []ID) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return string(append(b, ']'))
}

// DeleteTokensOf removes every token of uid except keep.
func (db *DB) DeleteTokensOf(ctx context.Context, uid social.UserID, keep []byte) error {
	return db.write(ctx, "delete tokens of a user", func(tx *wtx) error {
		_, err := tx.exec(qDeleteTokensOf, uid, keep)
		return err
	})
}

// SetPassword replaces uid's password hash and removes every token of uid
// except keep, in one transaction.
func (db *DB) SetPassword(ctx context.Context, uid social.UserID, hash string, keep []byte) error {
	return db.write(ctx, "set password", func(tx *wtx) error {
		n, err := tx.execCount(qSetPassword, hash, uid)
		if err != nil {
			return err
		}
		if n == 0 {
			return social.ErrUserNotFound
		}
		_, err = tx.exec(qDeleteTokensOf, uid, keep)
		return err
	})
}
