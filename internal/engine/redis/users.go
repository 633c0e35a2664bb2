package redis

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/social"
)

// userFields are the fields of a user:<uid> hash that make a social.User,
// in the order parseUser reads them. The password hash is not among them:
// it lives in user:<uid>:auth, which only PasswordHash reads.
var userFields = []string{"login", "name", "followers", "following", "posts", "signup"}

// CreateUser takes the next user id and claims the login in one script
// (lua/create_user.lua). An id taken by a registration that then loses the
// race for its login is not reused, so ids may skip; they still only grow.
func (e *Engine) CreateUser(ctx context.Context, u social.NewUser) (social.User, error) {
	n, err := e.client.Do(ctx, e.client.B().Incr().Key(e.userIDCounterKey()).Build()).AsInt64()
	if err != nil {
		return social.User{}, e.fail("taking a user id", err)
	}
	uid := social.UserID(n)
	keys := []string{e.loginIndexKey(), e.userKey(uid), e.authKey(uid)}
	args := []string{strings.ToLower(u.Login), id10(uid), u.Login, u.Name, ms(u.Signup), u.PasswordHash}
	if _, err := e.runScript(ctx, "creating a user", e.lua.createUser, keys, args); err != nil {
		return social.User{}, err
	}
	return social.User{ID: uid, Login: u.Login, Name: u.Name, Signup: u.Signup.UTC().Truncate(time.Millisecond)}, nil
}

// User returns user id.
func (e *Engine) User(ctx context.Context, id social.UserID) (social.User, error) {
	users, err := e.Users(ctx, []social.UserID{id})
	if err != nil {
		return social.User{}, err
	}
	if len(users) == 0 {
		return social.User{}, social.ErrUserNotFound
	}
	return users[0], nil
}

// UserByLogin looks the login up in the users: index, then reads the user.
func (e *Engine) UserByLogin(ctx context.Context, login string) (social.User, error) {
	uid, err := e.client.Do(ctx, e.client.B().Hget().Key(e.loginIndexKey()).Field(strings.ToLower(login)).Build()).AsInt64()
	if rueidis.IsRedisNil(err) {
		return social.User{}, social.ErrUserNotFound
	}
	if err != nil {
		return social.User{}, e.fail("looking up a login", err)
	}
	return e.User(ctx, social.UserID(uid))
}

// Users reads the users in one pipelined round trip.
func (e *Engine) Users(ctx context.Context, ids []social.UserID) ([]social.User, error) {
	if len(ids) == 0 {
		return []social.User{}, nil
	}
	cmds := make(rueidis.Commands, len(ids))
	for i, id := range ids {
		cmds[i] = e.client.B().Hmget().Key(e.userKey(id)).Field(userFields...).Build()
	}
	users := make([]social.User, 0, len(ids))
	for i, res := range e.client.DoMulti(ctx, cmds...) {
		vals, ok, err := hmget(res)
		if err != nil {
			return nil, e.fail("reading users", err)
		}
		if !ok {
			continue
		}
		u, err := parseUser(ids[i], vals)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

func parseUser(id social.UserID, v []string) (social.User, error) {
	const op = "reading a user"
	u := social.User{ID: id, Login: v[0], Name: v[1]}
	var err error
	for i, dst := range []*int64{&u.Followers, &u.Following, &u.Posts} {
		if *dst, err = parseInt(op, v[2+i]); err != nil {
			return social.User{}, err
		}
	}
	if u.Signup, err = fromMS(op, v[5]); err != nil {
		return social.User{}, err
	}
	return u, nil
}

// PasswordHash reads user:<uid>:auth.
func (e *Engine) PasswordHash(ctx context.Context, id social.UserID) (string, error) {
	hash, err := e.client.Do(ctx, e.client.B().Get().Key(e.authKey(id)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", social.ErrUserNotFound
	}
	if err != nil {
		return "", e.fail("reading a password hash", err)
	}
	return hash, nil
}

// CreateToken stores a token as "uid created-ms expires-ms" under
// token:<hex hash>, expiring with it so that Redis forgets stale sessions.
// A zero Expires (stored as 0) never expires. The token's hash also goes
// into user:<uid>:tokens (a sorted set scored by expiry, pruned of expired
// tokens here), which DeleteTokensOf reads; it is written first, so that a
// token is never stored without being listed there.
func (e *Engine) CreateToken(ctx context.Context, t social.Token) error {
	var expires int64
	score := math.Inf(1)
	if !t.Expires.IsZero() {
		expires = t.Expires.UnixMilli()
		score = float64(expires)
	}
	index := e.userTokensKey(t.UID)
	member := fmt.Sprintf("%x", t.Hash)
	value := fmt.Sprintf("%d %d %d", t.UID, t.Created.UnixMilli(), expires)
	set := e.client.B().Set().Key(e.tokenKey(t.Hash)).Value(value)
	var cmd rueidis.Completed
	if t.Expires.IsZero() {
		cmd = set.Build()
	} else {
		cmd = set.Pxat(t.Expires).Build()
	}
	for _, r := range e.client.DoMulti(ctx,
		e.client.B().Zremrangebyscore().Key(index).Min("-inf").Max("("+strconv.FormatInt(t.Created.UnixMilli(), 10)).Build(),
		e.client.B().Zadd().Key(index).ScoreMember().ScoreMember(score, member).Build(),
	) {
		if err := r.Error(); err != nil {
			return e.fail("listing a token", err)
		}
	}
	if err := e.client.Do(ctx, cmd).Error(); err != nil {
		return e.fail("storing a token", err)
	}
	return nil
}

// TokenByHash returns a token that has not expired by now. The key's own
// expiry only tidies up; now decides.
func (e *Engine) TokenByHash(ctx context.Context, hash []byte, now time.Time) (social.Token, error) {
	value, err := e.client.Do(ctx, e.client.B().Get().Key(e.tokenKey(hash)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return social.Token{}, social.ErrInvalidToken
	}
	if err != nil {
		return social.Token{}, e.fail("reading a token", err)
	}
	var uid, created, expires int64
	if _, err := fmt.Sscanf(value, "%d %d %d", &uid, &created, &expires); err != nil {
		return social.Token{}, fmt.Errorf("redis: reading a token: malformed record: %w", err)
	}
	t := social.Token{
		Hash:    append([]byte(nil), hash...),
		UID:     social.UserID(uid),
		Created: time.UnixMilli(created).UTC(),
	}
	if expires != 0 {
		t.Expires = time.UnixMilli(expires).UTC()
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return social.Token{}, social.ErrInvalidToken
	}
	return t, nil
}

// DeleteToken removes a token.
func (e *Engine) DeleteToken(ctx context.Context, hash []byte) error {
	if err := e.client.Do(ctx, e.client.B().Del().Key(e.tokenKey(hash)).Build()).Error(); err != nil {
		return e.fail("deleting a token", err)
	}
	return nil
}

// DeleteTokensOf removes every token listed in user:<uid>:tokens except
// keep. Tokens created while it runs may survive it.
func (e *Engine) DeleteTokensOf(ctx context.Context, uid social.UserID, keep []byte) error {
	index := e.userTokensKey(uid)
	members, err := e.client.Do(ctx, e.client.B().Zrange().Key(index).Min("0").Max("-1").Build()).AsStrSlice()
	if err != nil {
		return e.fail("listing a user's tokens", err)
	}
	kept := fmt.Sprintf("%x", keep)
	cmds := make(rueidis.Commands, 0, 2*len(members))
	for _, m := range members {
		if keep != nil && m == kept {
			continue
		}
		hash, err := hex.DecodeString(m)
		if err != nil {
			continue
		}
		cmds = append(cmds, e.client.B().Del().Key(e.tokenKey(hash)).Build(), e.client.B().Zrem().Key(index).Member(m).Build())
	}
	for _, r := range e.client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return e.fail("deleting a user's tokens", err)
		}
	}
	return nil
}

// SetPassword revokes uid's other tokens, replaces the password hash in
// user:<uid>:auth, and revokes again the tokens a login with the old
// password may have made in between: once it returns, no token but keep
// made before that is valid. A failure half-way leaves tokens revoked and
// the old password, which the caller may try again.
func (e *Engine) SetPassword(ctx context.Context, uid social.UserID, hash string, keep []byte) error {
	if err := e.DeleteTokensOf(ctx, uid, keep); err != nil {
		return err
	}
	err := e.client.Do(ctx, e.client.B().Set().Key(e.authKey(uid)).Value(hash).Xx().Build()).Error()
	if rueidis.IsRedisNil(err) {
		return social.ErrUserNotFound
	}
	if err != nil {
		return e.fail("setting a password hash", err)
	}
	return e.DeleteTokensOf(ctx, uid, keep)
}
