package ratelimit_test

import (
	"flag"
	"strings"
	"testing"
	"time"

	"starling/internal/ratelimit"
)

func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ratelimit.Limit
	}{
		{"off", ratelimit.Unlimited},
		{" OFF ", ratelimit.Unlimited},
		{"60/1m,20", ratelimit.Limit{Rate: 60, Per: time.Minute, Burst: 20}},
		{"60/1m", ratelimit.Limit{Rate: 60, Per: time.Minute, Burst: 60}},
		{"300/h", ratelimit.Limit{Rate: 300, Per: time.Hour, Burst: 300}},
		{"5/s,1", ratelimit.Limit{Rate: 5, Per: time.Second, Burst: 1}},
		{"1/90s,3", ratelimit.Limit{Rate: 1, Per: 90 * time.Second, Burst: 3}},
		{"10 / 1h30m , 4", ratelimit.Limit{Rate: 10, Per: 90 * time.Minute, Burst: 4}},
		{"1000000/1s,10000", ratelimit.Limit{Rate: 1_000_000, Per: time.Second, Burst: 10_000}},
	} {
		got, err := ratelimit.ParseLimit(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "on", "60", "60/", "/1m", "60/1m,", "0/1m", "-1/1m", "+1/1m", "1.5/1m", "60/1x",
		"60/0s", "60/-1m", "60/25h", "60/1m,0", "60/1m,-2", "60/1m,10001", "1000001/1h",
		"2000000/1s", "60/1m,20,3", "9999999999/1h", "1/1m,1/1m",
	} {
		if got, err := ratelimit.ParseLimit(in); err == nil {
			t.Errorf("ParseLimit(%q) = %+v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "N/PERIOD") {
			t.Errorf("ParseLimit(%q) error %q does not say what is expected", in, err)
		}
	}
	// A rate or burst too large to count says so, rather than that it is
	// not a positive integer.
	for _, tc := range []struct{ in, want string }{
		{"1000000000/1ns,1", "rate is too high"},
		{"99999999999/1h", "rate is too high"},
		{"2000000/1s", "over 1000000"},
		{"60/1m,10000000000", "burst is too high"},
	} {
		if _, err := ratelimit.ParseLimit(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseLimit(%q) error %v, want one saying %q", tc.in, err, tc.want)
		}
	}
}

func TestLimitStringRoundTrips(t *testing.T) {
	for _, l := range []ratelimit.Limit{
		ratelimit.Unlimited,
		{Rate: 60, Per: time.Minute, Burst: 20},
		{Rate: 7, Per: 90 * time.Second, Burst: 1},
		{Rate: 3, Per: 1500 * time.Millisecond, Burst: 2},
		{Rate: 1, Per: 24 * time.Hour, Burst: 10_000},
	} {
		got, err := ratelimit.ParseLimit(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", l.String(), got, err, l)
		}
	}
}

func TestLimitIsAFlag(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	l := ratelimit.DefaultPolicies().Post
	fs.Var(&l, "rate-post", "posting limit")
	if err := fs.Parse([]string{"--rate-post", "2/1s,4"}); err != nil {
		t.Fatal(err)
	}
	if want := (ratelimit.Limit{Rate: 2, Per: time.Second, Burst: 4}); l != want {
		t.Fatalf("after --rate-post 2/1s,4: %+v, want %+v", l, want)
	}
	if err := fs.Set("rate-post", "bogus"); err == nil {
		t.Fatal("setting a bogus limit succeeded")
	}
}

func TestDefaultPoliciesAreValid(t *testing.T) {
	p := ratelimit.Policies{}.WithDefaults()
	if p != ratelimit.DefaultPolicies() {
		t.Fatalf("zero Policies with defaults = %+v, want DefaultPolicies", p)
	}
	for _, l := range []ratelimit.Limit{p.Register, p.Login, p.LoginTarget, p.LoginAccount, p.Post, p.Follow, p.Chat, p.Stream} {
		if l.Unlimited() || l.Validate() != nil {
			t.Errorf("default %v is unlimited or invalid: %v", l, l.Validate())
		}
	}
	off := ratelimit.Policies{Post: ratelimit.Unlimited}.WithDefaults()
	if !off.Post.Unlimited() || off.Follow != ratelimit.DefaultPolicies().Follow {
		t.Fatalf("Unlimited was replaced by a default, or another field was not: %+v", off)
	}
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"off", "60/1m,20", "300/h", "5/s", "1/90s,3", "10/1h30m,4", "", "1/0s", "9/1ns", "1000000/1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ratelimit.ParseLimit(s)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseLimit(%q) = %+v, which is invalid: %v", s, l, err)
		}
		again, err := ratelimit.ParseLimit(l.String())
		if err != nil || again != l {
			t.Fatalf("ParseLimit(%q) = %+v, but its String %q parses to %+v, %v", s, l, l.String(), again, err)
		}
		if !l.Unlimited() && (l.Interval() < time.Microsecond || l.BurstSize() < 1) {
			t.Fatalf("ParseLimit(%q) = %+v: interval %v, burst %d", s, l, l.Interval(), l.BurstSize())
		}
	})
}
