package social

import "context"

// checkFollowingLimit refuses a follow of target by uid with ErrLimitReached
// when uid already follows MaxFollowing users, unless uid follows target
// already (following again changes nothing and succeeds). It is checked
// before the store's Follow, not in the same step, so concurrent follows
// by one user may pass the limit by the number in flight; the follow rate
// limit keeps that small.
func (s *Service) checkFollowingLimit(ctx context.Context, uid, target UserID) error {
	me, err := s.store.User(ctx, uid)
	if err != nil {
		return err
	}
	if me.Following < int64(s.cfg.MaxFollowing) {
		return nil
	}
	// At the limit: only a repeated follow is allowed. Rare, so the
	// followings are simply paged through.
	for page := 1; ; page++ {
		ids, err := s.store.Following(ctx, uid, Page{Count: MaxPageCount, Page: page})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id == target {
				return nil
			}
		}
		if len(ids) < MaxPageCount {
			return ErrLimitReached
		}
	}
}
