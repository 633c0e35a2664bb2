package web

import (
	"net/http"
	"strconv"

	"starling/internal/httpapi"
	"starling/internal/social"
)

// The list pages. Renaming is not offered: the Service has no rename.
func (h *Handler) listRoutes() {
	h.handle("GET /lists", h.page(h.listsPage))
	h.handle("POST /lists", h.signedIn(h.createList))
	h.handle("GET /lists/{id}", h.page(h.listPage))
	h.handle("POST /lists/{id}/delete", h.signedIn(h.deleteList))
	h.handle("POST /lists/{id}/members", h.signedIn(h.addMember))
	h.handle("POST /lists/{id}/members/{login}/remove", h.signedIn(h.removeMember))
}

type listsView struct {
	Owner  string
	Mine   bool
	Lists  []social.List
	Errors formErrors
	Values formValues
}

func (h *Handler) listsPage(w http.ResponseWriter, r *http.Request, v viewer) error {
	return h.showLists(w, r, v, http.StatusOK, nil, nil)
}

func (h *Handler) showLists(w http.ResponseWriter, r *http.Request, v viewer, status int, errs formErrors, vals formValues) error {
	owner := r.URL.Query().Get("owner")
	if owner == "" {
		if !v.SignedIn() {
			http.Redirect(w, r, "/signin?next=/lists", http.StatusSeeOther)
			return nil
		}
		owner = v.Login
	}
	lists, err := h.svc.ListsOf(r.Context(), owner)
	if err != nil {
		return err
	}
	lv := listsView{Owner: owner, Lists: lists, Errors: errs, Values: vals}
	if u, err := h.svc.User(r.Context(), owner); err == nil {
		lv.Owner, lv.Mine = u.Login, u.ID == v.ID
	}
	h.render(w, r, status, "lists", v, "Lists of @"+lv.Owner, lv)
	return nil
}

func (h *Handler) createList(w http.ResponseWriter, r *http.Request, v viewer) error {
	name := r.PostForm.Get("name")
	err := h.browser.AllowFollow(r, v.ID)
	var l social.List
	if err == nil {
		l, err = h.svc.CreateList(r.Context(), social.User{ID: v.ID, Login: v.Login}, name)
	}
	if err != nil {
		return showFormError(w, r, err, func(errs formErrors, status int) error {
			if msg, ok := errs[""]; ok {
				errs = formErrors{"name": msg}
			}
			r.URL.RawQuery = ""
			return h.showLists(w, r, v, status, errs, formValues{"name": name})
		})
	}
	return done(w, r, "/lists/"+strconv.FormatInt(int64(l.ID), 10))
}

func listIDParam(r *http.Request) (social.ListID, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n < 1 {
		return 0, errNotFound
	}
	return social.ListID(n), nil
}

type listView struct {
	List     social.List
	Mine     bool
	Members  []social.User
	Timeline timelineView
	Errors   formErrors
	Values   formValues
}

// maxListMembersShown bounds the members a list page shows.
const maxListMembersShown = 200

func (h *Handler) listPage(w http.ResponseWriter, r *http.Request, v viewer) error {
	return h.showList(w, r, v, http.StatusOK, nil, nil)
}

func (h *Handler) showList(w http.ResponseWriter, r *http.Request, v viewer, status int, errs formErrors, vals formValues) error {
	id, err := listIDParam(r)
	if err != nil {
		return err
	}
	l, err := h.svc.List(r.Context(), id)
	if err != nil {
		return err
	}
	maxID, err := maxIDParam(r)
	if err != nil {
		return err
	}
	members, err := h.svc.ListMembers(r.Context(), id, social.Page{Count: maxListMembersShown, Page: 1})
	if err != nil {
		return err
	}
	pos := h.streamPosition(r.Context())
	statuses, err := h.svc.ListTimeline(r.Context(), id, social.Page{Count: pageSize, MaxID: maxID})
	if err != nil {
		return err
	}
	idStr := strconv.FormatInt(int64(id), 10)
	stream := ""
	if v.SignedIn() {
		stream = resumeAt(httpapi.Prefix+"/streams/list/"+idStr, pos)
	}
	lv := listView{List: l, Mine: v.SignedIn() && l.UID == v.ID, Members: members, Errors: errs, Values: vals,
		Timeline: newTimeline(v, "Statuses of the list "+l.Name, statuses, maxID, stream, "/lists/"+idStr)}
	h.render(w, r, status, "list", v, l.Name+" (list)", lv)
	return nil
}

func (h *Handler) deleteList(w http.ResponseWriter, r *http.Request, v viewer) error {
	id, err := listIDParam(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteList(r.Context(), v.ID, id); err != nil {
		return err
	}
	return done(w, r, "/lists")
}

func (h *Handler) addMember(w http.ResponseWriter, r *http.Request, v viewer) error {
	id, err := listIDParam(r)
	if err != nil {
		return err
	}
	login := r.PostForm.Get("login")
	err = h.browser.AllowFollow(r, v.ID)
	if err == nil {
		err = h.svc.AddListMember(r.Context(), v.ID, id, login)
	}
	if err != nil {
		return showFormError(w, r, err, func(errs formErrors, status int) error {
			if msg, ok := errs[""]; ok {
				errs = formErrors{"login": msg}
			}
			r.URL.RawQuery = ""
			return h.showList(w, r, v, status, errs, formValues{"login": login})
		})
	}
	return done(w, r, "/lists/"+strconv.FormatInt(int64(id), 10))
}

func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request, v viewer) error {
	id, err := listIDParam(r)
	if err != nil {
		return err
	}
	if err := h.browser.AllowFollow(r, v.ID); err != nil {
		return err
	}
	if err := h.svc.RemoveListMember(r.Context(), v.ID, id, r.PathValue("login")); err != nil {
		return err
	}
	return done(w, r, "/lists/"+strconv.FormatInt(int64(id), 10)+"#members")
}
