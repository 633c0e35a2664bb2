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

// readyz: GET /readyz → 200 {"status":"ok", "jobs": {...}} when the store
// answers a ping, else 503. The job counts are details for operators: a
// failure to read them is logged but does not make the process unready,
// since the queue lives in the store that just answered.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := a.svc.Ping(ctx); err != nil {
		a.log.WarnContext(ctx, "httpapi: not ready", "err", err)
		return errNotReady
	}
	answer := statusOK{Status: "ok"}
	if a.queue != nil {
		st, err := a.queue.Stats(ctx)
		if err != nil {
			a.log.WarnContext(ctx, "httpapi: reading job counts for /readyz", "err", err)
		} else {
			answer.Jobs = presentStats(st)
		}
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}
