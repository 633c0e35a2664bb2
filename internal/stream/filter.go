package stream

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Caps on what one stream client may ask for. They bound the memory and
// index entries a client costs and the work per status; docs/API.md lists
// them with the errors that enforce them.
const (
	MaxPhrases     = 400  // track phrases
	MaxPhraseChars = 60   // characters in one track phrase
	MaxLogins      = 5000 // follow logins
	MaxBoxes       = 25   // location boxes
	MaxIdentifier  = 64   // characters (printable ASCII) in an identifier
	// MaxSubscriptions bounds the subscriptions of one WebSocket connection.
	MaxSubscriptions = 10
	maxLoginBytes    = 32
)

// ParamError is a stream parameter that cannot be used: the client gets
// 400 with Code.
type ParamError struct {
	Code    string
	Message string
}

func (e *ParamError) Error() string { return "stream: " + e.Code + ": " + e.Message }

func paramErr(code, format string, args ...any) *ParamError {
	return &ParamError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNoFilter is a filter stream with no usable track, follow or location.
var ErrNoFilter = &ParamError{Code: "filter_required", Message: "a filter stream needs at least one of track, follow or location"}

// ErrIdentifierRequired is a classic stream (or an anonymous sample
// stream) without an identifier; clients get 401.
var ErrIdentifierRequired = errors.New("stream: identifier required")

// Box is a location box in degrees, edges included.
type Box struct {
	West, South, East, North float64
}

// Contains reports whether the point lies in the box, edges included.
func (b Box) Contains(lat, lon float64) bool {
	return lon >= b.West && lon <= b.East && lat >= b.South && lat <= b.North
}

// Filter is what a filter stream matches; a status matches when any part
// does.
type Filter struct {
	// Phrases match when all their words are among the message's words.
	Phrases [][]string
	// Logins (lower-cased) match statuses by these authors, or whose
	// message has the word "@login".
	Logins []string
	// Boxes match statuses located in one of them.
	Boxes []Box
}

// Empty reports whether the filter can match nothing.
func (f *Filter) Empty() bool {
	return len(f.Phrases) == 0 && len(f.Logins) == 0 && len(f.Boxes) == 0
}

// ParseFilter reads the track, follow and location parameters. Repeated
// parameters add to each other. It returns ErrNoFilter when none gives
// anything to match, or a *ParamError for a malformed or oversized one.
func ParseFilter(v url.Values) (Filter, error) {
	var f Filter
	var err error
	if f.Phrases, err = parseTrack(v["track"]); err != nil {
		return Filter{}, err
	}
	if f.Logins, err = parseFollow(v["follow"]); err != nil {
		return Filter{}, err
	}
	if f.Boxes, err = parseLocation(v["location"]); err != nil {
		return Filter{}, err
	}
	if f.Empty() {
		return Filter{}, ErrNoFilter
	}
	return f, nil
}

// items splits comma-separated values into their trimmed, non-empty items.
func items(values []string) []string {
	var out []string
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

func parseTrack(values []string) ([][]string, error) {
	var phrases [][]string
	for _, p := range items(values) {
		if utf8.RuneCountInString(p) > MaxPhraseChars {
			return nil, paramErr("phrase_too_long", "a track phrase has at most %d characters", MaxPhraseChars)
		}
		if ws := Words(p); len(ws) > 0 {
			if len(phrases) == MaxPhrases {
				return nil, paramErr("too_many_phrases", "track has at most %d phrases", MaxPhrases)
			}
			phrases = append(phrases, ws)
		}
	}
	return phrases, nil
}

func parseFollow(values []string) ([]string, error) {
	var logins []string
	seen := make(map[string]bool)
	for _, l := range items(values) {
		if len(l) > maxLoginBytes || !validLogin(l) {
			return nil, paramErr("invalid_follow", "follow takes logins of 1–32 letters, digits and underscores")
		}
		l = strings.ToLower(l)
		if seen[l] {
			continue
		}
		if len(logins) == MaxLogins {
			return nil, paramErr("too_many_logins", "follow has at most %d logins", MaxLogins)
		}
		seen[l] = true
		logins = append(logins, l)
	}
	return logins, nil
}

func validLogin(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

func parseLocation(values []string) ([]Box, error) {
	nums := items(values)
	if len(nums)%4 != 0 {
		return nil, paramErr("invalid_location", "location takes groups of four numbers: south-west lon,lat, north-east lon,lat")
	}
	if len(nums)/4 > MaxBoxes {
		return nil, paramErr("too_many_boxes", "location has at most %d boxes", MaxBoxes)
	}
	boxes := make([]Box, 0, len(nums)/4)
	for i := 0; i < len(nums); i += 4 {
		var v [4]float64
		for j := range v {
			x, err := strconv.ParseFloat(nums[i+j], 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, paramErr("invalid_location", "%q is not a number", nums[i+j])
			}
			v[j] = x
		}
		b := Box{West: v[0], South: v[1], East: v[2], North: v[3]}
		if !inRange(b.West, 180) || !inRange(b.East, 180) || !inRange(b.South, 90) || !inRange(b.North, 90) {
			return nil, paramErr("invalid_location", "longitudes lie in [-180, 180] and latitudes in [-90, 90]")
		}
		if b.West > b.East || b.South > b.North {
			return nil, paramErr("invalid_location", "a box's south-west corner must not lie north or east of its north-east corner")
		}
		boxes = append(boxes, b)
	}
	return boxes, nil
}

func inRange(x, limit float64) bool { return x >= -limit && x <= limit }

// ParsePercent reads a sample stream's percent: an integer 1–100, 10 when
// absent.
func ParsePercent(v url.Values) (int, error) {
	s, ok := v["percent"]
	if !ok {
		return 10, nil
	}
	if len(s) != 1 {
		return 0, paramErr("invalid_percent", "give percent once")
	}
	p, err := strconv.Atoi(s[0])
	if err != nil || p < 1 || p > 100 {
		return 0, paramErr("invalid_percent", "percent is an integer from 1 to 100")
	}
	return p, nil
}

// ParseIdentifier reads the identifier parameter: "" when absent, else 1 to
// MaxIdentifier bytes of printable ASCII.
func ParseIdentifier(v url.Values) (string, error) {
	s := v["identifier"]
	if len(s) == 0 {
		return "", nil
	}
	if len(s) > 1 || s[0] == "" || len(s[0]) > MaxIdentifier {
		return "", paramErr("invalid_identifier", "identifier is given once, 1–%d printable ASCII characters", MaxIdentifier)
	}
	for i := 0; i < len(s[0]); i++ {
		if s[0][i] < 0x21 || s[0][i] > 0x7e {
			return "", paramErr("invalid_identifier", "identifier is given once, 1–%d printable ASCII characters", MaxIdentifier)
		}
	}
	return s[0], nil
}
