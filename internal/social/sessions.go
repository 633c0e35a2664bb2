package social

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// Caller is who presented a session token: the user's id and login, the
// only parts of a user that never change, and so the only parts that may
// be remembered between requests.
type Caller struct {
	ID    UserID
	Login string
}

// Default bounds of the session cache (Config.SessionCacheTTL and
// Config.SessionCacheSize).
const (
	DefaultSessionCacheTTL  = time.Second
	DefaultSessionCacheSize = 65536
)

// Caller returns who a session token belongs to. A token seen valid within
// the last Config.SessionCacheTTL is answered from this process's memory,
// so that an authenticated read costs no store call for the credential;
// otherwise the store decides. Logout in this process takes effect here at
// once; in other processes within the TTL, when their entries go stale.
func (s *Service) Caller(ctx context.Context, token string) (Caller, error) {
	if token == "" || len(token) > 256 {
		return Caller{}, ErrInvalidToken
	}
	key := sha256.Sum256([]byte(token))
	c, epoch, ok := s.sessions.get(key, s.now())
	if ok {
		if s.isSuspended(ctx, c.ID) {
			return Caller{}, ErrInvalidToken
		}
		return c, nil
	}
	t, err := s.store.TokenByHash(ctx, key[:], s.now())
	if err != nil {
		return Caller{}, err
	}
	u, err := s.store.User(ctx, t.UID)
	if errors.Is(err, ErrUserNotFound) {
		return Caller{}, ErrInvalidToken
	}
	if err != nil {
		return Caller{}, err
	}
	c = Caller{ID: u.ID, Login: u.Login}
	s.sessions.put(key, c, t.Expires, epoch)
	if s.isSuspended(ctx, c.ID) {
		return Caller{}, ErrInvalidToken
	}
	return c, nil
}

// sessionCache maps token hashes to callers for a short time. It is bounded
// in size, and a nil or zero-TTL cache remembers nothing.
type sessionCache struct {
	ttl time.Duration
	max int
	// clock reads the monotonic clock (time.Now); tests move it.
	clock func() time.Time

	mu sync.RWMutex // guards the fields below
	m  map[[sha256.Size]byte]cachedSession
	// epoch counts revocations. A lookup that missed remembers the epoch
	// it started in, and its answer is kept only if no revocation happened
	// since: the store may have answered before a revocation that the
	// cache has already seen, and that answer must not outlive it.
	epoch uint64
}

type cachedSession struct {
	caller Caller
	// expires is the token's own expiry, on the Service's clock.
	expires time.Time
	// fetched is when the store last vouched for the token, on the
	// monotonic clock, so that clock steps neither extend nor cut the TTL.
	fetched time.Time
}

func newSessionCache(ttl time.Duration, size int) *sessionCache {
	if ttl <= 0 || size <= 0 {
		return nil
	}
	return &sessionCache{ttl: ttl, max: size, clock: time.Now, m: make(map[[sha256.Size]byte]cachedSession)}
}

// get returns the caller cached for key if the entry is fresh and the
// token has not expired by now, and the epoch to hand to put otherwise.
func (c *sessionCache) get(key [sha256.Size]byte, now time.Time) (Caller, uint64, bool) {
	if c == nil {
		return Caller{}, 0, false
	}
	c.mu.RLock()
	e, found := c.m[key]
	epoch := c.epoch
	c.mu.RUnlock()
	if !found {
		return Caller{}, epoch, false
	}
	if c.clock().Sub(e.fetched) < c.ttl && now.Before(e.expires) {
		return e.caller, epoch, true
	}
	c.mu.Lock()
	if cur, ok := c.m[key]; ok && cur.fetched.Equal(e.fetched) {
		delete(c.m, key)
	}
	c.mu.Unlock()
	return Caller{}, epoch, false
}

// put remembers a caller the store vouched for, unless a revocation
// happened since epoch was read.
func (c *sessionCache) put(key [sha256.Size]byte, caller Caller, expires time.Time, epoch uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	if _, found := c.m[key]; !found && len(c.m) >= c.max {
		// Full: forget an arbitrary entry (map iteration starts at a
		// random place). Its token just costs a store call next time.
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = cachedSession{caller: caller, expires: expires, fetched: c.clock()}
}

// revoke forgets key and fails the puts of lookups already under way.
func (c *sessionCache) revoke(key [sha256.Size]byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.m, key)
	c.epoch++
	c.mu.Unlock()
}

// revokeUser forgets every token of user uid and fails the puts of lookups
// already under way. It walks the whole cache, which is bounded and this
// is rare (signing out everywhere, changing a password).
func (c *sessionCache) revokeUser(uid UserID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	for k, e := range c.m {
		if e.caller.ID == uid {
			delete(c.m, k)
		}
	}
	c.epoch++
	c.mu.Unlock()
}
