package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"starling/internal/jobs"
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
// dead, kinds: [{kind, ready, delayed, leased, dead, oldest_ready}]}; admins
// only.
func (a *API) jobStats(w http.ResponseWriter, r *http.Request, _ session) error {
	if a.queue == nil {
		return errNoQueue
	}
	st, err := a.queue.Stats(r.Context())
	if err != nil {
		return err
	}
	var kinds []jobs.KindStats
	if a.jobKinds != nil {
		if kinds, err = a.jobKinds.StatsByKind(r.Context()); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, presentStats(st, kinds))
	return nil
}

var (
	errNoDeadLetters = &apiError{http.StatusServiceUnavailable, "unavailable", "this server cannot change dead jobs"}
	errNoDeadJob     = &apiError{http.StatusNotFound, "dead_job_not_found", "no dead job has that id"}
)

// reviveDeadJob: POST /api/starling/v1/admin/jobs/dead/{id}/retry → 204; the
// job runs again from its first attempt. Admins only.
func (a *API) reviveDeadJob(w http.ResponseWriter, r *http.Request, _ session) error {
	return a.changeDeadJob(w, r, a.deadLettersRevive)
}

// dropDeadJob: DELETE /api/starling/v1/admin/jobs/dead/{id} → 204. Admins
// only.
func (a *API) dropDeadJob(w http.ResponseWriter, r *http.Request, _ session) error {
	return a.changeDeadJob(w, r, a.deadLettersDrop)
}

func (a *API) deadLettersRevive(r *http.Request, id string) error {
	return a.deadLetters.Revive(r.Context(), id)
}

func (a *API) deadLettersDrop(r *http.Request, id string) error {
	return a.deadLetters.Drop(r.Context(), id)
}

func (a *API) changeDeadJob(w http.ResponseWriter, r *http.Request, change func(*http.Request, string) error) error {
	if a.deadLetters == nil {
		return errNoDeadLetters
	}
	id := r.PathValue("id")
	if len(id) > 64 {
		return errNoDeadJob
	}
	err := change(r, id)
	if errors.Is(err, jobs.ErrNoDeadJob) {
		return errNoDeadJob
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
