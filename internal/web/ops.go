package web

import (
	"context"
	"errors"
	"net/http"

	"starling/internal/httpapi"
	"starling/internal/jobs"
)

func (h *Handler) opsRoutes() {
	h.handle("GET /ops", h.adminOnly(h.opsPage))
	h.handle("POST /ops/dead/{id}/retry", h.adminOnly(h.retryDead))
	h.handle("POST /ops/dead/{id}/drop", h.adminOnly(h.dropDead))
}

var errNotAdmin = &pageError{status: http.StatusForbidden, message: "Only administrators may see this page."}

func (h *Handler) adminOnly(f pageFunc) http.HandlerFunc {
	return h.signedIn(func(w http.ResponseWriter, r *http.Request, v viewer) error {
		if !v.Admin {
			return errNotAdmin
		}
		return f(w, r, v)
	})
}

type opsView struct {
	HasQueue  bool
	Stats     jobs.Stats
	Dead      []jobs.DeadJob
	CanSettle bool
	AccessLog string // the SSE stream of the access log
	Notice    string
}

// maxDeadShown bounds the dead jobs the page lists.
const maxDeadShown = 100

func (h *Handler) opsPage(w http.ResponseWriter, r *http.Request, v viewer) error {
	ov := opsView{HasQueue: h.queue != nil, AccessLog: httpapi.Prefix + "/admin/accesslog?format=sse"}
	switch r.URL.Query().Get("done") {
	case "retry":
		ov.Notice = "The job is queued again."
	case "drop":
		ov.Notice = "The job was dropped."
	}
	if h.queue != nil {
		var err error
		if ov.Stats, err = h.queue.Stats(r.Context()); err != nil {
			return err
		}
		if ov.Dead, err = h.queue.Dead(r.Context(), maxDeadShown); err != nil {
			return err
		}
		ov.CanSettle = h.dead != nil
	}
	h.render(w, r, http.StatusOK, "ops", v, "Operations", ov)
	return nil
}

func (h *Handler) retryDead(w http.ResponseWriter, r *http.Request, v viewer) error {
	return h.settleDead(w, r, "retry", jobs.DeadLetters.Revive)
}

func (h *Handler) dropDead(w http.ResponseWriter, r *http.Request, v viewer) error {
	return h.settleDead(w, r, "drop", jobs.DeadLetters.Drop)
}

func (h *Handler) settleDead(w http.ResponseWriter, r *http.Request, what string, act func(jobs.DeadLetters, context.Context, string) error) error {
	if h.dead == nil {
		return errNotFound
	}
	err := act(h.dead, r.Context(), r.PathValue("id"))
	if errors.Is(err, jobs.ErrNoDeadJob) {
		return &pageError{status: http.StatusNotFound, message: "There is no such dead job (it may have been retried or dropped already)."}
	}
	if err != nil {
		return err
	}
	return done(w, r, "/ops?done="+what)
}
