package social

import (
	"context"
	"time"

	"starling/internal/jobs"
)

// Store is the persistence port of the social core, made of one small port
// per aggregate; each engine implements them in files of the same names
// (users, statuses, timelines, follows, lists).
//
// Every method is one atomic step: it happens entirely or not at all, also
// when many processes call it at once. Every read is fresh: it sees every
// step that completed before it began, in this process or any other,
// whatever was read before. Methods that take a jobs.NewJob enqueue it in
// that same step, so that the work the job finishes is never lost between
// the two.
//
// Home and list timelines keep the newest h entries, h being the timeline
// size the store was opened with. It is fixed for the life of a deployment:
// a store refuses to open with another size than the one its data was
// written with.
type Store interface {
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error

	UserStore
	TokenStore
	StatusStore
	TimelineStore
	FollowStore
	ListStore
	SuspensionStore
}

// SuspensionStore keeps which users an admin has suspended.
type SuspensionStore interface {
	// SetSuspended suspends user id, or lifts its suspension; doing either
	// twice is not an error. It returns ErrUserNotFound when there is no
	// such user.
	SetSuspended(ctx context.Context, id UserID, suspended bool) error
	// SuspendedUsers returns the ids of the suspended users, in any order.
	SuspendedUsers(ctx context.Context) ([]UserID, error)
}

// UserStore keeps users and their password hashes.
type UserStore interface {
	// CreateUser adds a user with the next user id, or returns
	// ErrLoginTaken when the login is taken in any letter case.
	CreateUser(ctx context.Context, u NewUser) (User, error)
	// User returns user id, or ErrUserNotFound.
	User(ctx context.Context, id UserID) (User, error)
	// UserByLogin finds a user case-insensitively, or returns ErrUserNotFound.
	UserByLogin(ctx context.Context, login string) (User, error)
	// Users returns the users with the given ids in that order, skipping ids
	// that name no user.
	Users(ctx context.Context, ids []UserID) ([]User, error)
	// PasswordHash returns user id's password hash, or ErrUserNotFound.
	PasswordHash(ctx context.Context, id UserID) (string, error)
}

// TokenStore keeps session tokens, by hash.
type TokenStore interface {
	// CreateToken stores a session token.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token with that hash, or ErrInvalidToken
	// when there is none or it has expired by now.
	TokenByHash(ctx context.Context, hash []byte, now time.Time) (Token, error)
	// DeleteToken removes a token; removing a missing one is not an error.
	DeleteToken(ctx context.Context, hash []byte) error
	// DeleteTokensOf removes every token of user uid except the one whose
	// hash is keep (none when keep is nil).
	DeleteTokensOf(ctx context.Context, uid UserID, keep []byte) error
	// SetPassword replaces user uid's password hash and, in the same step,
	// removes every token of uid except keep, as DeleteTokensOf does. It
	// returns ErrUserNotFound when there is no such user.
	SetPassword(ctx context.Context, uid UserID, hash string, keep []byte) error
}

// StatusStore keeps statuses, with the author's profile and home entries
// that creating and deleting one change in the same step.
type StatusStore interface {
	// CreateStatus stores a status with the next status id, increments the
	// author's posts, puts it at the head of the author's profile and home
	// timelines, and enqueues fanout(status) in the same step. It returns
	// ErrUserNotFound when the author does not exist.
	CreateStatus(ctx context.Context, s NewStatus, fanout func(Status) jobs.NewJob) (Status, error)
	// Statuses returns the statuses with the given ids in that order,
	// skipping ids that name no status (never posted or deleted).
	Statuses(ctx context.Context, ids []StatusID) ([]Status, error)
	// DeleteStatus removes status id, posted by author, from every read at once:
	// the record, the author's profile and home timelines, and one from the
	// author's posts; it enqueues cleanup(status) in the same step. It
	// returns ErrStatusNotFound when there is no such status and
	// ErrForbidden when author is not its author.
	DeleteStatus(ctx context.Context, author UserID, id StatusID, cleanup func(Status) jobs.NewJob) (Status, error)
}

// TimelineStore reads timelines and applies fan-out to them.
type TimelineStore interface {
	// TimelineIDs returns a page of a timeline's status ids, newest first,
	// including ids whose status has since been deleted.
	TimelineIDs(ctx context.Context, tl Timeline, p Page) ([]StatusID, error)
	// TimelinePage returns the statuses of a page of a timeline
	// (TimelineIDs), newest first, skipping those deleted.
	TimelinePage(ctx context.Context, tl Timeline, p Page) ([]Status, error)
	// Deliver puts each delivery's status into each of its home and list
	// timelines, trimming each to h, all in one atomic step: fan-out hands
	// the deliveries of many statuses to one call. A status that no longer
	// exists is skipped, so a fan-out that runs after a delete leaves no
	// trace; delivering twice leaves one entry. A home whose owner
	// unfollowed the delivery's Author within RecentUnfollowTTL, and has not
	// followed again, is skipped: a fan-out planned before an unfollow never
	// puts the author's status back after the unfollow's purge.
	//
	// Deliver returns what it skipped for those two reasons (Skipped), in
	// no particular order, an entry perhaps repeated when deliveries of one
	// status overlap; nil, without allocating, when it skipped nothing,
	// the common case. It may leave out other timelines without saying so
	// (a list deleted meanwhile).
	Deliver(ctx context.Context, ds []Delivery) ([]Skipped, error)
	// RemoveFromTimelines removes status id from each home or list timeline
	// in tls. Unlike Deliver it takes one status a call: the purge of a
	// deleted status is one status's chunks, which cleanup jobs rarely
	// batch with another's, since deletes are rare next to posts.
	RemoveFromTimelines(ctx context.Context, id StatusID, tls []Timeline) error
	// RefillTimeline merges into a home or list timeline the newest h
	// statuses of its sources (for a home: the user and everyone they
	// follow; for a list: its members), trimmed to h.
	RefillTimeline(ctx context.Context, tl Timeline) error
}

// FollowStore keeps who follows whom, with the counts and the home
// timeline changes that go with each follow and unfollow.
type FollowStore interface {
	// Follow makes user a follow user b: adds b to a's following and a to
	// b's followers at time at, sets both counts from the set sizes, and
	// copies b's newest h profile entries into a's home timeline, trimmed
	// to h. It reports false and changes nothing when a already follows b,
	// and returns ErrUserNotFound when either user is missing.
	Follow(ctx context.Context, a, b UserID, at time.Time) (bool, error)
	// Unfollow is Follow's inverse: it removes b's statuses from a's home
	// timeline and, when that leaves it short (NeedsRefill), enqueues
	// refill in the same step. It reports false when a did not follow b.
	// It marks a as having recently unfollowed b (see Deliver) for
	// RecentUnfollowTTL, or until a follows b again.
	Unfollow(ctx context.Context, a, b UserID, refill jobs.NewJob) (bool, error)
	// Followers returns a page of the ids of uid's followers, most recent
	// first. Following does the same for those uid follows.
	Followers(ctx context.Context, uid UserID, p Page) ([]UserID, error)
	Following(ctx context.Context, uid UserID, p Page) ([]UserID, error)
	// FollowerChunk returns up to limit follower ids of uid after cursor in
	// the store's own stable order, and the cursor to pass next; it
	// returns an empty next cursor after the last chunk. An empty cursor
	// starts at the beginning.
	FollowerChunk(ctx context.Context, uid UserID, cursor string, limit int) (ids []UserID, next string, err error)
}

// ListStore keeps lists, their members and the list timeline changes that
// go with each member change.
type ListStore interface {
	// CreateList adds a list with the next list id. It returns
	// ErrLimitReached when the owner already has maxLists lists.
	CreateList(ctx context.Context, l NewList, maxLists int) (List, error)
	// List returns list id, or ErrListNotFound.
	List(ctx context.Context, id ListID) (List, error)
	// ListsOf returns uid's lists, oldest first.
	ListsOf(ctx context.Context, uid UserID) ([]List, error)
	// ListsContaining returns the ids of the lists that have uid as a member.
	ListsContaining(ctx context.Context, uid UserID) ([]ListID, error)
	// DeleteList removes a list, its memberships and its timeline.
	DeleteList(ctx context.Context, id ListID) error
	// AddListMember adds member to list id at time at and copies the
	// member's newest h profile entries into the list timeline, trimmed to
	// h. It reports false when member was a member already, and returns
	// ErrLimitReached when the list has maxMembers members.
	AddListMember(ctx context.Context, id ListID, member UserID, at time.Time, maxMembers int) (bool, error)
	// RemoveListMember is AddListMember's inverse: it purges the member's
	// statuses from the list timeline and, when that leaves it short
	// (NeedsRefill), enqueues refill in the same step.
	RemoveListMember(ctx context.Context, id ListID, member UserID, refill jobs.NewJob) (bool, error)
	// ListMembers returns a page of member ids, most recently added first.
	ListMembers(ctx context.Context, id ListID, p Page) ([]UserID, error)
}
