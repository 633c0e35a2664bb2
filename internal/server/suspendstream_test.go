package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A suspended user's statuses leave public streams: a client resuming
// with Last-Event-ID after the suspension is not replayed the statuses
// the user posted before it, while everyone else's still come; on both
// engines, over real HTTP.
func TestSuspendedAuthorLeavesStreamReplay(t *testing.T) {
	for _, name := range []string{"sqlite", "redis"} {
		t.Run(name, func(t *testing.T) {
			cfg := onEngine(t, name, Config{Addr: "127.0.0.1:0"})
			srv := startServerIn(t, cfg)
			boss := registerAndLogin(t, srv, "boss")
			srv.stop()
			cfg.Admins = []string{"boss"}
			srv = startServerIn(t, cfg)
			ann, eve := registerAndLogin(t, srv, "ann"), registerAndLogin(t, srv, "eve")
			post := func(token, message string) {
				t.Helper()
				if st, body := httpDo(t, srv, "POST", "/api/starling/v1/statuses", token, map[string]string{"message": message}); st != http.StatusCreated {
					t.Fatalf("posting %q: %d %s", message, st, body)
				}
			}
			base := "http://" + srv.Addr().String()
			openSSE := func(lastEventID string) *bufio.Reader {
				t.Helper()
				req, _ := http.NewRequest("GET", base+"/api/starling/v1/streams/firehose", nil)
				if lastEventID != "" {
					req.Header.Set("Last-Event-ID", lastEventID)
				}
				res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
				if err != nil || res.StatusCode != http.StatusOK {
					t.Fatalf("GET firehose: %v %v", err, res)
				}
				t.Cleanup(func() { res.Body.Close() })
				return bufio.NewReader(res.Body)
			}
			// readUntil reads status events until one carries message,
			// returning the messages read and the last event id.
			readUntil := func(r *bufio.Reader, message string) (got []string, id string) {
				t.Helper()
				for {
					l := readLine(t, r)
					if v, ok := strings.CutPrefix(l, "id: "); ok {
						id = v
					}
					data, ok := strings.CutPrefix(l, "data: ")
					if !ok {
						continue
					}
					var st struct{ Message string }
					if err := json.Unmarshal([]byte(data), &st); err != nil {
						t.Fatalf("event data %q: %v", data, err)
					}
					got = append(got, st.Message)
					if st.Message == message {
						return got, id
					}
				}
			}

			live := openSSE("")
			post(ann, "marker")
			_, markerID := readUntil(live, "marker")
			post(eve, "eve before")
			post(ann, "ann before")
			if got, _ := readUntil(live, "ann before"); strings.Join(got, "|") != "eve before|ann before" {
				t.Fatalf("live before the suspension: got %q, want eve's and ann's statuses", got)
			}

			if st, body := httpDo(t, srv, "PUT", "/api/starling/v1/admin/users/eve/suspension", boss, nil); st != http.StatusNoContent {
				t.Fatalf("suspending eve: %d %s", st, body)
			}
			if st, _ := httpDo(t, srv, "POST", "/api/starling/v1/statuses", eve, map[string]string{"message": "eve after"}); st != http.StatusUnauthorized {
				t.Fatalf("eve posting while suspended: %d, want 401", st)
			}

			resumed := openSSE(markerID)
			post(ann, "ann after")
			if got, _ := readUntil(resumed, "ann after"); strings.Join(got, "|") != "ann before|ann after" {
				t.Fatalf("resumed after the marker: got %q, want ann's statuses only", got)
			}
			if got, _ := readUntil(live, "ann after"); strings.Join(got, "|") != "ann after" {
				t.Fatalf("live after the suspension: got %q, want ann's status", got)
			}
		})
	}
}
