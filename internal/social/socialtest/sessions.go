package socialtest

import (
	"crypto/sha256"
	"errors"
	"testing"

	"starling/internal/social"
)

var sessionTests = []suiteTest{
	{"StoreDeletesTokensOfOneUser", testDeleteTokensOf},
	{"LogoutEverywhere", testLogoutEverywhere},
	{"ChangePassword", testChangePassword},
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// logins logs login in n times and returns the tokens.
func (e *env) logins(login string, n int) []string {
	e.t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tok, _, err := e.svc.Login(e.ctx, login, password(login))
		if err != nil {
			e.t.Fatalf("Login(%q): %v", login, err)
		}
		tokens[i] = tok
	}
	return tokens
}

// wantTokens checks which tokens the Service accepts.
func (e *env) wantTokens(what string, valid, revoked []string) {
	e.t.Helper()
	for _, tok := range valid {
		if _, err := e.svc.Caller(e.ctx, tok); err != nil {
			e.t.Fatalf("%s: a token that must stay valid was refused: %v", what, err)
		}
	}
	for _, tok := range revoked {
		if _, err := e.svc.Caller(e.ctx, tok); !errors.Is(err, social.ErrInvalidToken) {
			e.t.Fatalf("%s: a revoked token: got %v, want ErrInvalidToken", what, err)
		}
	}
}

func testDeleteTokensOf(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	ada, _ := e.register("ada"), e.register("bob")
	a, b := e.logins("ada", 3), e.logins("bob", 1)
	if err := e.store.DeleteTokensOf(e.ctx, ada.ID, tokenHash(a[1])); err != nil {
		t.Fatalf("DeleteTokensOf keeping one: %v", err)
	}
	for i, tok := range a {
		_, err := e.store.TokenByHash(e.ctx, tokenHash(tok), e.clock.Now())
		if (err == nil) != (i == 1) {
			t.Fatalf("ada's token %d after DeleteTokensOf keeping token 1: err %v", i, err)
		}
	}
	if _, err := e.store.TokenByHash(e.ctx, tokenHash(b[0]), e.clock.Now()); err != nil {
		t.Fatalf("another user's token after DeleteTokensOf: %v", err)
	}
	if err := e.store.DeleteTokensOf(e.ctx, ada.ID, nil); err != nil {
		t.Fatalf("DeleteTokensOf keeping none: %v", err)
	}
	if _, err := e.store.TokenByHash(e.ctx, tokenHash(a[1]), e.clock.Now()); !errors.Is(err, social.ErrInvalidToken) {
		t.Fatalf("the kept token after DeleteTokensOf keeping none: %v, want ErrInvalidToken", err)
	}
	if err := e.store.DeleteTokensOf(e.ctx, ada.ID, nil); err != nil {
		t.Fatalf("DeleteTokensOf with no tokens left: %v", err)
	}
	if err := e.store.SetPassword(e.ctx, 1<<40, "x", nil); !errors.Is(err, social.ErrUserNotFound) {
		t.Fatalf("SetPassword of a missing user: %v, want ErrUserNotFound", err)
	}
}

// Signing out everywhere refuses every token of the user at once in this
// process, even tokens its session cache had just vouched for.
func testLogoutEverywhere(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	ada, _ := e.register("ada"), e.register("bob")
	a, b := e.logins("ada", 3), e.logins("bob", 1)
	e.wantTokens("before", append(a, b...), nil) // and cached
	if err := e.svc.LogoutEverywhere(e.ctx, ada.ID); err != nil {
		t.Fatalf("LogoutEverywhere: %v", err)
	}
	e.wantTokens("after LogoutEverywhere", b, a)
	fresh := e.logins("ada", 1)
	e.wantTokens("a login after LogoutEverywhere", fresh, nil)
}

// Changing the password needs the current one, revokes every other token
// of the user at once (cached or not), keeps the one it was made with, and
// replaces the password used to log in.
func testChangePassword(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	e.register("ada")
	e.register("bob")
	a, b := e.logins("ada", 3), e.logins("bob", 1)
	e.wantTokens("before", append(a, b...), nil)
	const next = "a brand new password"

	err := e.svc.ChangePassword(e.ctx, a[0], "not her password", next)
	wantErr(t, "ChangePassword with a wrong current password", err, social.ErrWrongPassword)
	var ve *social.ValidationError
	if err := e.svc.ChangePassword(e.ctx, a[0], password("ada"), "short"); !errors.As(err, &ve) || ve.Field != "new" {
		t.Fatalf("ChangePassword to a too short password: %v, want a ValidationError of new", err)
	}
	e.wantTokens("after refused changes", append(a, b...), nil)

	if err := e.svc.ChangePassword(e.ctx, a[0], password("ada"), next); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	e.wantTokens("after ChangePassword", append([]string{a[0]}, b...), a[1:])
	_, _, err = e.svc.Login(e.ctx, "ada", password("ada"))
	wantErr(t, "Login with the old password", err, social.ErrInvalidCredentials)
	if _, _, err := e.svc.Login(e.ctx, "ada", next); err != nil {
		t.Fatalf("Login with the new password: %v", err)
	}
	if _, _, err := e.svc.Login(e.ctx, "bob", password("bob")); err != nil {
		t.Fatalf("another user's Login: %v", err)
	}
}
