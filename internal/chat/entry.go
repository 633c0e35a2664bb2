package chat

import "encoding/json"

// Entry is a message as Rooms hands it out: the message, its parsed id and
// its JSON, encoded once however many clients it is sent to.
type Entry struct {
	Message
	HTML string
	id   ID
	json []byte
}

// JSON returns the message as clients see it: {"id", "room", "body",
// "html", "login" (only when the author was signed in), "posted"}. The
// slice is shared; do not modify it.
func (e *Entry) JSON() []byte { return e.json }

// timeLayout is RFC 3339 in UTC with milliseconds, as everywhere in the API.
const timeLayout = "2006-01-02T15:04:05.000Z"

type messageJSON struct {
	ID     string `json:"id"`
	Room   string `json:"room"`
	Body   string `json:"body"`
	HTML   string `json:"html"`
	Login  string `json:"login,omitempty"`
	Posted string `json:"posted"`
}

// NewEntry prepares m for clients. It fails when m's id does not parse.
func NewEntry(m Message) (*Entry, error) {
	id, err := ParseID(m.ID)
	if err != nil {
		return nil, err
	}
	e := &Entry{Message: m, HTML: HTML(m), id: id}
	e.json, err = json.Marshal(messageJSON{
		ID: m.ID, Room: m.Room, Body: m.Body, HTML: e.HTML, Login: m.Login,
		Posted: m.Posted.UTC().Format(timeLayout),
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// AppendJSONArray appends the JSON of entries as a JSON array to b.
func AppendJSONArray(b []byte, entries []*Entry) []byte {
	b = append(b, '[')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.json...)
	}
	return append(b, ']')
}
