package web

import (
	"net/http"

	"starling/internal/social"
)

func (h *Handler) accountRoutes() {
	h.handle("GET /signup", h.page(h.signUpPage))
	h.handle("POST /signup", h.page(h.signUp))
	h.handle("GET /signin", h.page(h.signInPage))
	h.handle("POST /signin", h.page(h.signIn))
	h.handle("POST /signout", h.signedIn(h.signOut))
	h.handle("GET /settings", h.signedIn(h.settingsPage))
	h.handle("POST /settings/password", h.signedIn(h.changePassword))
	h.handle("POST /settings/signout-everywhere", h.signedIn(h.signOutEverywhere))
}

// accountForm is a sign-in, sign-up or password form shown again.
type accountForm struct {
	Errors formErrors
	Values formValues
	Next   string
	Done   string // a confirmation, on the settings page
}

func (h *Handler) signUpPage(w http.ResponseWriter, r *http.Request, v viewer) error {
	h.render(w, r, http.StatusOK, "signup", v, "Sign up", accountForm{Next: r.URL.Query().Get("next")})
	return nil
}

func (h *Handler) signUp(w http.ResponseWriter, r *http.Request, v viewer) error {
	f := r.PostForm
	login, name, password := f.Get("login"), f.Get("name"), f.Get("password")
	if name == "" {
		name = login
	}
	if _, err := h.browser.SignUp(w, r, login, name, password); err != nil {
		return showFormError(w, r, err, func(errs formErrors, status int) error {
			h.render(w, r, status, "signup", v, "Sign up", accountForm{Errors: errs,
				Values: formValues{"login": login, "name": f.Get("name")}, Next: f.Get("next")})
			return nil
		})
	}
	return done(w, r, safeNext(f.Get("next")))
}

func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request, v viewer) error {
	h.render(w, r, http.StatusOK, "signin", v, "Sign in", accountForm{Next: r.URL.Query().Get("next")})
	return nil
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, v viewer) error {
	f := r.PostForm
	login := f.Get("login")
	if _, err := h.browser.SignIn(w, r, login, f.Get("password")); err != nil {
		return showFormError(w, r, err, func(errs formErrors, status int) error {
			h.render(w, r, status, "signin", v, "Sign in", accountForm{Errors: errs,
				Values: formValues{"login": login}, Next: f.Get("next")})
			return nil
		})
	}
	return done(w, r, safeNext(f.Get("next")))
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, v viewer) error {
	if err := h.browser.SignOut(w, r, v.token); err != nil {
		return err
	}
	return done(w, r, "/signin")
}

func (h *Handler) settingsPage(w http.ResponseWriter, r *http.Request, v viewer) error {
	form := accountForm{}
	if r.URL.Query().Get("changed") == "1" {
		form.Done = "Your password was changed. Your other sessions were signed out."
	}
	h.render(w, r, http.StatusOK, "settings", v, "Settings", form)
	return nil
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, v viewer) error {
	f := r.PostForm
	current, next := f.Get("current"), f.Get("new")
	var err error
	if next != f.Get("confirm") {
		err = &social.ValidationError{Field: "confirm", Reason: "must repeat the new password exactly"}
	} else {
		err = h.browser.ChangePassword(r, v.Caller, v.token, current, next)
	}
	if err != nil {
		return showFormError(w, r, err, func(errs formErrors, status int) error {
			h.render(w, r, status, "settings", v, "Settings", accountForm{Errors: errs})
			return nil
		})
	}
	return done(w, r, "/settings?changed=1")
}

func (h *Handler) signOutEverywhere(w http.ResponseWriter, r *http.Request, v viewer) error {
	if err := h.browser.SignOutEverywhere(w, r, v.ID); err != nil {
		return err
	}
	return done(w, r, "/signin")
}
