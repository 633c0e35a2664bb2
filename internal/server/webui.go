package server

import (
	"log/slog"
	"net/http"

	"starling/internal/engine"
	"starling/internal/httpapi"
	"starling/internal/social"
	"starling/internal/web"
)

// newWebUI builds the web UI over the API's browser sessions. admins are
// the ids --admins resolved to at start, as the API checks them.
func newWebUI(svc *social.Service, eng *engine.Engine, api *httpapi.API, admins []social.UserID, log *slog.Logger) *web.Handler {
	isAdmin := make(map[social.UserID]bool, len(admins))
	for _, id := range admins {
		isAdmin[id] = true
	}
	return web.New(web.Config{
		Service: svc, Browser: api.Browser(), Queue: eng.Queue, Logger: log,
		StreamPosition: eng.EventLog.Last,
		IsAdmin:        func(c social.Caller) bool { return isAdmin[c.ID] },
	})
}

// withWebUI serves the web UI's paths with ui and every other path (the
// API, the classic endpoints, health checks) with api.
func withWebUI(api http.Handler, ui *web.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ui.Owns(r) {
			ui.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
