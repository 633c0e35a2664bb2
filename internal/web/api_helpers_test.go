package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// apiToken logs in through the API and returns a bearer token.
func apiToken(t *testing.T, base, login, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	res, err := http.Post(base+"/api/starling/v1/tokens", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("logging %s in through the API: %d %v", login, res.StatusCode, err)
	}
	return got.Token
}

// apiGet reads path with a bearer token and returns the status and body.
func apiGet(t *testing.T, base, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// apiPost posts a status through the API and returns its id.
func apiPost(t *testing.T, base, token, message string) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"message": message})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/starling/v1/statuses", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got struct{ ID int64 }
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("posting %q through the API: %d %v", message, res.StatusCode, err)
	}
	return got.ID
}

// apiSignUp registers a user through the API and returns a bearer token.
func apiSignUp(t *testing.T, base, login string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"login": login, "name": login, "password": testPassword})
	res, err := http.Post(base+"/api/starling/v1/users", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("registering %s through the API: %d", login, res.StatusCode)
	}
	return apiToken(t, base, login, testPassword)
}

// apiDelete sends DELETE path with a bearer token and returns the status.
func apiDelete(t *testing.T, base, token, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
