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

func (h *Handler) profileRoutes() {
	h.handle("GET /u/{login}", h.page(h.profilePage))
	h.handle("POST /u/{login}/follow", h.signedIn(h.follow))
	h.handle("POST /u/{login}/unfollow", h.signedIn(h.unfollow))
	h.handle("GET /u/{login}/followers", h.page(h.peoplePage(true)))
	h.handle("GET /u/{login}/following", h.page(h.peoplePage(false)))
}

type profileView struct {
	User     social.User
	Self     bool
	Follows  followState
	Timeline timelineView
}

// followState is whether the viewer follows a profile, as far as the page
// knows.
type followState int

const (
	followUnknown followState = iota // both buttons are shown; both are idempotent
	followNo
	followYes
)

// Yes and No are for templates.
func (f followState) Yes() bool { return f == followYes }
func (f followState) No() bool  { return f == followNo }

// maxFollowScan bounds how much of the viewer's following a profile page
// reads to know whether the viewer follows the profile. The store has no
// one-pair lookup; past this the page offers both buttons.
const maxFollowScan = 1000

func (h *Handler) profilePage(w http.ResponseWriter, r *http.Request, v viewer) error {
	login := r.PathValue("login")
	u, err := h.svc.User(r.Context(), login)
	if err != nil {
		return err
	}
	maxID, err := maxIDParam(r)
	if err != nil {
		return err
	}
	pos := h.streamPosition(r.Context())
	statuses, err := h.svc.ProfileTimeline(r.Context(), u.Login, social.Page{Count: pageSize, MaxID: maxID})
	if err != nil {
		return err
	}
	pv := profileView{User: u, Self: v.ID == u.ID}
	if v.SignedIn() && !pv.Self {
		if pv.Follows, err = h.follows(r, v, u); err != nil {
			return err
		}
	}
	// The profile follows its author's statuses (and deletes) live through
	// the filter stream; the page script skips statuses that only mention
	// the author.
	stream := resumeAt(httpapi.Prefix+"/streams/filter?follow="+url.QueryEscape(u.Login), pos)
	pv.Timeline = newTimeline(v, "Statuses by @"+u.Login, statuses, maxID, stream, "/u/"+url.PathEscape(u.Login))
	h.render(w, r, http.StatusOK, "profile", v, u.Name+" (@"+u.Login+")", pv)
	return nil
}

func (h *Handler) follows(r *http.Request, v viewer, u social.User) (followState, error) {
	me, err := h.svc.UserByID(r.Context(), v.ID)
	if err != nil {
		return followUnknown, err
	}
	if me.Following > maxFollowScan {
		return followUnknown, nil
	}
	for page := 1; (page-1)*200 < int(me.Following); page++ {
		users, err := h.svc.Following(r.Context(), me.Login, social.Page{Count: 200, Page: page})
		if err != nil {
			return followUnknown, err
		}
		for _, f := range users {
			if f.ID == u.ID {
				return followYes, nil
			}
		}
		if len(users) < 200 {
			break
		}
	}
	return followNo, nil
}

func (h *Handler) follow(w http.ResponseWriter, r *http.Request, v viewer) error {
	return h.followAction(w, r, v, h.svc.Follow)
}

func (h *Handler) unfollow(w http.ResponseWriter, r *http.Request, v viewer) error {
	return h.followAction(w, r, v, h.svc.Unfollow)
}

func (h *Handler) followAction(w http.ResponseWriter, r *http.Request, v viewer,
	act func(ctx context.Context, uid social.UserID, login string) error) error {
	login := r.PathValue("login")
	if err := h.browser.AllowFollow(r, v.ID); err != nil {
		return err
	}
	if err := act(r.Context(), v.ID, login); err != nil {
		return err
	}
	return done(w, r, safeNext(r.PostForm.Get("next")))
}

type peopleView struct {
	User      social.User
	Followers bool
	People    []social.User
	Prev      string
	Next      string
}

const peoplePageSize = 50

func (h *Handler) peoplePage(followers bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, v viewer) error {
		u, err := h.svc.User(r.Context(), r.PathValue("login"))
		if err != nil {
			return err
		}
		page := 1
		if s := r.URL.Query().Get("page"); s != "" {
			if page, err = strconv.Atoi(s); err != nil || page < 1 || page > 10000 {
				return &pageError{status: http.StatusBadRequest, message: "That page does not exist."}
			}
		}
		read, what := h.svc.Following, "following"
		if followers {
			read, what = h.svc.Followers, "followers"
		}
		people, err := read(r.Context(), u.Login, social.Page{Count: peoplePageSize, Page: page})
		if err != nil {
			return err
		}
		base := "/u/" + url.PathEscape(u.Login) + "/" + what
		pv := peopleView{User: u, Followers: followers, People: people}
		if page > 1 {
			pv.Prev = base + "?page=" + strconv.Itoa(page-1)
		}
		if len(people) == peoplePageSize {
			pv.Next = base + "?page=" + strconv.Itoa(page+1)
		}
		title := "People @" + u.Login + " follows"
		if followers {
			title = "Followers of @" + u.Login
		}
		h.render(w, r, http.StatusOK, "people", v, strings.TrimSpace(title), pv)
		return nil
	}
}
