package socialtest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"starling/internal/social"
)

var userTests = []suiteTest{
	{"RegisterAndLookUp", testRegisterAndLookUp},
	{"LoginUniqueIgnoringCase", testLoginUnique},
	{"RegisterValidation", testRegisterValidation},
	{"ConcurrentRegistrationsOfOneLogin", testConcurrentRegistrations},
	{"PasswordHashStaysPrivate", testPasswordHashPrivate},
	{"LoginAuthenticateLogout", testLoginLogout},
	{"TokenExpires", testTokenExpires},
	{"StoreUserReads", testStoreUserReads},
}

func wantSameUser(t *testing.T, what string, got, want social.User) {
	t.Helper()
	if got.ID != want.ID || got.Login != want.Login || got.Name != want.Name ||
		got.Followers != want.Followers || got.Following != want.Following ||
		got.Posts != want.Posts || !got.Signup.Equal(want.Signup) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

func testRegisterAndLookUp(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	before := e.clock.Now().Add(-time.Millisecond)
	alice, err := e.svc.Register(e.ctx, "Alice", "  Alice Liddell ", "password")
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	after := e.clock.Now()
	if alice.ID != 1 || alice.Login != "Alice" || alice.Name != "Alice Liddell" ||
		alice.Followers != 0 || alice.Following != 0 || alice.Posts != 0 {
		t.Fatalf("registered user: got %+v, want id 1, login %q as typed, name trimmed, counts 0", alice, "Alice")
	}
	if alice.Signup.Before(before) || alice.Signup.After(after) {
		t.Fatalf("Signup: got %v, want between %v and %v", alice.Signup, before, after)
	}
	for i, login := range []string{"bob", "Carol_3"} {
		u := e.register(login)
		if want := social.UserID(i + 2); u.ID != want {
			t.Fatalf("id of user number %d: got %d, want %d", i+2, u.ID, want)
		}
	}

	for _, login := range []string{"Alice", "alice", "ALICE", "aLiCe"} {
		got, err := e.svc.User(e.ctx, login)
		if err != nil {
			t.Fatalf("User(%q): %v", login, err)
		}
		wantSameUser(t, fmt.Sprintf("User(%q)", login), got, alice)
		got, err = e.store.UserByLogin(e.ctx, login)
		if err != nil {
			t.Fatalf("store.UserByLogin(%q): %v", login, err)
		}
		wantSameUser(t, fmt.Sprintf("store.UserByLogin(%q)", login), got, alice)
	}
	got, err := e.svc.UserByID(e.ctx, alice.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	wantSameUser(t, "UserByID", got, alice)

	_, err = e.svc.User(e.ctx, "nobody")
	wantErr(t, "User(nobody)", err, social.ErrUserNotFound)
	_, err = e.svc.User(e.ctx, "Alic")
	wantErr(t, "User(Alic)", err, social.ErrUserNotFound)
	_, err = e.svc.UserByID(e.ctx, 99)
	wantErr(t, "UserByID(99)", err, social.ErrUserNotFound)
}

func testLoginUnique(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice := e.register("Alice")
	for _, login := range []string{"Alice", "alice", "ALICE"} {
		_, err := e.svc.Register(e.ctx, login, "Someone else", "password")
		wantErr(t, fmt.Sprintf("Register(%q) after Alice", login), err, social.ErrLoginTaken)
	}
	// The Service looks before it hashes; the store must refuse on its own
	// too, since it alone can decide a race.
	_, err := e.store.CreateUser(e.ctx, social.NewUser{Login: "aLICE", Name: "x", PasswordHash: "x", Signup: e.clock.Now()})
	wantErr(t, "store.CreateUser(aLICE) after Alice", err, social.ErrLoginTaken)

	got, err := e.svc.User(e.ctx, "alice")
	if err != nil {
		t.Fatalf("User(alice): %v", err)
	}
	wantSameUser(t, "User(alice) after the refused registrations", got, alice)
	if bob := e.register("bob"); bob.ID <= alice.ID {
		t.Fatalf("next user id: got %d, want above %d", bob.ID, alice.ID)
	}
}

func testRegisterValidation(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	const pw = "password"
	for _, c := range []struct {
		login, name, password, field string
	}{
		{"", "N", pw, "login"},
		{"al ice", "N", pw, "login"},
		{"al-ice", "N", pw, "login"},
		{"élise", "N", pw, "login"},
		{"alice!", "N", pw, "login"},
		{strings.Repeat("a", social.MaxLoginLen+1), "N", pw, "login"},
		{"alice", "", pw, "name"},
		{"alice", " \t ", pw, "name"},
		{"alice", strings.Repeat("n", social.MaxNameLen+1), pw, "name"},
		{"alice", "a\x00b", pw, "name"},
		{"alice", "\xff", pw, "name"},
		{"alice", "N", "", "password"},
		{"alice", "N", "7 chars", "password"},
		{"alice", "N", strings.Repeat("p", social.MaxPasswordLen+1), "password"},
	} {
		_, err := e.svc.Register(e.ctx, c.login, c.name, c.password)
		wantValidation(t, fmt.Sprintf("Register(%q, %q, %q)", c.login, c.name, c.password), err, c.field)
	}
	_, err := e.svc.User(e.ctx, "alice")
	wantErr(t, "User(alice) after refused registrations", err, social.ErrUserNotFound)

	// The limits themselves are allowed, counted in characters.
	edge := []struct{ login, name, password string }{
		{strings.Repeat("aB_9", social.MaxLoginLen/4), strings.Repeat("é", social.MaxNameLen), strings.Repeat("p", social.MinPasswordLen)},
		{"x", "y", strings.Repeat("ü", social.MaxPasswordLen)},
	}
	for i, c := range edge {
		u, err := e.svc.Register(e.ctx, c.login, c.name, c.password)
		if err != nil {
			t.Fatalf("Register at the limits (%q, %q): %v", c.login, c.name, err)
		}
		if want := social.UserID(i + 1); u.ID != want || u.Login != c.login || u.Name != c.name {
			t.Fatalf("user at the limits: got id %d login %q name %q, want %d %q %q", u.ID, u.Login, u.Name, want, c.login, c.name)
		}
		if _, _, err := e.svc.Login(e.ctx, c.login, c.password); err != nil {
			t.Fatalf("Login with a password at the limits: %v", err)
		}
	}
}

// flipCase spells login with the letters whose bit in mask is set in upper
// case.
func flipCase(login string, mask int) string {
	b := []byte(login)
	for i := range b {
		if mask&(1<<(i%8)) != 0 {
			b[i] = strings.ToUpper(string(b[i]))[0]
		}
	}
	return string(b)
}

func testConcurrentRegistrations(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	const n = 50
	type result struct {
		login string
		user  social.User
		err   error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		login := flipCase("racer_x", i*37)
		wg.Go(func() {
			<-start
			u, err := e.svc.Register(e.ctx, login, fmt.Sprint("racer ", i), "password")
			results[i] = result{login, u, err}
		})
	}
	close(start)
	wg.Wait()

	var winners []result
	for _, r := range results {
		switch {
		case r.err == nil:
			winners = append(winners, r)
		case !errors.Is(r.err, social.ErrLoginTaken):
			t.Fatalf("Register(%q) in the race: got error %v, want nil or ErrLoginTaken", r.login, r.err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("registrations that succeeded: got %d, want exactly 1", len(winners))
	}
	w := winners[0]
	got, err := e.svc.User(e.ctx, "RACER_X")
	if err != nil {
		t.Fatalf("User(RACER_X): %v", err)
	}
	wantSameUser(t, "the one user left", got, w.user)
	if got.Login != w.login {
		t.Fatalf("login of the winner: got %q, want %q as typed", got.Login, w.login)
	}
	// Every spelling used in the race names the one user.
	for _, r := range results {
		got, err := e.store.UserByLogin(e.ctx, r.login)
		if err != nil || got.ID != w.user.ID {
			t.Fatalf("UserByLogin(%q) after the race: got user %d, err %v; want user %d", r.login, got.ID, err, w.user.ID)
		}
	}
}

func testPasswordHashPrivate(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	const pw = "correct horse battery"
	alice, err := e.svc.Register(e.ctx, "alice", "Alice", pw)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	bob := e.register("bob")
	e.follow(bob, alice)
	hash, err := e.store.PasswordHash(e.ctx, alice.ID)
	if err != nil {
		t.Fatalf("PasswordHash: %v", err)
	}
	if hash == "" || strings.Contains(hash, pw) || !social.CheckPassword(hash, pw) {
		t.Fatalf("stored password hash %q: want a slow hash that checks against the password and does not contain it", hash)
	}
	_, err = e.store.PasswordHash(e.ctx, 999)
	wantErr(t, "PasswordHash(999)", err, social.ErrUserNotFound)

	token, fromLogin, err := e.svc.Login(e.ctx, "alice", pw)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	fromAuth, err := e.svc.Authenticate(e.ctx, token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	fromLookup, _ := e.svc.User(e.ctx, "alice")
	fromStore, _ := e.store.Users(e.ctx, []social.UserID{alice.ID})
	fromFollowers, _ := e.svc.Following(e.ctx, "bob", social.Page{})
	seen := []any{alice, fromLogin, fromAuth, fromLookup, fromStore, fromFollowers}
	for i, v := range seen {
		s := fmt.Sprintf("%#v", v)
		if strings.Contains(s, hash) || strings.Contains(s, pw) || strings.Contains(s, "argon2") {
			t.Fatalf("user value %d carries the password or its hash: %s", i, s)
		}
	}
}

func testLoginLogout(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice := e.register("Alice")
	token, u, err := e.svc.Login(e.ctx, "alice", password("Alice"))
	if err != nil {
		t.Fatalf("Login in another letter case: %v", err)
	}
	if token == "" || u.ID != alice.ID {
		t.Fatalf("Login: got token %q user %d, want a token and user %d", token, u.ID, alice.ID)
	}
	for _, c := range []struct{ login, password string }{
		{"Alice", "wrong password"},
		{"Alice", ""},
		{"nobody", password("Alice")},
		{"not a login!", password("Alice")},
	} {
		_, _, err := e.svc.Login(e.ctx, c.login, c.password)
		wantErr(t, fmt.Sprintf("Login(%q, %q)", c.login, c.password), err, social.ErrInvalidCredentials)
	}

	got, err := e.svc.Authenticate(e.ctx, token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	wantSameUser(t, "Authenticate", got, alice)
	other, _, err := e.svc.Login(e.ctx, "ALICE", password("Alice"))
	if err != nil {
		t.Fatalf("second Login: %v", err)
	}
	if other == token {
		t.Fatalf("two logins gave the same token")
	}
	for _, bad := range []string{"", "made-up", token + "x", strings.Repeat("a", 300)} {
		_, err := e.svc.Authenticate(e.ctx, bad)
		wantErr(t, fmt.Sprintf("Authenticate(%q)", bad), err, social.ErrInvalidToken)
	}

	if err := e.svc.Logout(e.ctx, token); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	_, err = e.svc.Authenticate(e.ctx, token)
	wantErr(t, "Authenticate after Logout", err, social.ErrInvalidToken)
	if _, err := e.svc.Authenticate(e.ctx, other); err != nil {
		t.Fatalf("Authenticate with another session's token after Logout: %v", err)
	}
	if err := e.svc.Logout(e.ctx, token); err != nil {
		t.Fatalf("second Logout of the same token: got %v, want nil", err)
	}
}

func testTokenExpires(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	e.register("alice")
	token, _, err := e.svc.Login(e.ctx, "alice", password("alice"))
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	e.clock.Advance(tokenTTL - time.Minute)
	if _, err := e.svc.Authenticate(e.ctx, token); err != nil {
		t.Fatalf("Authenticate a minute before the token expires: %v", err)
	}
	e.clock.Advance(2 * time.Minute)
	_, err = e.svc.Authenticate(e.ctx, token)
	wantErr(t, "Authenticate a minute after the token expired", err, social.ErrInvalidToken)

	fresh, _, err := e.svc.Login(e.ctx, "alice", password("alice"))
	if err != nil {
		t.Fatalf("Login after expiry: %v", err)
	}
	if _, err := e.svc.Authenticate(e.ctx, fresh); err != nil {
		t.Fatalf("Authenticate with a fresh token: %v", err)
	}
}

func testStoreUserReads(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	if err := e.svc.Ping(e.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	us := e.registerMany("u", 3)
	got, err := e.store.Users(e.ctx, []social.UserID{us[2].ID, 999, us[0].ID, us[1].ID})
	if err != nil {
		t.Fatalf("store.Users: %v", err)
	}
	wantIDs(t, "store.Users in the order asked, unknown ids skipped", userIDs(got), uids(us[2], us[0], us[1]))
	for i, u := range got {
		want := map[social.UserID]social.User{us[0].ID: us[0], us[1].ID: us[1], us[2].ID: us[2]}[u.ID]
		wantSameUser(t, fmt.Sprintf("store.Users[%d]", i), u, want)
	}
	if got, err := e.store.Users(e.ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("store.Users(nil): got %d users, err %v; want none", len(got), err)
	}
	_, err = e.store.User(e.ctx, 999)
	wantErr(t, "store.User(999)", err, social.ErrUserNotFound)
	_, err = e.store.UserByLogin(e.ctx, "nobody")
	wantErr(t, "store.UserByLogin(nobody)", err, social.ErrUserNotFound)
}
