package social

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"
)

// sessionStore is the part of a Store that checking tokens touches; it
// counts the calls, so that tests can tell a cached answer from the
// store's.
type sessionStore struct {
	Store // nil: any other call panics
	mu    sync.Mutex
	users map[UserID]User
	toks  []Token
	calls int
}

// SuspendedUsers is not counted: the suspended set has a cache of its own.
func (s *sessionStore) SuspendedUsers(context.Context) ([]UserID, error) { return nil, nil }

func (s *sessionStore) TokenByHash(_ context.Context, hash []byte, now time.Time) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for _, t := range s.toks {
		if bytes.Equal(t.Hash, hash) && now.Before(t.Expires) {
			return t, nil
		}
	}
	return Token{}, ErrInvalidToken
}

func (s *sessionStore) User(_ context.Context, id UserID) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	u, ok := s.users[id]
	if !ok {
		return User{}, ErrUserNotFound
	}
	return u, nil
}

func (s *sessionStore) DeleteToken(_ context.Context, hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, t := range s.toks {
		if bytes.Equal(t.Hash, hash) {
			s.toks = append(s.toks[:i], s.toks[i+1:]...)
			break
		}
	}
	return nil
}

func (s *sessionStore) storeCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// fakeClock is a time that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type sessionEnv struct {
	svc   *Service
	store *sessionStore
	wall  *fakeClock // the Service's clock, which tokens expire by
	mono  *fakeClock // the cache's clock, which entries go stale by
}

// newSessionEnv returns a Service whose store holds user 1 (ada) with the
// given tokens, each valid for an hour.
func newSessionEnv(t *testing.T, cfg Config, tokens ...string) *sessionEnv {
	t.Helper()
	wall := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mono := &fakeClock{t: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := &sessionStore{users: map[UserID]User{1: {ID: 1, Login: "Ada", Name: "Ada L."}}}
	for _, tok := range tokens {
		store.toks = append(store.toks, Token{Hash: hashToken(tok), UID: 1, Created: wall.t, Expires: wall.t.Add(time.Hour)})
	}
	cfg.Password = cheap
	cfg.Now = wall.Now
	svc, err := NewService(store, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if svc.sessions != nil {
		svc.sessions.clock = mono.Now
	}
	return &sessionEnv{svc: svc, store: store, wall: wall, mono: mono}
}

func (e *sessionEnv) caller(t *testing.T, token string) (Caller, int) {
	t.Helper()
	before := e.store.storeCalls()
	c, err := e.svc.Caller(context.Background(), token)
	if err != nil {
		t.Fatalf("Caller: %v", err)
	}
	return c, e.store.storeCalls() - before
}

func (e *sessionEnv) refused(t *testing.T, token, when string) {
	t.Helper()
	if _, err := e.svc.Caller(context.Background(), token); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Caller %s: got %v, want ErrInvalidToken", when, err)
	}
}

func TestCallerIsCached(t *testing.T) {
	e := newSessionEnv(t, Config{}, "tok-a")
	c, calls := e.caller(t, "tok-a")
	if c != (Caller{ID: 1, Login: "Ada"}) || calls == 0 {
		t.Fatalf("first Caller = %+v after %d store calls, want ada from the store", c, calls)
	}
	c, calls = e.caller(t, "tok-a")
	if c != (Caller{ID: 1, Login: "Ada"}) || calls != 0 {
		t.Fatalf("second Caller = %+v after %d store calls, want ada from the cache", c, calls)
	}
	// Past the TTL the store is asked again.
	e.mono.Advance(DefaultSessionCacheTTL)
	if _, calls = e.caller(t, "tok-a"); calls == 0 {
		t.Fatalf("Caller after the TTL answered from the cache")
	}
	// Authenticate reads the profile from the store every time.
	before := e.store.storeCalls()
	u, err := e.svc.Authenticate(context.Background(), "tok-a")
	if err != nil || u.Name != "Ada L." || e.store.storeCalls() == before {
		t.Fatalf("Authenticate = %+v, %v; want the full profile read from the store", u, err)
	}
}

func TestLogoutTakesEffectAtOnce(t *testing.T) {
	e := newSessionEnv(t, Config{}, "tok-a", "tok-b")
	e.caller(t, "tok-a")
	e.caller(t, "tok-b")
	if err := e.svc.Logout(context.Background(), "tok-a"); err != nil {
		t.Fatal(err)
	}
	e.refused(t, "tok-a", "after Logout")
	if _, calls := e.caller(t, "tok-b"); calls != 0 {
		t.Fatalf("Logout of one token dropped another from the cache")
	}
}

// TestRevocationElsewhereWithinTTL is a token deleted by another process:
// this one trusts its cache until the entry is a TTL old, then refuses it.
func TestRevocationElsewhereWithinTTL(t *testing.T) {
	e := newSessionEnv(t, Config{SessionCacheTTL: 2 * time.Second}, "tok-a")
	e.caller(t, "tok-a")
	if err := e.store.DeleteToken(context.Background(), hashToken("tok-a")); err != nil {
		t.Fatal(err)
	}
	e.mono.Advance(2*time.Second - time.Nanosecond)
	if _, calls := e.caller(t, "tok-a"); calls != 0 {
		t.Fatalf("the cache was not used within its TTL")
	}
	e.mono.Advance(time.Nanosecond)
	e.refused(t, "tok-a", "a TTL after another process revoked it")
}

func TestCachedTokenStillExpires(t *testing.T) {
	e := newSessionEnv(t, Config{}, "tok-a")
	e.caller(t, "tok-a")
	// The wall clock passes the token's expiry while the cache entry is
	// fresh on the monotonic one.
	e.wall.Advance(time.Hour)
	e.refused(t, "tok-a", "after the token expired")
}

func TestSessionCacheOff(t *testing.T) {
	e := newSessionEnv(t, Config{SessionCacheTTL: -1}, "tok-a")
	e.caller(t, "tok-a")
	if _, calls := e.caller(t, "tok-a"); calls == 0 {
		t.Fatalf("with the cache off, Caller answered without the store")
	}
}

func TestSessionCacheRefusesLookupsOverlappingARevocation(t *testing.T) {
	c := newSessionCache(time.Minute, 10)
	key := sha256.Sum256([]byte("tok"))
	now := time.Now()
	_, epoch, ok := c.get(key, now)
	if ok {
		t.Fatal("an empty cache answered")
	}
	// The store answered "valid" before a revocation the cache then saw.
	c.revoke(key)
	c.put(key, Caller{ID: 1, Login: "ada"}, now.Add(time.Hour), epoch)
	if _, _, ok := c.get(key, now); ok {
		t.Fatal("a lookup that started before a revocation was cached after it")
	}
	_, epoch, _ = c.get(key, now)
	c.put(key, Caller{ID: 1, Login: "ada"}, now.Add(time.Hour), epoch)
	if _, _, ok := c.get(key, now); !ok {
		t.Fatal("a lookup after the revocation was not cached")
	}
}

func TestSessionCacheIsBounded(t *testing.T) {
	const size = 4
	c := newSessionCache(time.Minute, size)
	now := time.Now()
	for i := range 3 * size {
		key := sha256.Sum256([]byte{byte(i)})
		_, epoch, _ := c.get(key, now)
		c.put(key, Caller{ID: UserID(i)}, now.Add(time.Hour), epoch)
		if n := len(c.m); n > size {
			t.Fatalf("after %d tokens the cache holds %d, want at most %d", i+1, n, size)
		}
	}
	// The newest token is always kept.
	if _, _, ok := c.get(sha256.Sum256([]byte{3*size - 1}), now); !ok {
		t.Fatal("the newest token was not cached")
	}
}
