package stream

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"starling/internal/events"
)

// statusData is a status as the social core's events carry it.
type statusData struct {
	ID       int64     `json:"id"`
	UID      int64     `json:"uid"`
	Login    string    `json:"login"`
	Message  string    `json:"message"`
	Posted   time.Time `json:"posted"`
	Location *struct {
		Lat float64 `json:"lat"`
		Lon float64 `json:"lon"`
	} `json:"location"`
}

// timelineData is the data of timeline.delivered and timeline.purged.
type timelineData struct {
	Status statusData `json:"status"`
	Homes  []int64    `json:"homes"`
	Lists  []int64    `json:"lists"`
}

type eventKind uint8

const (
	created eventKind = iota + 1
	deleted
	delivered
	purged
)

// event is a log entry decoded once for every client that sees it.
type event struct {
	id           uint64
	kind         eventKind
	st           statusData
	homes, lists []int64

	// Built on first use by the hub's goroutine, or by a replaying client
	// for an event of its own; never shared between the two.
	words  wordSet
	frames [numFormats][]byte
}

func decodeEvent(e Entry) (*event, error) {
	ev := &event{id: e.ID}
	var err error
	switch e.Topic {
	case events.StatusCreated, events.StatusDeleted:
		ev.kind = created
		if e.Topic == events.StatusDeleted {
			ev.kind = deleted
		}
		err = json.Unmarshal(e.Data, &ev.st)
	case events.TimelineDelivered, events.TimelinePurged:
		ev.kind = delivered
		if e.Topic == events.TimelinePurged {
			ev.kind = purged
		}
		var td timelineData
		err = json.Unmarshal(e.Data, &td)
		ev.st, ev.homes, ev.lists = td.Status, td.Homes, td.Lists
	default:
		return nil, fmt.Errorf("stream: entry %d has topic %q", e.ID, e.Topic)
	}
	if err != nil {
		return nil, fmt.Errorf("stream: decoding entry %d (%s): %w", e.ID, e.Topic, err)
	}
	return ev, nil
}

func (ev *event) isDelete() bool { return ev.kind == deleted || ev.kind == purged }

// messageWords returns the distinct words of the status's message.
func (ev *event) messageWords() wordSet {
	if ev.words == nil {
		ev.words = newWordSet(ev.st.Message)
	}
	return ev.words
}

// Format is how a transport frames events.
type Format uint8

const (
	// FormatChunked is one JSON object per line ending "\r\n".
	FormatChunked Format = iota
	// FormatSSE is a Server-Sent Events message with id and event type.
	FormatSSE
	// FormatWS is the tail of a WebSocket message after the subscription's
	// own `{"sub":"...",` head, ending in '\n' so that a buffer of several
	// can be split.
	FormatWS
	numFormats
)

// frame returns the event framed for f, encoding it on first use.
func (ev *event) frame(f Format) []byte {
	if ev.frames[f] == nil {
		ev.frames[f] = ev.encode(f)
	}
	return ev.frames[f]
}

// timeLayout is the API's: RFC 3339 in UTC with exactly three fractional
// digits.
const timeLayout = "2006-01-02T15:04:05.000Z"

func (ev *event) data() []byte {
	if ev.isDelete() {
		return fmt.Appendf(nil, `{"id":%d,"deleted":true}`, ev.st.ID)
	}
	type location struct {
		Lat float64 `json:"lat"`
		Lon float64 `json:"lon"`
	}
	out := struct {
		ID       int64     `json:"id"`
		UID      int64     `json:"uid"`
		Login    string    `json:"login"`
		Message  string    `json:"message"`
		Posted   string    `json:"posted"`
		Location *location `json:"location"`
	}{ev.st.ID, ev.st.UID, ev.st.Login, ev.st.Message, ev.st.Posted.UTC().Format(timeLayout), nil}
	if l := ev.st.Location; l != nil {
		out.Location = &location{l.Lat, l.Lon}
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(fmt.Sprintf("stream: encoding a status: %v", err)) // plain strings and numbers
	}
	return b
}

func (ev *event) typeName() string {
	if ev.isDelete() {
		return "delete"
	}
	return "status"
}

func (ev *event) encode(f Format) []byte {
	data := ev.data()
	switch f {
	case FormatChunked:
		return append(data, '\r', '\n')
	case FormatSSE:
		b := make([]byte, 0, len(data)+48)
		b = append(b, "id: "...)
		b = strconv.AppendUint(b, ev.id, 10)
		b = append(b, "\nevent: "...)
		b = append(b, ev.typeName()...)
		b = append(b, "\ndata: "...)
		b = append(b, data...)
		return append(b, '\n', '\n')
	default:
		b := make([]byte, 0, len(data)+48)
		b = append(b, `"event":"`...)
		b = append(b, ev.typeName()...)
		b = append(b, `","id":"`...)
		b = strconv.AppendUint(b, ev.id, 10)
		b = append(b, `","data":`...)
		b = append(b, data...)
		return append(b, '}', '\n')
	}
}
