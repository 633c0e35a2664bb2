package social

import "time"

// UserID, StatusID and ListID name a user, a status and a list. They are
// distinct types so that arguments cannot be swapped unnoticed: every layer
// takes the acting user first, then what it acts on.
type (
	UserID   int64
	StatusID int64
	ListID   int64
)

// User is a public profile. It carries nothing private: the password hash
// lives in a separate record that only the Store and the Service see.
type User struct {
	ID        UserID
	Login     string // as typed at signup; unique case-insensitively
	Name      string
	Followers int64 // always equal to the size of the followers set
	Following int64 // always equal to the size of the following set
	Posts     int64
	Signup    time.Time
}

// NewUser is a user to create.
type NewUser struct {
	Login        string
	Name         string
	PasswordHash string
	Signup       time.Time
}

// Location is a point on Earth in degrees.
type Location struct {
	Lat float64
	Lon float64
}

// Status is a posted message.
type Status struct {
	ID       StatusID // strictly increasing with creation order across the deployment
	UID      UserID
	Login    string
	Message  string
	Posted   time.Time
	Location *Location // nil when the author gave none
}

// NewStatus is a status to create; the Store assigns its ID.
// The author's login comes from the store.
type NewStatus struct {
	UID      UserID
	Message  string
	Posted   time.Time
	Location *Location
}

// List is a user's curated timeline of other users' statuses.
type List struct {
	ID      ListID
	UID     UserID // the owner
	Login   string
	Name    string
	Members int64 // always equal to the size of the member set
	Created time.Time
}

// NewList is a list to create; the Store assigns its ID.
// The owner's login comes from the store.
type NewList struct {
	UID     UserID
	Name    string
	Created time.Time
}

// Token is a session credential. Only its hash is stored.
type Token struct {
	Hash    []byte
	UID     UserID
	Created time.Time
	Expires time.Time
}

// TimelineKind tells whose statuses a timeline gathers.
type TimelineKind uint8

const (
	// Home is a user's own statuses and those of everyone they follow,
	// capped at the timeline size.
	Home TimelineKind = iota + 1
	// Profile is every status a user posted; never capped.
	Profile
	// ListTimeline is the statuses of a list's members, capped at the
	// timeline size.
	ListTimeline
)

func (k TimelineKind) String() string {
	switch k {
	case Home:
		return "home"
	case Profile:
		return "profile"
	case ListTimeline:
		return "list"
	}
	return "unknown"
}

// Timeline names one timeline: the home or profile of a user, or a list.
// Its ID is the UserID or the ListID, by Kind; build one with HomeOf,
// ProfileOf or ListOf.
type Timeline struct {
	Kind TimelineKind
	ID   int64
}

// Delivery is one step of a fan-out: status Status, posted by Author, goes
// into each of Timelines (home and list timelines). A store leaves out the
// home of anyone who unfollowed Author after the delivery was planned
// (RecentUnfollowTTL); a zero Author skips that check.
type Delivery struct {
	Status    StatusID
	Author    UserID
	Timelines []Timeline
	// Posted is when the status was posted, for the fan-out lag the
	// service reports (Config.FanoutLag); zero when unknown. Stores
	// ignore it.
	Posted time.Time
}

// Skipped is a part of a delivery that Store.Deliver left out: the home of
// user Home, who recently unfollowed the status's author, or, when Home is
// zero, every timeline of the delivery, since status Status no longer
// exists. Live streams follow what was written, so the event of a delivery
// leaves these out.
type Skipped struct {
	Status StatusID
	Home   UserID
}

// HomeOf returns user uid's home timeline.
func HomeOf(uid UserID) Timeline { return Timeline{Home, int64(uid)} }

// ProfileOf returns user uid's profile timeline.
func ProfileOf(uid UserID) Timeline { return Timeline{Profile, int64(uid)} }

// ListOf returns list id's timeline.
func ListOf(id ListID) Timeline { return Timeline{ListTimeline, int64(id)} }

// Page selects a slice of a newest-first sequence: Count entries, either the
// Page-th group of Count (1-based) or, when MaxID is set, the newest Count
// entries whose id is below MaxID.
type Page struct {
	Count int
	Page  int
	MaxID StatusID
}

// Offset is how many entries the page skips from the newest (zero with MaxID).
func (p Page) Offset() int {
	if p.MaxID > 0 || p.Page < 1 {
		return 0
	}
	return (p.Page - 1) * p.Count
}

// NeedsRefill reports whether a capped timeline holding size entries is short
// enough, after a removal, to be refilled from its sources: below 3/4 of the
// timeline size.
func NeedsRefill(size int64, timelineSize int) bool {
	return size*4 < int64(timelineSize)*3
}
