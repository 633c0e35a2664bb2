package social

import (
	"context"
	"encoding/json"
	"time"

	"starling/internal/events"
)

// StatusEvent is the data of the status.created and status.deleted events.
// A deleted status's event carries its content, so that stream filters can
// tell which clients showed it.
type StatusEvent struct {
	ID       StatusID  `json:"id"`
	UID      UserID    `json:"uid"`
	Login    string    `json:"login"`
	Message  string    `json:"message"`
	Posted   time.Time `json:"posted"`
	Location *Location `json:"location"`
}

// Status returns the status the event describes.
func (e StatusEvent) Status() Status {
	return Status{ID: e.ID, UID: e.UID, Login: e.Login, Message: e.Message, Posted: e.Posted, Location: e.Location}
}

// FollowEvent is the data of the user.followed and user.unfollowed events.
type FollowEvent struct {
	Follower UserID `json:"follower"`
	Followee UserID `json:"followee"`
}

func (s *Service) publish(ctx context.Context, topic string, data any) {
	if s.bus == nil {
		return
	}
	b, err := json.Marshal(data)
	if err == nil {
		// The change is stored already; a lost event costs live viewers an
		// update they can recover from the timelines, so it is logged
		// rather than failing the call.
		err = s.bus.Publish(context.WithoutCancel(ctx), events.Event{Topic: topic, Data: b})
	}
	if err != nil {
		s.log.Warn("social: publishing event failed", "topic", topic, "err", err)
	}
}

func statusEvent(st Status) StatusEvent {
	return StatusEvent{ID: st.ID, UID: st.UID, Login: st.Login, Message: st.Message, Posted: st.Posted, Location: st.Location}
}
