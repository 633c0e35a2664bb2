package social

import (
	"context"
	"sync"
	"time"
)

// Suspensions: an admin may suspend a user. A suspended user cannot sign
// in, and the tokens they hold are refused, so they can neither post nor
// stream; their statuses are left out of every timeline read and status
// read, and their new posts never reach the events bus (they cannot post).
// Lifting the suspension restores all of it; nothing is deleted.
//
// Every process keeps the set of suspended users, read again from the store
// when it is older than Config.SessionCacheTTL (the same staleness as for
// revoked tokens): a suspension made through this Service applies here at
// once, and in other processes within that time.

// suspensionSet is the cached set of suspended users.
type suspensionSet struct {
	ttl time.Duration // <= 0: read the store on every check

	mu      sync.RWMutex // guards ids, fresh, reading and changes
	ids     map[UserID]bool
	fresh   time.Time // when ids was read; zero: never
	reading bool      // a refresh is under way; others use ids as they are
	// changes counts the suspensions made through this process; a read
	// that began before one is not kept, since it may not include it.
	changes uint64
}

// Suspend suspends user login.
func (s *Service) Suspend(ctx context.Context, login string) (User, error) {
	return s.setSuspended(ctx, login, true)
}

// Restore lifts user login's suspension.
func (s *Service) Restore(ctx context.Context, login string) (User, error) {
	return s.setSuspended(ctx, login, false)
}

func (s *Service) setSuspended(ctx context.Context, login string, suspended bool) (User, error) {
	u, err := s.User(ctx, login)
	if err != nil {
		return User{}, err
	}
	if err := s.store.SetSuspended(ctx, u.ID, suspended); err != nil {
		return User{}, err
	}
	s.suspensions.mu.Lock()
	s.suspensions.changes++
	if suspended {
		if s.suspensions.ids == nil {
			s.suspensions.ids = map[UserID]bool{}
		}
		s.suspensions.ids[u.ID] = true
	} else {
		delete(s.suspensions.ids, u.ID)
	}
	s.suspensions.mu.Unlock()
	return u, nil
}

// SuspendedUsers returns the users suspended now, as the store has them.
func (s *Service) SuspendedUsers(ctx context.Context) ([]User, error) {
	ids, err := s.store.SuspendedUsers(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.Users(ctx, ids)
}

// suspended returns the set of suspended users, reading it again when it
// is stale. A failed read keeps the set it had (and logs), so that a store
// hiccup does not show suspended users' statuses or fail every read.
func (s *Service) suspended(ctx context.Context) map[UserID]bool {
	set := &s.suspensions
	set.mu.RLock()
	ids, fresh, reading := set.ids, set.fresh, set.reading
	set.mu.RUnlock()
	now := time.Now()
	if !fresh.IsZero() && (now.Sub(fresh) < set.ttl || reading) {
		return ids
	}
	set.mu.Lock()
	if set.reading && !set.fresh.IsZero() {
		ids = set.ids
		set.mu.Unlock()
		return ids
	}
	set.reading = true
	changes := set.changes
	set.mu.Unlock()

	read, err := s.store.SuspendedUsers(ctx)
	set.mu.Lock()
	defer set.mu.Unlock()
	set.reading = false
	if set.changes != changes {
		return set.ids // read again next time
	}
	if err != nil {
		if s.log != nil {
			s.log.WarnContext(ctx, "social: reading the suspended users failed; using those known", "err", err)
		}
		return set.ids
	}
	next := make(map[UserID]bool, len(read))
	for _, id := range read {
		next[id] = true
	}
	set.ids, set.fresh = next, now
	return next
}

// isSuspended reports whether user id is suspended now.
func (s *Service) isSuspended(ctx context.Context, id UserID) bool {
	return s.suspended(ctx)[id]
}

// IsSuspended reports whether user id is suspended, from the set this
// process keeps (read again from the store once it is older than
// Config.SessionCacheTTL): cheap enough for every stream event. The stream
// hub uses it to keep a suspended author's statuses out of streams.
func (s *Service) IsSuspended(ctx context.Context, id UserID) bool {
	return s.isSuspended(ctx, id)
}

// withoutSuspended leaves out the statuses of suspended users.
func (s *Service) withoutSuspended(ctx context.Context, sts []Status) []Status {
	set := s.suspended(ctx)
	if len(set) == 0 {
		return sts
	}
	out := sts[:0]
	for _, st := range sts {
		if !set[st.UID] {
			out = append(out, st)
		}
	}
	return out
}
