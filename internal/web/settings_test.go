package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// signIn signs login in through the sign-in form.
func signIn(t *testing.T, tab context.Context, base, login, password string) {
	t.Helper()
	navigate(t, tab, base+"/signin")
	do(t, tab, chromedp.SetValue(chromedp.CSS("#login"), login), chromedp.SetValue(chromedp.CSS("#password"), password))
	submit(t, tab, "main form button[type=submit]")
}

// path is a JavaScript expression: the path of the page open.
const path = `location.pathname`

// Changing the password keeps this session and ends the others; signing
// out everywhere ends every session, the API's tokens included.
func TestSettingsChangePasswordAndSignOutEverywhere(t *testing.T) {
	base := startServer(t, nil)
	browser := newBrowser(t)
	laptop, phone := newUser(t, browser, true), newUser(t, browser, false)
	signUp(t, laptop, base, "ada")
	signIn(t, phone, base, "ada", testPassword)
	if got := eval[string](t, phone, path); got != "/home" {
		t.Fatalf("signed in on the phone, landed on %s, want /home", got)
	}

	// A wrong current password is refused next to its field.
	const newPassword = "a new and longer secret"
	navigate(t, laptop, base+"/settings")
	do(t, laptop, chromedp.SetValue(chromedp.CSS("#current"), "not my password"),
		chromedp.SetValue(chromedp.CSS("#new"), newPassword), chromedp.SetValue(chromedp.CSS("#confirm"), newPassword))
	submit(t, laptop, `form[action="/settings/password"] button`)
	if got := eval[string](t, laptop, `(document.getElementById("current-error") || {}).textContent || ""`); !strings.Contains(got, "current password") {
		t.Fatalf("error next to the current password: got %q", got)
	}
	// Two different new passwords are refused next to the second.
	do(t, laptop, chromedp.SetValue(chromedp.CSS("#current"), testPassword),
		chromedp.SetValue(chromedp.CSS("#new"), newPassword), chromedp.SetValue(chromedp.CSS("#confirm"), newPassword+"!"))
	submit(t, laptop, `form[action="/settings/password"] button`)
	if got := eval[string](t, laptop, `(document.getElementById("confirm-error") || {}).textContent || ""`); got == "" {
		t.Fatal("a confirmation that differs is not explained next to its field")
	}

	do(t, laptop, chromedp.SetValue(chromedp.CSS("#current"), testPassword),
		chromedp.SetValue(chromedp.CSS("#new"), newPassword), chromedp.SetValue(chromedp.CSS("#confirm"), newPassword))
	submit(t, laptop, `form[action="/settings/password"] button`)
	if got := eval[string](t, laptop, `(document.querySelector("main .notice") || {}).textContent || ""`); !strings.Contains(got, "password was changed") {
		t.Fatalf("after changing the password: notice %q, want a confirmation", got)
	}
	navigate(t, laptop, base+"/home")
	if got := eval[string](t, laptop, path); got != "/home" {
		t.Fatalf("the session that changed the password was signed out (at %s)", got)
	}
	navigate(t, phone, base+"/home")
	if got := eval[string](t, phone, path); got != "/signin" {
		t.Fatalf("the other session still reads /home after the password change (at %s)", got)
	}
	signIn(t, phone, base, "ada", testPassword)
	if got := eval[string](t, phone, path); got != "/signin" {
		t.Fatal("the old password still signs in")
	}
	signIn(t, phone, base, "ada", newPassword)
	if got := eval[string](t, phone, path); got != "/home" {
		t.Fatalf("the new password does not sign in (at %s)", got)
	}
	token := apiToken(t, base, "ada", newPassword)

	navigate(t, phone, base+"/settings")
	submit(t, phone, `form[action="/settings/signout-everywhere"] button`)
	if got := eval[string](t, phone, path); got != "/signin" {
		t.Fatalf("after signing out everywhere the phone is at %s, want /signin", got)
	}
	navigate(t, laptop, base+"/home")
	if got := eval[string](t, laptop, path); got != "/signin" {
		t.Fatalf("the laptop still reads /home after signing out everywhere (at %s)", got)
	}
	if status, _ := apiGet(t, base, token, "/api/starling/v1/me"); status != http.StatusUnauthorized {
		t.Fatalf("an API token of the account after signing out everywhere: got %d, want 401", status)
	}
}
