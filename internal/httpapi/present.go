package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// Presentation: how the API's answers look on the wire.

const (
	contentTypeJSON = "application/json; charset=utf-8"
	// timeLayout is RFC 3339 in UTC with exactly three fractional digits,
	// so that times sort as strings and clients need not guess precision.
	timeLayout = "2006-01-02T15:04:05.000Z"
)

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// Presentation types. Field order is the order clients see.

type userJSON struct {
	ID        social.UserID `json:"id"`
	Login     string        `json:"login"`
	Name      string        `json:"name"`
	Followers int64         `json:"followers"`
	Following int64         `json:"following"`
	Posts     int64         `json:"posts"`
	Signup    string        `json:"signup"`
}

func presentUser(u social.User) userJSON {
	return userJSON{
		ID: u.ID, Login: u.Login, Name: u.Name,
		Followers: u.Followers, Following: u.Following, Posts: u.Posts,
		Signup: formatTime(u.Signup),
	}
}

func presentUsers(us []social.User) []userJSON {
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, presentUser(u))
	}
	return out
}

type locationJSON struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

type statusJSON struct {
	ID       social.StatusID `json:"id"`
	UID      social.UserID   `json:"uid"`
	Login    string          `json:"login"`
	Message  string          `json:"message"`
	Posted   string          `json:"posted"`
	Location *locationJSON   `json:"location"` // null when the author gave none
}

func presentStatus(s social.Status) statusJSON {
	out := statusJSON{ID: s.ID, UID: s.UID, Login: s.Login, Message: s.Message, Posted: formatTime(s.Posted)}
	if s.Location != nil {
		out.Location = &locationJSON{Lat: s.Location.Lat, Lon: s.Location.Lon}
	}
	return out
}

func presentStatuses(ss []social.Status) []statusJSON {
	out := make([]statusJSON, 0, len(ss))
	for _, s := range ss {
		out = append(out, presentStatus(s))
	}
	return out
}

type listJSON struct {
	ID        social.ListID `json:"id"`
	Name      string        `json:"name"`
	UID       social.UserID `json:"uid"`
	Login     string        `json:"login"`
	Following int64         `json:"following"` // the member count
	Created   string        `json:"created"`
}

func presentList(l social.List) listJSON {
	return listJSON{ID: l.ID, Name: l.Name, UID: l.UID, Login: l.Login, Following: l.Members, Created: formatTime(l.Created)}
}

func presentLists(ls []social.List) []listJSON {
	out := make([]listJSON, 0, len(ls))
	for _, l := range ls {
		out = append(out, presentList(l))
	}
	return out
}

type tokenJSON struct {
	Token string   `json:"token"`
	User  userJSON `json:"user"`
}

type statusOK struct {
	Status string `json:"status"`
}

type deadJobJSON struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Attempts int    `json:"attempts"`
	Reason   string `json:"reason"`
	Died     string `json:"died"`
	// Payload is embedded as JSON when it is JSON (as every job of the
	// social core's is); any other payload comes base64-encoded instead.
	Payload       json.RawMessage `json:"payload,omitempty"`
	PayloadBase64 []byte          `json:"payload_base64,omitempty"`
}

func presentDeadJob(j jobs.DeadJob) deadJobJSON {
	out := deadJobJSON{ID: j.ID, Kind: j.Kind, Attempts: j.Attempts, Reason: j.Reason, Died: formatTime(j.Died)}
	if json.Valid(j.Payload) {
		out.Payload = j.Payload
	} else {
		out.PayloadBase64 = j.Payload
	}
	return out
}

type statsJSON struct {
	Ready   int64           `json:"ready"`
	Delayed int64           `json:"delayed"`
	Leased  int64           `json:"leased"`
	Dead    int64           `json:"dead"`
	Kinds   []kindStatsJSON `json:"kinds"`
}

type kindStatsJSON struct {
	Kind    string `json:"kind"`
	Ready   int64  `json:"ready"`
	Delayed int64  `json:"delayed"`
	Leased  int64  `json:"leased"`
	Dead    int64  `json:"dead"`
	// OldestReady is when the longest-waiting ready job became runnable;
	// null when none is ready.
	OldestReady *string `json:"oldest_ready"`
}

func presentStats(s jobs.Stats, kinds []jobs.KindStats) *statsJSON {
	out := &statsJSON{Ready: s.Ready, Delayed: s.Delayed, Leased: s.Leased, Dead: s.Dead, Kinds: make([]kindStatsJSON, 0, len(kinds))}
	for _, k := range kinds {
		row := kindStatsJSON{Kind: k.Kind, Ready: k.Ready, Delayed: k.Delayed, Leased: k.Leased, Dead: k.Dead}
		if !k.OldestReady.IsZero() {
			at := formatTime(k.OldestReady)
			row.OldestReady = &at
		}
		out.Kinds = append(out.Kinds, row)
	}
	return out
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type errorJSON struct {
	Error errorDetail `json:"error"`
}

// writeJSON sends v with the given status. The body is encoded in full
// before anything is written, so that an encoding failure still gets a
// clean 500 instead of a truncated answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorJSON{Error: errorDetail{Code: errInternal.code, Message: errInternal.message}})
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client hung up; nothing left to tell it
}

// writeNoContent answers 204.
func writeNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}
