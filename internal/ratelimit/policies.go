package ratelimit

import "time"

// Policies are the limits of a Starling deployment, one per kind of
// request. A zero field means its default (DefaultPolicies); Unlimited
// turns a policy off. Who a policy counts (a client IP, a user, a login)
// is decided where it is applied; docs/SECURITY.md has the table.
type Policies struct {
	// Register limits POST /api/starling/v1/users per client IP.
	Register Limit
	// Login limits token and session creation (POST /api/starling/v1/tokens,
	// POST /api/starling/v1/sessions) per client IP.
	Login Limit
	// LoginTarget limits the same requests per login tried from one
	// address block (an IPv4 /24, an IPv6 /64): wrong guesses from one
	// block lock that block out of the account, not everyone.
	LoginTarget Limit
	// LoginAccount limits the same requests per login tried, from every
	// address together: a higher cap that stops password guessing spread
	// over many address blocks.
	LoginAccount Limit
	// Post limits POST /api/starling/v1/statuses per user.
	Post Limit
	// Follow limits changes to the follow graph per user: following,
	// unfollowing, adding and removing list members.
	Follow Limit
	// Chat limits chat messages per user, or per client IP for anonymous
	// senders.
	Chat Limit
	// Stream limits opening stream connections per stream identifier or
	// user, and per client IP.
	Stream Limit
}

// DefaultPolicies are the limits used where a configuration leaves them
// zero. They are generous: a person using a client never meets them, the
// test suites and `starling bench` (except its posting scenario, see
// docs/SECURITY.md) run under them, and they still cap what one address or
// one account can cost the server. Logging in and registering each run a
// password hash of about 50 ms, so their per-address rates also bound the
// CPU one address can take, and their bursts are small: a burst is work
// that one address can queue for the hashing slots at once.
func DefaultPolicies() Policies {
	return Policies{
		Register:     Limit{Rate: 60, Per: time.Hour, Burst: 10},
		Login:        Limit{Rate: 60, Per: time.Minute, Burst: 20},
		LoginTarget:  Limit{Rate: 30, Per: time.Hour, Burst: 10},
		LoginAccount: Limit{Rate: 120, Per: time.Hour, Burst: 100},
		Post:         Limit{Rate: 300, Per: time.Minute, Burst: 60},
		Follow:       Limit{Rate: 60, Per: time.Minute, Burst: 100},
		Chat:         Limit{Rate: 60, Per: time.Minute, Burst: 20},
		Stream:       Limit{Rate: 30, Per: time.Minute, Burst: 10},
	}
}

// WithDefaults returns p with every zero field set to its default.
func (p Policies) WithDefaults() Policies {
	d := DefaultPolicies()
	for _, f := range []struct{ field, def *Limit }{
		{&p.Register, &d.Register},
		{&p.Login, &d.Login},
		{&p.LoginTarget, &d.LoginTarget},
		{&p.LoginAccount, &d.LoginAccount},
		{&p.Post, &d.Post},
		{&p.Follow, &d.Follow},
		{&p.Chat, &d.Chat},
		{&p.Stream, &d.Stream},
	} {
		if f.field.IsZero() {
			*f.field = *f.def
		}
	}
	return p
}
