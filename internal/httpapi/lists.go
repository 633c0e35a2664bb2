package httpapi

import (
	"net/http"
	"strconv"

	"starling/internal/social"
)

// createList: POST /api/starling/v1/lists {name} → 201 list.
func (a *API) createList(w http.ResponseWriter, r *http.Request, s session) error {
	var req listRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := a.svc.CreateList(r.Context(), s.author(), req.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/lists/"+strconv.FormatInt(int64(l.ID), 10))
	writeJSON(w, http.StatusCreated, presentList(l))
	return nil
}

// list: GET /api/starling/v1/lists/{id} → 200 list.
func (a *API) list(w http.ResponseWriter, r *http.Request) error {
	id, ok := pathID[social.ListID](r)
	if !ok {
		return social.ErrListNotFound
	}
	l, err := a.svc.List(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, presentList(l))
	return nil
}

// deleteList: DELETE /api/starling/v1/lists/{id} → 204; only the owner may.
func (a *API) deleteList(w http.ResponseWriter, r *http.Request, s session) error {
	id, ok := pathID[social.ListID](r)
	if !ok {
		return social.ErrListNotFound
	}
	if err := a.svc.DeleteList(r.Context(), s.user.ID, id); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// listMembers: GET /api/starling/v1/lists/{id}/members?count&page → 200 [user],
// most recently added first.
func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	id, ok := pathID[social.ListID](r)
	if !ok {
		return social.ErrListNotFound
	}
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	users, err := a.svc.ListMembers(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, presentUsers(users))
	return nil
}

// addListMember: PUT /api/starling/v1/lists/{id}/members/{login} → 204, also when
// already a member; only the owner may.
func (a *API) addListMember(w http.ResponseWriter, r *http.Request, s session) error {
	if err := a.allowUser(r, "follow", a.limits.Follow, s.user.ID); err != nil {
		return err
	}
	id, ok := pathID[social.ListID](r)
	if !ok {
		return social.ErrListNotFound
	}
	if err := a.svc.AddListMember(r.Context(), s.user.ID, id, r.PathValue("login")); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// removeListMember: DELETE /api/starling/v1/lists/{id}/members/{login} → 204, also
// when not a member; only the owner may.
func (a *API) removeListMember(w http.ResponseWriter, r *http.Request, s session) error {
	if err := a.allowUser(r, "follow", a.limits.Follow, s.user.ID); err != nil {
		return err
	}
	id, ok := pathID[social.ListID](r)
	if !ok {
		return social.ErrListNotFound
	}
	if err := a.svc.RemoveListMember(r.Context(), s.user.ID, id, r.PathValue("login")); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// usersLists: GET /api/starling/v1/users/{login}/lists → 200 [list], oldest first.
func (a *API) usersLists(w http.ResponseWriter, r *http.Request) error {
	ls, err := a.svc.ListsOf(r.Context(), r.PathValue("login"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, presentLists(ls))
	return nil
}
