package redis

import (
	"context"

	"starling/internal/social"
)

// Suspended users are the members of one set, suspended. Users are never
// deleted, so checking that the user exists and then changing the set need
// not be one step.

// SetSuspended suspends user id or lifts its suspension.
func (e *Engine) SetSuspended(ctx context.Context, id social.UserID, suspended bool) error {
	const op = "setting a suspension"
	n, err := e.client.Do(ctx, e.client.B().Exists().Key(e.userKey(id)).Build()).AsInt64()
	if err != nil {
		return e.fail(op, err)
	}
	if n == 0 {
		return social.ErrUserNotFound
	}
	member := id10(id)
	cmd := e.client.B().Srem().Key(e.suspendedKey()).Member(member).Build()
	if suspended {
		cmd = e.client.B().Sadd().Key(e.suspendedKey()).Member(member).Build()
	}
	if err := e.client.Do(ctx, cmd).Error(); err != nil {
		return e.fail(op, err)
	}
	return nil
}

// SuspendedUsers returns the members of the suspended set.
func (e *Engine) SuspendedUsers(ctx context.Context) ([]social.UserID, error) {
	const op = "reading the suspended users"
	members, err := e.client.Do(ctx, e.client.B().Smembers().Key(e.suspendedKey()).Build()).AsStrSlice()
	if err != nil {
		return nil, e.fail(op, err)
	}
	ids := make([]social.UserID, 0, len(members))
	for _, m := range members {
		id, err := parseID[social.UserID](op, m)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}
