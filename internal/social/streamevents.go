package social

import (
	"context"

	"starling/internal/events"
)

// TimelineEvent is the data of the timeline.delivered and timeline.purged
// events: a status went into (or out of) these home and list timelines.
// Live home and list streams follow their timelines through them. A
// delivered status's event carries its content; a purged one's only its id.
type TimelineEvent struct {
	Status StatusEvent `json:"status"`
	Homes  []int64     `json:"homes,omitempty"`
	Lists  []int64     `json:"lists,omitempty"`
}

// publishTimelines publishes, for each delivery, which timelines it wrote
// (topic events.TimelineDelivered) or purged (events.TimelinePurged):
// those of the delivery less what the store skipped (Store.Deliver), and
// nothing for a delivery left with no timeline. Delivered statuses are
// read back for their content; one deleted meanwhile, or by a user
// suspended meanwhile, is skipped.
func (s *Service) publishTimelines(ctx context.Context, topic string, ds []Delivery, skipped []Skipped) {
	if s.bus == nil || len(ds) == 0 {
		return
	}
	var left map[Skipped]bool // nil, the common case: nothing was skipped
	if len(skipped) > 0 {
		left = make(map[Skipped]bool, len(skipped))
		for _, sk := range skipped {
			left[sk] = true
		}
	}
	content := make(map[StatusID]Status)
	if topic == events.TimelineDelivered {
		ids := make([]StatusID, 0, len(ds))
		for _, d := range ds {
			if !left[Skipped{Status: d.Status}] {
				ids = append(ids, d.Status)
			}
		}
		if len(ids) == 0 {
			return
		}
		sts, err := s.store.Statuses(ctx, ids)
		if err != nil {
			s.log.Warn("social: reading delivered statuses for their event failed", "err", err)
			return
		}
		for _, st := range sts {
			content[st.ID] = st
		}
	}
	for _, d := range ds {
		ev := TimelineEvent{Status: StatusEvent{ID: d.Status}}
		if topic == events.TimelineDelivered {
			st, ok := content[d.Status]
			if !ok || s.isSuspended(ctx, st.UID) {
				continue // deleted, or its author's statuses are hidden
			}
			ev.Status = statusEvent(st)
		}
		for _, tl := range d.Timelines {
			switch tl.Kind {
			case Home:
				if !left[Skipped{Status: d.Status, Home: UserID(tl.ID)}] {
					ev.Homes = append(ev.Homes, tl.ID)
				}
			case ListTimeline:
				ev.Lists = append(ev.Lists, tl.ID)
			}
		}
		if len(ev.Homes)+len(ev.Lists) == 0 {
			continue // nothing was written
		}
		s.publish(ctx, topic, ev)
	}
}
