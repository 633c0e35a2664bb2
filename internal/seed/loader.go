package seed

import (
	"context"
	"time"

	"starling/internal/social"
)

// Follow is one edge of the graph to load: Follower follows Followee since
// At.
type Follow struct {
	Follower social.UserID
	Followee social.UserID
	At       time.Time
}

// Loader is the bulk-loading port an engine implements beside social.Store.
// Its methods trade the per-call guarantees of the Store (counts moved in
// the same step as the sets, timelines copied on follow) for throughput,
// and are meant for users that have no statuses yet, such as those just
// created by LoadUsers.
type Loader interface {
	// LoadUsers creates users with the next user ids, in order, and
	// returns their ids. When any login is taken in any letter case, or
	// appears twice in users, it returns an error wrapping
	// social.ErrLoginTaken that names the login, and creates none of them.
	LoadUsers(ctx context.Context, users []social.NewUser) ([]social.UserID, error)
	// LoadFollows adds follows between existing users, leaving the
	// follower and following counts to FinishLoad and copying no
	// timelines. A follow that exists already is left as it was, so a
	// batch that failed part-way (which an engine may have loaded in
	// part) can be loaded again. A self-follow is an error
	// (social.ErrFollowSelf) and loads nothing.
	LoadFollows(ctx context.Context, follows []Follow) error
	// FinishLoad sets every user's follower and following counts from the
	// sizes of their sets. It may be called any number of times.
	FinishLoad(ctx context.Context) error
}
