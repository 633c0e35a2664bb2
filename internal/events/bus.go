package events

import (
	"context"
	"strings"
)

// Topics the social core publishes. The data of each is the JSON object the
// social package documents for it.
const (
	StatusCreated  = "status.created"
	StatusDeleted  = "status.deleted"
	UserFollowed   = "user.followed"
	UserUnfollowed = "user.unfollowed"
	// TimelineDelivered says fan-out put a status into home and list
	// timelines; TimelinePurged that cleanup took one out of them.
	TimelineDelivered = "timeline.delivered"
	TimelinePurged    = "timeline.purged"
)

// Event is one notification.
type Event struct {
	Topic string
	Data  []byte // JSON
}

// Handler receives events of a subscription.
type Handler func(Event)

// Bus is the publish/subscribe port.
type Bus interface {
	// Publish sends an event to every subscription whose pattern matches
	// its topic, in this process and, for shared buses, in every other.
	Publish(ctx context.Context, e Event) error
	// Subscribe calls h for every event matching pattern until the
	// returned function is called. Each subscription has a bounded buffer
	// and a goroutine of its own that calls h (see Subscription): an event
	// that finds the buffer full is dropped for that subscription alone.
	Subscribe(pattern string, h Handler) (unsubscribe func(), err error)
	// Dropped is how many events this process's subscriptions have
	// dropped because their buffers were full.
	Dropped() uint64
}

// Match reports whether topic matches pattern.
func Match(pattern, topic string) bool {
	for {
		pw, prest, pmore := strings.Cut(pattern, ".")
		tw, trest, tmore := strings.Cut(topic, ".")
		switch {
		case pw == ">" && !pmore:
			return tw != ""
		case pw != "*" && pw != tw, tw == "":
			return false
		case !pmore || !tmore:
			return pmore == tmore
		}
		pattern, topic = prest, trest
	}
}

// ValidPattern reports whether pattern is well formed: non-empty words,
// ">" only at the end.
func ValidPattern(pattern string) bool {
	words := strings.Split(pattern, ".")
	for i, w := range words {
		if w == "" || w == ">" && i != len(words)-1 {
			return false
		}
	}
	return true
}
