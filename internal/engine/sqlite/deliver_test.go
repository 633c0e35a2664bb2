package sqlite

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"starling/internal/social"
)

// TestDeliverMatchesEagerTrimming drives Deliver, the batched fan-out, with
// batches of deliveries whose statuses come mostly in order, sometimes late
// (older than what a timeline already holds, as when another worker
// delivered newer statuses first), repeated, or deleted, and checks every
// timeline against a model that trims eagerly: the grouped append, its
// fallback one id at a time, and the flush at the end of the call must
// together show exactly what the model shows.
func TestDeliverMatchesEagerTrimming(t *testing.T) {
	const h = 40
	db := openSized(t, t.TempDir(), h)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(3, 4))

	author := newUser(t, db, "author")
	var timelines []social.Timeline
	for i := range 5 {
		timelines = append(timelines, social.HomeOf(newUser(t, db, fmt.Sprintf("reader%d", i)).ID))
	}
	owner := newUser(t, db, "owner")
	l, err := db.CreateList(ctx, social.NewList{UID: owner.ID, Name: "l"}, 0)
	if err != nil {
		t.Fatalf("CreateList: %v", err)
	}
	timelines = append(timelines, social.ListOf(l.ID))
	var sids []social.StatusID
	for range 900 {
		var id social.StatusID
		err := db.w.QueryRowContext(ctx, `INSERT INTO statuses (uid, login, message, posted) VALUES (?, ?, 'm', 0) RETURNING id`,
			author.ID, author.Login).Scan(&id)
		if err != nil {
			t.Fatalf("inserting a status: %v", err)
		}
		sids = append(sids, id)
	}
	deleted := map[social.StatusID]bool{}
	model := map[social.Timeline][]social.StatusID{} // newest first, at most h

	next := 0
	for step := 0; next < len(sids); step++ {
		var ds []social.Delivery
		for range 1 + rng.IntN(12) {
			if next == len(sids) {
				break
			}
			sid := sids[next]
			switch rng.IntN(10) {
			case 0: // late
				sid = sids[rng.IntN(next+1)]
			case 1: // repeated
				sid = sids[max(0, next-1-rng.IntN(3))]
			case 2: // deleted before its fan-out
				if _, err := db.w.ExecContext(ctx, `DELETE FROM statuses WHERE id = ?`, sid); err != nil {
					t.Fatalf("deleting a status: %v", err)
				}
				deleted[sid] = true
				next++
			default:
				next++
			}
			var tls []social.Timeline
			for _, tl := range timelines {
				if rng.IntN(4) > 0 {
					tls = append(tls, tl)
				}
			}
			ds = append(ds, social.Delivery{Status: sid, Timelines: tls})
		}
		if rng.IntN(4) == 0 && len(ds) > 1 {
			// A batch of older statuses after newer ones: the other
			// order a concurrent worker gives.
			slices.Reverse(ds)
		}
		if _, err := db.Deliver(ctx, ds); err != nil {
			t.Fatalf("step %d: Deliver: %v", step, err)
		}
		for _, d := range ds {
			if deleted[d.Status] {
				continue
			}
			for _, tl := range d.Timelines {
				if !slices.Contains(model[tl], d.Status) {
					model[tl] = newestIDs(append(slices.Clone(model[tl]), d.Status), h)
				}
			}
		}
		for _, tl := range timelines {
			if held := heldIDs(t, db, tl); len(held) > h+overTrim+2*flushAt+12 {
				t.Fatalf("step %d: %v holds %d ids at size %d", step, tl, len(held), h)
			}
			wantIDs(t, fmt.Sprintf("step %d: %v", step, tl), timelineIDs(t, db, tl), append([]social.StatusID{}, model[tl]...))
		}
	}
}
