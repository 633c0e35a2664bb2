package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"starling/internal/httpapi"
	"starling/internal/social"
)

func (h *Handler) timelineRoutes() {
	h.handle("GET /home", h.signedIn(h.homePage))
	h.handle("POST /compose", h.signedIn(h.compose))
	h.handle("GET /s/{id}", h.page(h.statusPage))
	h.handle("POST /s/{id}/delete", h.signedIn(h.deleteStatus))
}

// pageSize is how many statuses a timeline page shows.
const pageSize = 30

// timelineView is a timeline as the timeline template shows it.
type timelineView struct {
	V        viewer
	Label    string
	Statuses []social.Status
	// Stream is the SSE stream a page script follows to keep the timeline
	// live; empty on older pages, which do not change.
	Stream string
	// Me is the viewer's login, for the script to offer delete on their
	// own statuses.
	Me string
	// Older is the link to the next page, by max_id; empty on the last.
	Older string
}

// maxIDParam reads the max_id of an "older" link: 0 when absent.
func maxIDParam(r *http.Request) (social.StatusID, error) {
	s := r.URL.Query().Get("max_id")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, &pageError{status: http.StatusBadRequest, message: "That page does not exist (max_id must be a positive number)."}
	}
	return social.StatusID(n), nil
}

// streamPosition reads where the event log is, before a page reads the
// statuses it shows: the page's stream resumes after that event
// (resumeAt), so that nothing posted between rendering the page and its
// script connecting is missed; anything already shown that the stream
// sends again, the script skips. "" when unknown.
func (h *Handler) streamPosition(ctx context.Context) string {
	if h.streamAt == nil {
		return ""
	}
	id, err := h.streamAt(ctx)
	if err != nil {
		h.log.WarnContext(ctx, "web: reading the stream position", "err", err)
		return ""
	}
	if id == 0 {
		return ""
	}
	return strconv.FormatUint(id, 10)
}

// resumeAt is stream resuming after the event at pos (see streamPosition).
func resumeAt(stream, pos string) string {
	if stream == "" || pos == "" {
		return stream
	}
	return withQuery(stream, "last_event_id", pos)
}

// newTimeline builds the view of one page of a timeline read with count
// pageSize below maxID.
func newTimeline(v viewer, label string, statuses []social.Status, maxID social.StatusID, stream, base string) timelineView {
	tv := timelineView{V: v, Label: label, Statuses: statuses, Me: v.Login}
	if maxID == 0 {
		tv.Stream = stream
	}
	// A page may come back short when some of its entries were deleted,
	// so a full page is not the test: any status at all may have older
	// ones, and the last page simply shows none.
	if n := len(statuses); n > 0 {
		tv.Older = withQuery(base, "max_id", strconv.FormatInt(int64(statuses[n-1].ID), 10))
	}
	return tv
}

func withQuery(base, key, value string) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + key + "=" + url.QueryEscape(value)
}

type homeView struct {
	Timeline timelineView
	Compose  composeForm
}

type composeForm struct {
	Errors formErrors
	Values formValues
	Max    int
}

func (h *Handler) homePage(w http.ResponseWriter, r *http.Request, v viewer) error {
	return h.showHome(w, r, v, http.StatusOK, composeForm{})
}

func (h *Handler) showHome(w http.ResponseWriter, r *http.Request, v viewer, status int, form composeForm) error {
	maxID, err := maxIDParam(r)
	if err != nil {
		return err
	}
	pos := h.streamPosition(r.Context())
	statuses, err := h.svc.Timeline(r.Context(), social.Timeline{Kind: social.Home, ID: int64(v.ID)}, social.Page{Count: pageSize, MaxID: maxID})
	if err != nil {
		return err
	}
	form.Max = h.svc.Config().MaxStatusLen
	tv := newTimeline(v, "Home timeline", statuses, maxID, resumeAt(httpapi.Prefix+"/streams/home", pos), "/home")
	h.render(w, r, status, "home", v, "Home", homeView{Timeline: tv, Compose: form})
	return nil
}

func (h *Handler) compose(w http.ResponseWriter, r *http.Request, v viewer) error {
	f := r.PostForm
	message, lat, lon := f.Get("message"), strings.TrimSpace(f.Get("lat")), strings.TrimSpace(f.Get("lon"))
	loc, err := parseLocation(lat, lon)
	if err == nil {
		err = h.browser.AllowPost(r, v.ID)
	}
	if err == nil {
		_, err = h.svc.Post(r.Context(), social.User{ID: v.ID, Login: v.Login}, message, loc)
	}
	if err != nil {
		return showFormError(w, r, err, func(errs formErrors, status int) error {
			if msg, ok := errs[""]; ok && status == http.StatusTooManyRequests {
				errs = formErrors{"message": msg}
			}
			r.URL.RawQuery = "" // the form is on the newest page
			return h.showHome(w, r, v, status, composeForm{Errors: errs,
				Values: formValues{"message": message, "lat": lat, "lon": lon}})
		})
	}
	return done(w, r, "/home")
}

// parseLocation reads the optional location fields: both empty, or both
// numbers (the Service checks their ranges).
func parseLocation(lat, lon string) (*social.Location, error) {
	if lat == "" && lon == "" {
		return nil, nil
	}
	la, err1 := strconv.ParseFloat(lat, 64)
	lo, err2 := strconv.ParseFloat(lon, 64)
	if err1 != nil || err2 != nil {
		return nil, &social.ValidationError{Field: "location", Reason: "needs both a latitude and a longitude, as numbers"}
	}
	return &social.Location{Lat: la, Lon: lo}, nil
}

func statusIDParam(r *http.Request) (social.StatusID, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n < 1 {
		return 0, errNotFound
	}
	return social.StatusID(n), nil
}

func (h *Handler) statusPage(w http.ResponseWriter, r *http.Request, v viewer) error {
	id, err := statusIDParam(r)
	if err != nil {
		return err
	}
	s, err := h.svc.Status(r.Context(), id)
	if err != nil {
		return err
	}
	tv := timelineView{V: v, Label: "Status", Statuses: []social.Status{s}}
	h.render(w, r, http.StatusOK, "status", v, "@"+s.Login, tv)
	return nil
}

func (h *Handler) deleteStatus(w http.ResponseWriter, r *http.Request, v viewer) error {
	id, err := statusIDParam(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteStatus(r.Context(), v.ID, id); err != nil {
		return err
	}
	return done(w, r, safeNext(r.PostForm.Get("next")))
}
