package httpapi

import (
	"net/http"
	"strconv"

	"starling/internal/social"
)

// postStatus: POST /api/starling/v1/statuses {message, location?} → 201 status.
func (a *API) postStatus(w http.ResponseWriter, r *http.Request, s session) error {
	if err := a.allowUser(r, "post", a.limits.Post, s.user.ID); err != nil {
		return err
	}
	var req postRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	loc, err := req.Location.location()
	if err != nil {
		return err
	}
	st, err := a.svc.Post(r.Context(), s.author(), req.Message, loc)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/statuses/"+strconv.FormatInt(int64(st.ID), 10))
	return a.writeStatus(w, http.StatusCreated, st)
}

// location turns a decoded location into the domain's. Ranges are the
// Service's rule; only the shape is checked here: both coordinates, or no
// location at all.
func (l *locationRequest) location() (*social.Location, error) {
	if l == nil {
		return nil, nil
	}
	if l.Lat == nil || l.Lon == nil {
		return nil, &social.ValidationError{Field: "location", Reason: "must have both lat and lon, or be null"}
	}
	return &social.Location{Lat: *l.Lat, Lon: *l.Lon}, nil
}

// status: GET /api/starling/v1/statuses/{id} → 200 status.
func (a *API) status(w http.ResponseWriter, r *http.Request) error {
	id, ok := pathID[social.StatusID](r)
	if !ok {
		return social.ErrStatusNotFound
	}
	st, err := a.svc.Status(r.Context(), id)
	if err != nil {
		return err
	}
	return a.writeStatus(w, http.StatusOK, st)
}

// deleteStatus: DELETE /api/starling/v1/statuses/{id} → 204; only the author may.
func (a *API) deleteStatus(w http.ResponseWriter, r *http.Request, s session) error {
	id, ok := pathID[social.StatusID](r)
	if !ok {
		return social.ErrStatusNotFound
	}
	if err := a.svc.DeleteStatus(r.Context(), s.user.ID, id); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// pathID parses the {id} of a path. Only the canonical decimal form of a
// positive int64 names a status or list; anything else ("abc", "0", "-1",
// "007", "+7") names nothing, so callers answer 404 as for an id that was
// never used, rather than 400: the path is the resource's name, and a name
// that cannot exist is simply not found.
func pathID[ID ~int64](r *http.Request) (ID, bool) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != raw {
		return 0, false
	}
	return ID(id), true
}
