package server

import (
	"context"
	"errors"
	"fmt"

	"starling/internal/social"
)

// resolveAdmins turns the --admins logins into user ids, once, at start. A
// login is a name anyone may register while it is free, so a listed login
// without an account is refused: otherwise whoever registered it first
// (in any letter case) would be an admin. Every serving process resolves
// the list itself, so processes sharing one Redis agree as long as they
// are given the same list.
func resolveAdmins(ctx context.Context, svc *social.Service, logins []string) ([]social.UserID, error) {
	ids := make([]social.UserID, 0, len(logins))
	for _, login := range logins {
		u, err := svc.User(ctx, login)
		if errors.Is(err, social.ErrUserNotFound) {
			return nil, fmt.Errorf("server: --admins names %q, which has no account: register it first (starting without it in --admins), then restart with it", login)
		}
		if err != nil {
			return nil, fmt.Errorf("server: resolving --admins %q: %w", login, err)
		}
		ids = append(ids, u.ID)
	}
	return ids, nil
}
