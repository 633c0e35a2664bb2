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
// (topic events.TimelineDelivered) or purged (events.TimelinePurged).
// Delivered statuses are read back for their content; one deleted
// meanwhile, or by a user suspended meanwhile, is skipped.
func (s *Service) publishTimelines(ctx context.Context, topic string, ds []Delivery) {
	if s.bus == nil || len(ds) == 0 {
		return
	}
	content := make(map[StatusID]Status)
	if topic == events.TimelineDelivered {
		ids := make([]StatusID, len(ds))
		for i, d := range ds {
			ids[i] = d.Status
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
				ev.Homes = append(ev.Homes, tl.ID)
			case ListTimeline:
				ev.Lists = append(ev.Lists, tl.ID)
			}
		}
		s.publish(ctx, topic, ev)
	}
}
