package social

import (
	"context"
	"errors"
)

// ErrWrongPassword refuses a password change whose current password is
// wrong.
var ErrWrongPassword = errors.New("social: wrong current password")

// LogoutEverywhere revokes every session token of user uid. Once it
// returns, Caller refuses them in this process; other processes refuse
// them within their SessionCacheTTL.
func (s *Service) LogoutEverywhere(ctx context.Context, uid UserID) error {
	err := s.store.DeleteTokensOf(ctx, uid, nil)
	// Forgotten also when the store failed, as in Logout.
	s.sessions.revokeUser(uid)
	return err
}

// ChangePassword replaces the password of the caller of token, who must
// give the current password, and revokes every other session token of
// theirs; token itself stays valid. The current password is checked like a
// login (one hash in a hashing slot), and a wrong one gets
// ErrWrongPassword.
func (s *Service) ChangePassword(ctx context.Context, token, current, next string) error {
	c, err := s.Caller(ctx, token)
	if err != nil {
		return err
	}
	if err := validatePassword(next); err != nil {
		return &ValidationError{Field: "new", Reason: lengthReason(MinPasswordLen, MaxPasswordLen)}
	}
	hash, err := s.store.PasswordHash(ctx, c.ID)
	if errors.Is(err, ErrUserNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return err
	}
	if ok, err := s.passwordMatches(ctx, hash, current[:min(len(current), 4*MaxPasswordLen)]); err != nil {
		return err
	} else if !ok {
		return ErrWrongPassword
	}
	var newHash string
	var hashErr error
	if err := s.withHashSlot(ctx, func() { newHash, hashErr = HashPassword(next, s.cfg.Password) }); err != nil {
		return err
	}
	if hashErr != nil {
		return hashErr
	}
	err = s.store.SetPassword(ctx, c.ID, newHash, hashToken(token))
	s.sessions.revokeUser(c.ID)
	return err
}
