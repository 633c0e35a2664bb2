package httpapi

import (
	"net/http"
	"strconv"

	"starling/internal/social"
)

const (
	defaultDeadLimit = 50
	maxDeadLimit     = 1000
)

var errNoQueue = &apiError{http.StatusServiceUnavailable, "unavailable", "this server has no job queue configured"}

// deadJobs: GET /api/starling/v1/admin/jobs/dead?limit → 200 [dead job], newest
// first; admins only.
func (a *API) deadJobs(w http.ResponseWriter, r *http.Request, _ session) error {
	if a.queue == nil {
		return errNoQueue
	}
	q, err := query(r, "limit")
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", "must be 1–"+strconv.Itoa(maxDeadLimit))
	if err != nil {
		return err
	}
	switch {
	case limit == 0:
		limit = defaultDeadLimit
	case limit > maxDeadLimit:
		return &social.PageError{Param: "limit", Reason: "must be 1–" + strconv.Itoa(maxDeadLimit)}
	}
	dead, err := a.queue.Dead(r.Context(), int(limit))
	if err != nil {
		return err
	}
	out := make([]deadJobJSON, 0, len(dead))
	for _, j := range dead {
		out = append(out, presentDeadJob(j))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// jobStats: GET /api/starling/v1/admin/jobs/stats → 200 {ready, delayed, leased,
// dead}; admins only.
func (a *API) jobStats(w http.ResponseWriter, r *http.Request, _ session) error {
	if a.queue == nil {
		return errNoQueue
	}
	st, err := a.queue.Stats(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, presentStats(st))
	return nil
}
