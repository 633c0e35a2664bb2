package httpapi

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds the store checks of /readyz: a probe that hangs is
// as bad as one that fails, and orchestrators time out on their own.
const readyTimeout = 2 * time.Second

var errNotReady = &apiError{http.StatusServiceUnavailable, "unavailable", "the store is not reachable"}

// healthz: GET /healthz → 200 {"status":"ok"} whenever the process serves
// HTTP at all; it touches nothing else, so a slow store never gets a live
// process restarted.
func (a *API) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, statusOK{Status: "ok"})
	return nil
}

// readyz: GET /readyz → 200 {"status":"ok"} when the store answers a ping,
// else 503. It says ready or not and nothing more: anyone may call it, and
// the job counts, which tell how loaded the process is, are for admins
// (GET /api/starling/v1/admin/jobs/stats).
func (a *API) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := a.svc.Ping(ctx); err != nil {
		a.log.WarnContext(ctx, "httpapi: not ready", "err", err)
		return errNotReady
	}
	writeJSON(w, http.StatusOK, statusOK{Status: "ok"})
	return nil
}
