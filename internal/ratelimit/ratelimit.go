package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limiter decides whether a request under a key may go through.
type Limiter interface {
	// Allow counts one request under key against limit and reports whether
	// it may go through. A refused request is not counted. An unlimited
	// Limit (see Limit.Unlimited) is always allowed without touching any
	// state. Allow fails only when the limiter cannot decide (its store is
	// unreachable, ctx ended) or limit is invalid; callers choose whether
	// to let the request through then (see docs/SECURITY.md).
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

// Decision is a Limiter's answer.
type Decision struct {
	Allowed bool
	// RetryAfter is how long until the same request would be allowed;
	// zero when Allowed.
	RetryAfter time.Duration
	// Remaining is how many more requests would be allowed right now, or
	// -1 for an unlimited Limit.
	Remaining int
}

// Limit allows Burst requests at once, then Rate requests per Per on
// average. A Limit whose Rate is zero or negative is unlimited; Unlimited
// is the canonical one.
type Limit struct {
	Rate  int           // requests per Per, on average
	Per   time.Duration // the period Rate is counted over
	Burst int           // requests allowed at once; zero means 1
}

// Unlimited lets every request through. It is what "off" parses to.
var Unlimited = Limit{Rate: -1}

// Bounds of a valid Limit. They keep the arithmetic of both
// implementations far from overflow (Per/Rate·Burst stays below 300 years
// of nanoseconds) and the interval at a microsecond or more, the
// resolution of the Redis implementation.
const (
	MaxRate  = 1_000_000
	MaxBurst = 10_000
	MaxPer   = 24 * time.Hour
	minGap   = time.Microsecond
)

// Unlimited reports whether l lets every request through.
func (l Limit) Unlimited() bool { return l.Rate <= 0 }

// IsZero reports whether l is the zero Limit, which configuration structs
// read as "the default".
func (l Limit) IsZero() bool { return l == Limit{} }

// Interval is the average time between two requests at the sustained
// rate. It is zero for an unlimited Limit.
func (l Limit) Interval() time.Duration {
	if l.Unlimited() || l.Per <= 0 {
		return 0
	}
	return l.Per / time.Duration(l.Rate)
}

// BurstSize is Burst, or 1 when Burst is zero.
func (l Limit) BurstSize() int {
	if l.Burst <= 0 {
		return 1
	}
	return l.Burst
}

// Validate reports whether l is unlimited or within the bounds above.
func (l Limit) Validate() error {
	if l.Unlimited() {
		return nil
	}
	switch {
	case l.Rate > MaxRate:
		return fmt.Errorf("ratelimit: rate %d is over %d", l.Rate, MaxRate)
	case l.Per <= 0 || l.Per > MaxPer:
		return fmt.Errorf("ratelimit: period %v is not within (0, %v]", l.Per, MaxPer)
	case l.Burst < 0 || l.Burst > MaxBurst:
		return fmt.Errorf("ratelimit: burst %d is not within 1–%d", l.Burst, MaxBurst)
	case l.Interval() < minGap:
		return fmt.Errorf("ratelimit: %d per %v is faster than one request per %v", l.Rate, l.Per, minGap)
	}
	return nil
}

// String formats l the way ParseLimit reads it: "off", or "N/PERIOD,BURST"
// such as "60/1m,20".
func (l Limit) String() string {
	if l.Unlimited() {
		if l.IsZero() {
			return ""
		}
		return "off"
	}
	return strconv.Itoa(l.Rate) + "/" + formatPeriod(l.Per) + "," + strconv.Itoa(l.BurstSize())
}

func formatPeriod(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// ParseLimit reads a limit written as
//
//	off                 no limit
//	N/PERIOD            N requests per PERIOD, N of them at once
//	N/PERIOD,BURST      N requests per PERIOD, BURST of them at once
//
// PERIOD is a Go duration ("1m", "90s", "1h30m") or a bare unit ("s", "m",
// "h") meaning one of it. Examples: "5/1s,20", "300/h", "off".
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Unlimited, nil
	}
	bad := func(reason string) (Limit, error) {
		return Limit{}, fmt.Errorf("ratelimit: %q: %s (want N/PERIOD[,BURST] such as 60/1m,20, or off)", s, reason)
	}
	rate, rest, ok := strings.Cut(s, "/")
	if !ok {
		return bad("no '/'")
	}
	period, burst, hasBurst := strings.Cut(rest, ",")
	var l Limit
	var err error
	if l.Rate, err = parseCount(rate); errors.Is(err, errTooLarge) {
		return bad(fmt.Sprintf("the rate is too high (at most %d per period)", MaxRate))
	} else if err != nil || l.Rate < 1 {
		return bad("the rate must be a positive integer")
	}
	switch p := strings.TrimSpace(period); p {
	case "s":
		l.Per = time.Second
	case "m":
		l.Per = time.Minute
	case "h":
		l.Per = time.Hour
	default:
		if l.Per, err = time.ParseDuration(p); err != nil {
			return bad("the period must be a duration such as 1s, 1m or 1h")
		}
	}
	l.Burst = l.Rate
	if hasBurst {
		if l.Burst, err = parseCount(burst); errors.Is(err, errTooLarge) {
			return bad(fmt.Sprintf("the burst is too high (at most %d)", MaxBurst))
		} else if err != nil || l.Burst < 1 {
			return bad("the burst must be a positive integer")
		}
	}
	if err := l.Validate(); err != nil {
		return bad(strings.TrimPrefix(err.Error(), "ratelimit: "))
	}
	return l, nil
}

var errTooLarge = errors.New("too large")

// parseCount reads a decimal count, refusing signs and anything huge.
func parseCount(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a count")
	}
	if len(s) > 9 {
		return 0, errTooLarge
	}
	return strconv.Atoi(s)
}

// Set implements flag.Value, so that a Limit can be a command-line flag.
func (l *Limit) Set(s string) error {
	v, err := ParseLimit(s)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// maxKeyLen bounds the keys implementations store; longer ones are
// replaced by a digest so that a client cannot make the limiter hold
// large strings.
const maxKeyLen = 128

// StorageKey returns key, or a fixed-size digest of it when it is longer
// than 128 bytes. Implementations store StorageKey(key), never key itself.
func StorageKey(key string) string {
	if len(key) <= maxKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}
