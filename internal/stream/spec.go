package stream

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Kind is the kind of a stream.
type Kind uint8

const (
	Firehose Kind = iota + 1
	Sample
	FilterKind
	Home
	ListKind
)

// ParseKind reads a stream kind's name: firehose, sample, filter, home or
// list.
func ParseKind(s string) (Kind, bool) {
	switch s {
	case "firehose":
		return Firehose, true
	case "sample":
		return Sample, true
	case "filter":
		return FilterKind, true
	case "home":
		return Home, true
	case "list":
		return ListKind, true
	}
	return 0, false
}

func (k Kind) String() string {
	switch k {
	case Firehose:
		return "firehose"
	case Sample:
		return "sample"
	case FilterKind:
		return "filter"
	case Home:
		return "home"
	case ListKind:
		return "list"
	}
	return "unknown"
}

// Spec is what one stream subscription receives.
type Spec struct {
	Kind   Kind
	Keep   KeepSet // Sample
	Filter Filter  // FilterKind
	User   int64   // Home: whose home timeline
	List   int64   // ListKind: which list
}

// ParseSpec reads the parameters of a firehose, sample or filter stream.
// identifier is the identifier the sample's keep-set derives from; the
// caller has checked that there is one.
func ParseSpec(kind Kind, v url.Values, identifier string) (Spec, error) {
	s := Spec{Kind: kind}
	switch kind {
	case Sample:
		p, err := ParsePercent(v)
		if err != nil {
			return Spec{}, err
		}
		s.Keep = SampleKeepSet(identifier, p)
	case FilterKind:
		f, err := ParseFilter(v)
		if err != nil {
			return Spec{}, err
		}
		s.Filter = f
	}
	return s, nil
}

// ParseID reads a positive decimal id (a list id, an event id).
func ParseID(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 63)
	return n, err == nil && n > 0
}

// matches reports whether the subscription receives ev. The hub finds the
// same clients through its index; this is the rule itself, used when a
// client replays missed events and to check the index.
func (s *Spec) matches(ev *event) bool {
	switch ev.kind {
	case created, deleted:
		switch s.Kind {
		case Firehose:
			return true
		case Sample:
			return s.Keep.Keeps(ev.st.ID)
		case FilterKind:
			return s.Filter.matches(ev)
		case Home:
			return ev.st.UID == s.User
		}
	case delivered, purged:
		switch s.Kind {
		case Home:
			return slices.Contains(ev.homes, s.User)
		case ListKind:
			return slices.Contains(ev.lists, s.List)
		}
	}
	return false
}

func (f *Filter) matches(ev *event) bool {
	if l := ev.st.Location; l != nil {
		for _, b := range f.Boxes {
			if b.Contains(l.Lat, l.Lon) {
				return true
			}
		}
	}
	if len(f.Logins) > 0 {
		author := strings.ToLower(ev.st.Login)
		words := ev.messageWords()
		for _, l := range f.Logins {
			if l == author {
				return true
			}
			if _, ok := words["@"+l]; ok {
				return true
			}
		}
	}
	if len(f.Phrases) > 0 {
		words := ev.messageWords()
		for _, p := range f.Phrases {
			if words.hasAll(p) {
				return true
			}
		}
	}
	return false
}
