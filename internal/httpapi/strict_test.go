package httpapi_test

import (
	"net/http"
	"testing"
)

// Field names are matched exactly: encoding/json on its own takes "LOGIN",
// "Message" or "meſſage" (with U+017F) for the field it folds to, which also
// slips a second value past the rule that a field comes once.
func TestFieldNamesAreExact(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	anon := s.anonymous()
	for _, tc := range []struct {
		name, path, body, code string
		through                *client
	}{
		{"login twice in two cases", "/api/starling/v1/users", `{"login":"newbie","name":"N","password":"password1","LOGIN":"other"}`, "unknown_field", anon},
		{"login in capitals", "/api/starling/v1/users", `{"LOGIN":"other","name":"N","password":"password1"}`, "unknown_field", anon},
		{"password capitalised at login", "/api/starling/v1/tokens", `{"login":"alice","Password":"secret-pw-alice"}`, "unknown_field", anon},
		{"message twice in two cases", "/api/starling/v1/statuses", `{"message":"x","Message":"y"}`, "unknown_field", alice},
		{"message in capitals", "/api/starling/v1/statuses", `{"MESSAGE":"x"}`, "unknown_field", alice},
		{"message with a long s", "/api/starling/v1/statuses", `{"meſſage":"x"}`, "unknown_field", alice},
		{"message with an escaped long s", "/api/starling/v1/statuses", `{"me\u017f\u017fage":"x"}`, "unknown_field", alice},
		{"latitude in capitals", "/api/starling/v1/statuses", `{"message":"x","location":{"LAT":1,"lon":2}}`, "unknown_field", alice},
		{"list name with an escaped capital", "/api/starling/v1/lists", `{"nam\u0045":"b"}`, "unknown_field", alice},
		{"list name capitalised", "/api/starling/v1/lists", `{"Name":"b"}`, "unknown_field", alice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := alice.snapshot("/api/starling/v1/me", "/api/starling/v1/users/alice/statuses", "/api/starling/v1/users/alice/lists", "/api/starling/v1/users/other")
			r := tc.through.do("POST", tc.path, rawBody{contentType: "application/json", data: tc.body})
			wantError(t, r, http.StatusBadRequest, tc.code)
			alice.wantUnchanged(before, tc.name)
		})
	}
	// Escapes of the exact name are the exact name.
	wantStatus(t, alice.do("POST", "/api/starling/v1/statuses", rawBody{contentType: "application/json", data: `{"m\u0065ssage":"escaped"}`}), http.StatusCreated)
}

// Text is valid UTF-8 or refused: neither raw invalid bytes nor escapes of
// half a surrogate pair are stored as U+FFFD.
func TestInvalidUTF8IsRefused(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	anon := s.anonymous()
	for _, tc := range []struct {
		name, path, body string
		through          *client
	}{
		{"raw bytes in a message", "/api/starling/v1/statuses", "{\"message\":\"caf\xc3\x28\"}", alice},
		{"raw bytes in a name", "/api/starling/v1/users", "{\"login\":\"newbie\",\"name\":\"\xff\",\"password\":\"password1\"}", anon},
		{"raw bytes in a key", "/api/starling/v1/statuses", "{\"message\":\"m\",\"\xfe\":1}", alice},
		{"lone high surrogate", "/api/starling/v1/statuses", `{"message":"a\ud800b"}`, alice},
		{"lone low surrogate", "/api/starling/v1/statuses", `{"message":"\udc00"}`, alice},
		{"high surrogate at the end", "/api/starling/v1/lists", `{"name":"x\uDBFF"}`, alice},
		{"two high surrogates", "/api/starling/v1/statuses", `{"message":"\ud83d\ud83d"}`, alice},
		{"surrogate before another escape", "/api/starling/v1/statuses", `{"message":"\ud83d\n"}`, alice},
		{"surrogate in a name", "/api/starling/v1/users", `{"login":"newbie","name":"\ud800","password":"password1"}`, anon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := alice.snapshot("/api/starling/v1/me", "/api/starling/v1/users/alice/statuses", "/api/starling/v1/users/alice/lists", "/api/starling/v1/users/newbie")
			r := tc.through.do("POST", tc.path, rawBody{contentType: "application/json", data: tc.body})
			wantError(t, r, http.StatusBadRequest, "invalid_utf8")
			alice.wantUnchanged(before, tc.name)
		})
	}
	// A pair escaped in full is one character.
	st := alice.post("\U0001F600", nil)
	r := alice.do("POST", "/api/starling/v1/statuses", rawBody{contentType: "application/json", data: `{"message":"\ud83d\ude00"}`})
	got := want[status](t, r, http.StatusCreated)
	if got.Message != st.Message {
		t.Fatalf("an escaped surrogate pair became %q, want %q", got.Message, st.Message)
	}
}

// Text made only of invisible characters is empty, and names refuse the
// controls that turn the direction of the text after them.
func TestInvisibleTextIsEmpty(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	anon := s.anonymous()
	for _, tc := range []struct {
		name, path, code string
		body             map[string]string
		through          *client
	}{
		{"zero-width name", "/api/starling/v1/users", "invalid_name", map[string]string{"login": "newbie", "name": "\u200b\u200d", "password": "password1"}, anon},
		{"name of bidi marks", "/api/starling/v1/users", "invalid_name", map[string]string{"login": "newbie", "name": " \u200e\u200f ", "password": "password1"}, anon},
		{"name with an override", "/api/starling/v1/users", "invalid_name", map[string]string{"login": "newbie", "name": "admin\u202e", "password": "password1"}, anon},
		{"invisible status", "/api/starling/v1/statuses", "invalid_message", map[string]string{"message": "\u200b\n\ufeff\u2060"}, alice},
		{"invisible list name", "/api/starling/v1/lists", "invalid_name", map[string]string{"name": "\u3164"}, alice},
		{"list name with an isolate", "/api/starling/v1/lists", "invalid_name", map[string]string{"name": "friends\u2066"}, alice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := alice.snapshot("/api/starling/v1/me", "/api/starling/v1/users/alice/statuses", "/api/starling/v1/users/alice/lists", "/api/starling/v1/users/newbie")
			wantError(t, tc.through.do("POST", tc.path, tc.body), http.StatusUnprocessableEntity, tc.code)
			alice.wantUnchanged(before, tc.name)
		})
	}
}
