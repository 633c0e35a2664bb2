package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"starling/internal/httpapi"
	"starling/internal/social"
)

func (h *Handler) liveRoutes() {
	h.handle("GET /live", h.page(h.livePage))
}

type liveView struct {
	Values   formValues
	Errors   formErrors
	Timeline timelineView
}

// Bounds of the live filter form, those of the streaming API.
const (
	maxTrackPhrases = 400
	maxPhraseLen    = 60
	maxFollowLogins = 5000
	maxBoxes        = 25
)

// livePage shows the filter form and, for a page script, the stream of
// what matches it: the filter stream, or the firehose when no filter is
// given. Without JavaScript the page is only the form: the stream has no
// history to render.
func (h *Handler) livePage(w http.ResponseWriter, r *http.Request, v viewer) error {
	q := r.URL.Query()
	track, follow, location := strings.TrimSpace(q.Get("track")), strings.TrimSpace(q.Get("follow")), strings.TrimSpace(q.Get("location"))
	vals := formValues{"track": track, "follow": follow, "location": location}
	errs := checkLiveFilter(track, follow, location)
	status := http.StatusOK
	stream := httpapi.Prefix + "/streams/firehose"
	if len(errs) > 0 {
		status, stream = http.StatusUnprocessableEntity, ""
	} else if track != "" || follow != "" || location != "" {
		p := url.Values{}
		for k, val := range vals {
			if val != "" {
				p.Set(k, val)
			}
		}
		stream = httpapi.Prefix + "/streams/filter?" + p.Encode()
	}
	tv := timelineView{V: v, Label: "Live statuses", Stream: stream, Me: v.Login}
	h.render(w, r, status, "live", v, "Live", liveView{Values: vals, Errors: errs, Timeline: tv})
	return nil
}

// checkLiveFilter checks the filter fields as the streaming API would, so
// that mistakes are shown next to their field rather than as a stream that
// never opens.
func checkLiveFilter(track, follow, location string) formErrors {
	errs := formErrors{}
	if track != "" {
		phrases := strings.Split(track, ",")
		if len(phrases) > maxTrackPhrases {
			errs["track"] = "At most " + strconv.Itoa(maxTrackPhrases) + " phrases."
		}
		for _, p := range phrases {
			if len([]rune(strings.TrimSpace(p))) > maxPhraseLen {
				errs["track"] = "Each phrase may have at most " + strconv.Itoa(maxPhraseLen) + " characters."
			}
		}
	}
	if follow != "" {
		logins := strings.Split(follow, ",")
		if len(logins) > maxFollowLogins {
			errs["follow"] = "At most " + strconv.Itoa(maxFollowLogins) + " logins."
		}
		for _, l := range logins {
			if l = strings.TrimSpace(l); !social.ValidLogin(l) {
				errs["follow"] = "“" + l + "” is not a login: logins are 1–32 letters, digits or underscores, separated by commas."
				break
			}
		}
	}
	if location != "" {
		if msg := checkBoxes(location); msg != "" {
			errs["location"] = msg
		}
	}
	return errs
}

func checkBoxes(location string) string {
	parts := strings.Split(location, ",")
	if len(parts)%4 != 0 {
		return "Give boxes as four numbers each: south-west longitude, latitude, then north-east longitude, latitude."
	}
	if len(parts)/4 > maxBoxes {
		return "At most " + strconv.Itoa(maxBoxes) + " boxes."
	}
	var n [4]float64
	for i := 0; i < len(parts); i += 4 {
		for j := range 4 {
			f, err := strconv.ParseFloat(strings.TrimSpace(parts[i+j]), 64)
			if err != nil {
				return "“" + strings.TrimSpace(parts[i+j]) + "” is not a number."
			}
			n[j] = f
		}
		if n[0] < -180 || n[2] > 180 || n[1] < -90 || n[3] > 90 || n[0] > n[2] || n[1] > n[3] {
			return "Each box needs its south-west corner below and left of its north-east corner, longitudes within ±180 and latitudes within ±90."
		}
	}
	return ""
}
