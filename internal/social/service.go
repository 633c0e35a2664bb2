package social

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"starling/internal/events"
	"starling/internal/jobs"
)

// RecentUnfollowTTL is how long a store remembers that a user unfollowed
// another, so that deliveries planned before the unfollow skip them
// (Store.Deliver). It is far longer than any fan-out job waits: a job
// leased by a dead worker is offered again after its lease, and retries
// back off for minutes at most.
const RecentUnfollowTTL = 24 * time.Hour

// Defaults of the documented tunables, shared by every layer that names them.
const (
	DefaultTimelineSize = 1000 // entries kept in home and list timelines
	DefaultFanoutChunk  = 1000 // recipients per fan-out job
	DefaultMaxStatusLen = 280  // characters in a status
	DefaultMaxFollowing = 5000 // users one user may follow
)

// Config tunes a Service. Zero values mean the documented defaults.
type Config struct {
	FanoutChunk    int            // recipients per fan-out job; zero means 1000
	MaxStatusLen   int            // characters in a status after trimming; zero means 280
	MaxLists       int            // lists one user may own; zero means 100
	MaxListMembers int            // members of one list; zero means 5000
	TokenTTL       time.Duration  // lifetime of a session token; zero means 30 days
	Password       PasswordParams // argon2id cost; zero means the defaults
	Now            func() time.Time
	// Bus receives the events of the social core; nil publishes none.
	Bus events.Bus
	// SessionCacheTTL is how long this process may trust that a session
	// token it saw valid is still valid without asking the store again,
	// and so how long a revocation made by another process may take to
	// reach it (revocations made through this Service apply at once).
	// Zero means DefaultSessionCacheTTL; negative turns the cache off.
	SessionCacheTTL time.Duration
	// SessionCacheSize bounds the tokens remembered; zero means
	// DefaultSessionCacheSize.
	SessionCacheSize int
	// FanoutPlanStep is how many followers one fan-out planning job reads
	// before it leaves the rest to a follow-up planning job, rounded up to
	// whole chunks; zero means 100,000.
	FanoutPlanStep int
	// FanoutBatch is how many timelines one store call (Store.Deliver)
	// names at most when the runner hands the fan-out handlers several
	// jobs at once (a chunk is never split); zero means FanoutChunk. An
	// engine whose cost per call falls with larger calls (one transaction
	// each) wants it larger; one whose call blocks every other client
	// (one Redis script) wants it about a chunk.
	FanoutBatch int
	// MaxFollowing is how many users one user may follow; zero means
	// DefaultMaxFollowing. A refill of a home timeline reads every
	// followee's newest statuses, so this bounds its cost too.
	MaxFollowing int
	// HashQueue bounds the calls (Register, Login, ChangePassword)
	// waiting for a hashing slot, HashQueuePerClient those of one client
	// (WithClient), and HashWait how long one waits; past them a call
	// fails with ErrBusy. Zero means DefaultHashQueue,
	// DefaultHashQueuePerClient and DefaultHashWait.
	HashQueue          int
	HashQueuePerClient int
	HashWait           time.Duration
	// FanoutLag, when set, is told how long after its status was posted
	// each fan-out chunk reached its timelines (a metric); it must not
	// block.
	FanoutLag func(time.Duration)
}

func (c Config) withDefaults() Config {
	if c.FanoutChunk <= 0 {
		c.FanoutChunk = DefaultFanoutChunk
	}
	if c.FanoutBatch <= 0 {
		c.FanoutBatch = c.FanoutChunk
	}
	if c.MaxStatusLen <= 0 {
		c.MaxStatusLen = DefaultMaxStatusLen
	}
	if c.MaxLists <= 0 {
		c.MaxLists = 100
	}
	if c.MaxListMembers <= 0 {
		c.MaxListMembers = 5000
	}
	if c.MaxFollowing <= 0 {
		c.MaxFollowing = DefaultMaxFollowing
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = 30 * 24 * time.Hour
	}
	if c.SessionCacheTTL == 0 {
		c.SessionCacheTTL = DefaultSessionCacheTTL
	}
	if c.SessionCacheSize <= 0 {
		c.SessionCacheSize = DefaultSessionCacheSize
	}
	if c.HashQueue <= 0 {
		c.HashQueue = DefaultHashQueue
	}
	if c.HashQueuePerClient <= 0 {
		c.HashQueuePerClient = DefaultHashQueuePerClient
	}
	if c.HashWait <= 0 {
		c.HashWait = DefaultHashWait
	}
	c.Password = c.Password.withDefaults()
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Service carries out the social use cases over a Store.
type Service struct {
	store Store
	cfg   Config
	log   *slog.Logger
	bus   events.Bus
	// dummyHash is checked against when a login names no user, so that a
	// wrong login costs the same time as a wrong password.
	dummyHash string
	// checkPassword is CheckPassword; tests replace it to count that every
	// failed login pays for one hash.
	checkPassword func(hash, pw string) bool
	// hashSlots bounds the password hashes running at once and those
	// waiting (see withHashSlot).
	hashSlots *hashGate
	// sessions remembers recently checked session tokens (see Caller);
	// nil when the cache is off.
	sessions *sessionCache
	// refills remembers the refills run here, to coalesce their jobs
	// (refill.go).
	refills *refillLog
	// suspensions is the set of suspended users (suspensions.go).
	suspensions suspensionSet
}

// NewService returns a Service over store.
func NewService(store Store, cfg Config, log *slog.Logger) (*Service, error) {
	cfg = cfg.withDefaults()
	dummy, err := HashPassword("not a real password", cfg.Password)
	if err != nil {
		return nil, err
	}
	return &Service{store: store, cfg: cfg, log: log, bus: cfg.Bus, dummyHash: dummy, checkPassword: CheckPassword,
		hashSlots:   newHashGate(hashConcurrency(), cfg.HashQueue, cfg.HashQueuePerClient, cfg.HashWait),
		sessions:    newSessionCache(cfg.SessionCacheTTL, cfg.SessionCacheSize),
		refills:     newRefillLog(),
		suspensions: suspensionSet{ttl: cfg.SessionCacheTTL}}, nil
}

// Config returns the service's configuration with defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Ping reports whether the store can serve requests.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// Register creates a user.
func (s *Service) Register(ctx context.Context, login, name, password string) (User, error) {
	if err := validateLogin(login); err != nil {
		return User{}, err
	}
	name, err := cleanText("name", name, MaxNameLen, false)
	if err != nil {
		return User{}, err
	}
	if err := validatePassword(password); err != nil {
		return User{}, err
	}
	// Spare the slow hash when the login is visibly taken; the store still
	// decides races.
	if _, err := s.store.UserByLogin(ctx, login); err == nil {
		return User{}, ErrLoginTaken
	} else if !errors.Is(err, ErrUserNotFound) {
		return User{}, err
	}
	var hash string
	var hashErr error
	if err := s.withHashSlot(ctx, func() { hash, hashErr = HashPassword(password, s.cfg.Password) }); err != nil {
		return User{}, err
	}
	if hashErr != nil {
		return User{}, hashErr
	}
	return s.store.CreateUser(ctx, NewUser{Login: login, Name: name, PasswordHash: hash, Signup: s.now()})
}

// Login checks a login and password and issues a session token. Every
// failure runs exactly one password hash of the configured cost, against a
// dummy hash when there is no user to check, so that the time an answer
// takes does not tell an unknown login from a wrong password.
func (s *Service) Login(ctx context.Context, login, password string) (string, User, error) {
	if !ValidLogin(login) || len(password) > 4*MaxPasswordLen {
		// A password longer than any valid one is cut before hashing:
		// argon2 reads all of it, and it can never match anyway.
		return "", User{}, s.dummyCheck(ctx, password[:min(len(password), 4*MaxPasswordLen)])
	}
	u, err := s.store.UserByLogin(ctx, login)
	if errors.Is(err, ErrUserNotFound) {
		return "", User{}, s.dummyCheck(ctx, password)
	}
	if err != nil {
		return "", User{}, err
	}
	hash, err := s.store.PasswordHash(ctx, u.ID)
	if err != nil {
		return "", User{}, err
	}
	if ok, err := s.passwordMatches(ctx, hash, password); err != nil {
		return "", User{}, err
	} else if !ok {
		return "", User{}, ErrInvalidCredentials
	}
	// Told only to whoever knows the password.
	if s.isSuspended(ctx, u.ID) {
		return "", User{}, ErrSuspended
	}
	token, tokenHash, err := newToken()
	if err != nil {
		return "", User{}, err
	}
	now := s.now()
	if err := s.store.CreateToken(ctx, Token{Hash: tokenHash, UID: u.ID, Created: now, Expires: now.Add(s.cfg.TokenTTL)}); err != nil {
		return "", User{}, err
	}
	return token, u, nil
}

// Authenticate returns the user a session token belongs to, with the
// profile as the store has it now. Callers that need only who the user is
// use Caller, which can answer without the store.
func (s *Service) Authenticate(ctx context.Context, token string) (User, error) {
	c, err := s.Caller(ctx, token)
	if err != nil {
		return User{}, err
	}
	u, err := s.store.User(ctx, c.ID)
	if errors.Is(err, ErrUserNotFound) {
		return User{}, ErrInvalidToken
	}
	return u, err
}

// Logout revokes a session token. Once it returns, Caller and Authenticate
// refuse the token in this process; other processes refuse it within their
// SessionCacheTTL.
func (s *Service) Logout(ctx context.Context, token string) error {
	hash := hashToken(token)
	err := s.store.DeleteToken(ctx, hash)
	// Forgotten also when the store failed: the deletion may have
	// happened, and a cached token costs only a store call to check again.
	s.sessions.revoke([32]byte(hash))
	return err
}

// User returns the user with the given login.
func (s *Service) User(ctx context.Context, login string) (User, error) {
	if !ValidLogin(login) {
		return User{}, ErrUserNotFound
	}
	return s.store.UserByLogin(ctx, login)
}

// UserByID returns user id.
func (s *Service) UserByID(ctx context.Context, id UserID) (User, error) {
	return s.store.User(ctx, id)
}

// Post creates a status by user uid and starts its fan-out.
func (s *Service) Post(ctx context.Context, author User, message string, loc *Location) (Status, error) {
	message, err := cleanText("message", message, s.cfg.MaxStatusLen, true)
	if err != nil {
		return Status{}, err
	}
	if err := validateLocation(loc); err != nil {
		return Status{}, err
	}
	st := NewStatus{UID: author.ID, Message: message, Posted: s.now(), Location: loc}
	created, err := s.store.CreateStatus(ctx, st, func(st Status) jobs.NewJob {
		return newJob(kindFanout, spreadPayload{Status: st.ID, Author: st.UID, Posted: st.Posted.UnixMilli()})
	})
	if err != nil {
		return Status{}, err
	}
	s.publish(ctx, events.StatusCreated, statusEvent(created))
	return created, nil
}

// Status returns status id.
func (s *Service) Status(ctx context.Context, id StatusID) (Status, error) {
	if id <= 0 {
		return Status{}, ErrStatusNotFound
	}
	sts, err := s.store.Statuses(ctx, []StatusID{id})
	if err != nil {
		return Status{}, err
	}
	if len(sts) == 0 || s.isSuspended(ctx, sts[0].UID) {
		return Status{}, ErrStatusNotFound
	}
	return sts[0], nil
}

// DeleteStatus deletes status id on behalf of author, who must have
// posted it.
func (s *Service) DeleteStatus(ctx context.Context, author UserID, id StatusID) error {
	if id <= 0 {
		return ErrStatusNotFound
	}
	deleted, err := s.store.DeleteStatus(ctx, author, id, func(st Status) jobs.NewJob {
		return newJob(kindCleanup, spreadPayload{Status: st.ID, Author: st.UID})
	})
	if err != nil {
		return err
	}
	s.publish(ctx, events.StatusDeleted, statusEvent(deleted))
	return nil
}

// Timeline returns a page of a timeline's statuses, newest first. Deleted
// statuses, and those of suspended users, are skipped after paging, so a
// page may come back short.
func (s *Service) Timeline(ctx context.Context, tl Timeline, p Page) ([]Status, error) {
	p, err := p.Normalize(true)
	if err != nil {
		return nil, err
	}
	sts, err := s.store.TimelinePage(ctx, tl, p)
	if err != nil {
		return nil, err
	}
	return s.withoutSuspended(ctx, sts), nil
}

// ProfileTimeline returns a page of the statuses posted by login.
func (s *Service) ProfileTimeline(ctx context.Context, login string, p Page) ([]Status, error) {
	u, err := s.User(ctx, login)
	if err != nil {
		return nil, err
	}
	return s.Timeline(ctx, ProfileOf(u.ID), p)
}

// Follow makes user uid follow the user with the given login.
func (s *Service) Follow(ctx context.Context, uid UserID, login string) error {
	target, err := s.User(ctx, login)
	if err != nil {
		return err
	}
	if target.ID == uid {
		return ErrFollowSelf
	}
	if err := s.checkFollowingLimit(ctx, uid, target.ID); err != nil {
		return err
	}
	changed, err := s.store.Follow(ctx, uid, target.ID, s.now())
	if changed {
		s.publish(ctx, events.UserFollowed, FollowEvent{Follower: uid, Followee: target.ID})
	}
	return err
}

// Unfollow makes user uid stop following the user with the given login.
func (s *Service) Unfollow(ctx context.Context, uid UserID, login string) error {
	target, err := s.User(ctx, login)
	if err != nil {
		return err
	}
	if target.ID == uid {
		return ErrFollowSelf
	}
	changed, err := s.store.Unfollow(ctx, uid, target.ID, s.refillJob(HomeOf(uid)))
	if changed {
		s.publish(ctx, events.UserUnfollowed, FollowEvent{Follower: uid, Followee: target.ID})
	}
	return err
}

// Followers returns a page of login's followers, most recent first.
func (s *Service) Followers(ctx context.Context, login string, p Page) ([]User, error) {
	return s.userPage(ctx, login, p, s.store.Followers)
}

// Following returns a page of the users login follows, most recent first.
func (s *Service) Following(ctx context.Context, login string, p Page) ([]User, error) {
	return s.userPage(ctx, login, p, s.store.Following)
}

func (s *Service) userPage(ctx context.Context, login string, p Page, ids func(context.Context, UserID, Page) ([]UserID, error)) ([]User, error) {
	p, err := p.Normalize(false)
	if err != nil {
		return nil, err
	}
	u, err := s.User(ctx, login)
	if err != nil {
		return nil, err
	}
	page, err := ids(ctx, u.ID, p)
	if err != nil {
		return nil, err
	}
	return s.store.Users(ctx, page)
}

// CreateList creates a list owned by owner.
func (s *Service) CreateList(ctx context.Context, owner User, name string) (List, error) {
	name, err := cleanText("name", name, MaxListNameLen, false)
	if err != nil {
		return List{}, err
	}
	return s.store.CreateList(ctx, NewList{UID: owner.ID, Name: name, Created: s.now()}, s.cfg.MaxLists)
}

// List returns list id.
func (s *Service) List(ctx context.Context, id ListID) (List, error) {
	if id <= 0 {
		return List{}, ErrListNotFound
	}
	return s.store.List(ctx, id)
}

// ListsOf returns the lists owned by login.
func (s *Service) ListsOf(ctx context.Context, login string) ([]List, error) {
	u, err := s.User(ctx, login)
	if err != nil {
		return nil, err
	}
	return s.store.ListsOf(ctx, u.ID)
}

// DeleteList deletes list id on behalf of owner, who must own it.
func (s *Service) DeleteList(ctx context.Context, owner UserID, id ListID) error {
	if _, err := s.ownedList(ctx, owner, id); err != nil {
		return err
	}
	return s.store.DeleteList(ctx, id)
}

// AddListMember adds the user with the given login to list id on behalf of
// owner, who must own it.
func (s *Service) AddListMember(ctx context.Context, owner UserID, id ListID, login string) error {
	if _, err := s.ownedList(ctx, owner, id); err != nil {
		return err
	}
	member, err := s.User(ctx, login)
	if err != nil {
		return err
	}
	_, err = s.store.AddListMember(ctx, id, member.ID, s.now(), s.cfg.MaxListMembers)
	return err
}

// RemoveListMember removes the user with the given login from list id on
// behalf of owner, who must own it.
func (s *Service) RemoveListMember(ctx context.Context, owner UserID, id ListID, login string) error {
	if _, err := s.ownedList(ctx, owner, id); err != nil {
		return err
	}
	member, err := s.User(ctx, login)
	if err != nil {
		return err
	}
	_, err = s.store.RemoveListMember(ctx, id, member.ID, s.refillJob(ListOf(id)))
	return err
}

// ListMembers returns a page of list id's members, most recently added first.
func (s *Service) ListMembers(ctx context.Context, id ListID, p Page) ([]User, error) {
	p, err := p.Normalize(false)
	if err != nil {
		return nil, err
	}
	if _, err := s.List(ctx, id); err != nil {
		return nil, err
	}
	ids, err := s.store.ListMembers(ctx, id, p)
	if err != nil {
		return nil, err
	}
	return s.store.Users(ctx, ids)
}

// ListTimeline returns a page of list id's statuses.
func (s *Service) ListTimeline(ctx context.Context, id ListID, p Page) ([]Status, error) {
	if _, err := s.List(ctx, id); err != nil {
		return nil, err
	}
	return s.Timeline(ctx, ListOf(id), p)
}

func (s *Service) ownedList(ctx context.Context, owner UserID, id ListID) (List, error) {
	l, err := s.List(ctx, id)
	if err != nil {
		return List{}, err
	}
	if l.UID != owner {
		return List{}, ErrForbidden
	}
	return l, nil
}
