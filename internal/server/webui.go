package server

import (
	"context"
	"log/slog"
	"net/http"

	"starling/internal/chat"
	"starling/internal/engine"
	"starling/internal/httpapi"
	"starling/internal/social"
	"starling/internal/web"
)

// newWebUI builds the web UI over the API's browser sessions. admins are
// the ids --admins resolved to at start, as the API checks them.
func newWebUI(cfg Config, svc *social.Service, eng *engine.Engine, api *httpapi.API, rooms *chat.Rooms, admins []social.UserID, log *slog.Logger) *web.Handler {
	isAdmin := make(map[social.UserID]bool, len(admins))
	for _, id := range admins {
		isAdmin[id] = true
	}
	return web.New(web.Config{
		Service: svc, Browser: api.Browser(), Queue: eng.Queue, DeadLetters: eng.DeadLetters, Logger: log,
		StreamPosition: eng.EventLog.Last,
		Chat:           chatRooms{rooms}, ChatRequireLogin: cfg.ChatRequireLogin,
		IsAdmin: func(c social.Caller) bool { return isAdmin[c.ID] },
	})
}

// chatRooms shows the chat rooms to the web UI's chat pages.
type chatRooms struct{ rooms *chat.Rooms }

var _ web.Chat = chatRooms{}

// Recent returns what a client without a cursor gets: the room's newest
// messages (its in-memory window), oldest first.
func (c chatRooms) Recent(ctx context.Context, room string) ([]web.ChatMessage, error) {
	b, err := c.rooms.Read(ctx, room, "")
	if err != nil {
		return nil, err
	}
	msgs := make([]web.ChatMessage, len(b.Entries))
	for i, e := range b.Entries {
		msgs[i] = web.ChatMessage{ID: e.ID, Body: e.Body, Login: e.Login, Posted: e.Posted}
	}
	return msgs, nil
}

// Rooms returns up to limit room names, the most recently active first.
func (c chatRooms) Rooms(ctx context.Context, limit int) ([]string, error) {
	infos, err := c.rooms.List(ctx, limit)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(infos))
	for i, ri := range infos {
		names[i] = ri.Name
	}
	return names, nil
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
