package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"starling/internal/social"
)

// homeTimeline: GET /api/starling/v1/timelines/home?count&page&max_id → 200 [status].
func (a *API) homeTimeline(w http.ResponseWriter, r *http.Request, s session) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	sts, err := a.svc.Timeline(r.Context(), social.HomeOf(s.user.ID), p)
	if err != nil {
		return err
	}
	return a.writeStatuses(w, sts)
}

// profileTimeline: GET /api/starling/v1/users/{login}/statuses?count&page&max_id →
// 200 [status].
func (a *API) profileTimeline(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	sts, err := a.svc.ProfileTimeline(r.Context(), r.PathValue("login"), p)
	if err != nil {
		return err
	}
	return a.writeStatuses(w, sts)
}

// listTimeline: GET /api/starling/v1/lists/{id}/statuses?count&page&max_id →
// 200 [status].
func (a *API) listTimeline(w http.ResponseWriter, r *http.Request) error {
	id, ok := pathID[social.ListID](r)
	if !ok {
		return social.ErrListNotFound
	}
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	sts, err := a.svc.ListTimeline(r.Context(), id, p)
	if err != nil {
		return err
	}
	return a.writeStatuses(w, sts)
}

// parsePage reads count, page and max_id from the query string. Absent
// parameters take the Service's defaults; present ones must be integers
// given once, and an explicit zero is out of range (the Service reads zero
// as "absent", which would turn count=0 into the default count). Ranges
// beyond that, and whether max_id is allowed at all, are the Service's
// rules (social.Page.Normalize).
func parsePage(r *http.Request) (social.Page, error) {
	var p social.Page
	q, err := query(r, "count", "page", "max_id")
	if err != nil {
		return p, err
	}
	count, err := intParam(q, "count", "must be 1–"+strconv.Itoa(social.MaxPageCount))
	if err != nil {
		return p, err
	}
	page, err := intParam(q, "page", "must be 1–"+strconv.Itoa(social.MaxPage))
	if err != nil {
		return p, err
	}
	maxID, err := intParam(q, "max_id", "must be a positive status id")
	if err != nil {
		return p, err
	}
	// Checked here, before the conversion to int, so that a huge value
	// cannot wrap on a 32-bit platform.
	if count > social.MaxPageCount {
		return p, &social.PageError{Param: "count", Reason: "must be 1–" + strconv.Itoa(social.MaxPageCount)}
	}
	if page > social.MaxPage {
		return p, &social.PageError{Param: "page", Reason: "must be 1–" + strconv.Itoa(social.MaxPage)}
	}
	return social.Page{Count: int(count), Page: int(page), MaxID: social.StatusID(maxID)}, nil
}

// intParam returns the positive integer value of a query parameter, or 0
// when it is absent.
func intParam(q url.Values, name, reason string) (int64, error) {
	values, ok := q[name]
	if !ok {
		return 0, nil
	}
	if len(values) > 1 {
		return 0, &social.PageError{Param: name, Reason: "must be given once"}
	}
	n, err := strconv.ParseInt(values[0], 10, 64)
	if err != nil || n < 1 {
		return 0, &social.PageError{Param: name, Reason: reason}
	}
	return n, nil
}
