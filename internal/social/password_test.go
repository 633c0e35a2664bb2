package social

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// cheap keeps hashing fast in tests; the cost does not change what is
// checked.
var cheap = PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}

// BenchmarkHashPassword measures the default argon2id cost, which should
// be about 50 ms on the 2-core machine Starling is sized for:
//
//	go test -run '^$' -bench HashPassword -benchtime 20x -count 5 ./internal/social
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", PasswordParams{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckPassword is what a login costs, right or wrong.
func BenchmarkCheckPassword(b *testing.B) {
	hash, err := HashPassword("correct horse battery staple", PasswordParams{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		CheckPassword(hash, "wrong horse battery staple")
	}
}

func TestHashPassword(t *testing.T) {
	h1, err := HashPassword("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("correct horse", cheap)
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal; the salt is not fresh")
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not in the PHC argon2id format with the given parameters", h1)
	}
	if strings.Contains(h1, "correct horse") {
		t.Fatalf("hash %q contains the password", h1)
	}
	if !CheckPassword(h1, "correct horse") || !CheckPassword(h2, "correct horse") {
		t.Fatal("CheckPassword refuses the right password")
	}
	for _, wrong := range []string{"", "correct hors", "correct horse ", "Correct horse"} {
		if CheckPassword(h1, wrong) {
			t.Errorf("CheckPassword accepts %q", wrong)
		}
	}
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$a2V5",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5",
	} {
		if CheckPassword(bad, "anything") {
			t.Errorf("CheckPassword accepts the malformed hash %q", bad)
		}
	}
}

// credentialStore is the part of a Store that logging in touches; it
// records what it is given.
type credentialStore struct {
	Store  // nil: any other call panics
	mu     sync.Mutex
	users  map[string]User
	hashes map[UserID]string
	tokens []Token
}

func (s *credentialStore) UserByLogin(_ context.Context, login string) (User, error) {
	u, ok := s.users[strings.ToLower(login)]
	if !ok {
		return User{}, ErrUserNotFound
	}
	return u, nil
}

func (s *credentialStore) PasswordHash(_ context.Context, id UserID) (string, error) {
	return s.hashes[id], nil
}

func (s *credentialStore) SuspendedUsers(context.Context) ([]UserID, error) { return nil, nil }

func (s *credentialStore) CreateToken(_ context.Context, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = append(s.tokens, t)
	return nil
}

func newCredentialService(t *testing.T, now time.Time) (*Service, *credentialStore) {
	t.Helper()
	hash, err := HashPassword("right password", cheap)
	if err != nil {
		t.Fatal(err)
	}
	store := &credentialStore{
		users:  map[string]User{"ada": {ID: 1, Login: "Ada"}},
		hashes: map[UserID]string{1: hash},
	}
	svc, err := NewService(store, Config{Password: cheap, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

// TestEveryLoginRunsOneHash checks that a login costs one password hash
// whatever is wrong with it, so that timing does not reveal which logins
// exist. It counts hashes rather than timing them.
func TestEveryLoginRunsOneHash(t *testing.T) {
	svc, _ := newCredentialService(t, time.Now())
	var checked []string
	svc.checkPassword = func(hash, pw string) bool {
		checked = append(checked, hash)
		return CheckPassword(hash, pw)
	}
	for _, tc := range []struct {
		name, login, password string
		wantErr               error
		wantDummy             bool
	}{
		{"right password", "ada", "right password", nil, false},
		{"login in another case", "ADA", "right password", nil, false},
		{"wrong password", "ada", "wrong password", ErrInvalidCredentials, false},
		{"unknown login", "grace", "right password", ErrInvalidCredentials, true},
		{"impossible login", "a-b", "right password", ErrInvalidCredentials, true},
		{"empty login", "", "", ErrInvalidCredentials, true},
		{"huge password", "ada", strings.Repeat("p", 60_000), ErrInvalidCredentials, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checked = nil
			_, _, err := svc.Login(context.Background(), tc.login, tc.password)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Login: %v, want %v", err, tc.wantErr)
			}
			if len(checked) != 1 {
				t.Fatalf("Login ran %d password hashes, want exactly 1", len(checked))
			}
			if isDummy := checked[0] == svc.dummyHash; isDummy != tc.wantDummy {
				t.Fatalf("Login checked the dummy hash: %v, want %v", isDummy, tc.wantDummy)
			}
		})
	}
	// The dummy hash costs what a real one does.
	if !strings.HasPrefix(svc.dummyHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("dummy hash %q does not use the configured parameters", svc.dummyHash)
	}
}

// TestTokens checks what docs/SECURITY.md promises of a
// session token: 256 random bits, only a SHA-256 hash stored, an expiry
// of the configured lifetime.
func TestTokens(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	svc, store := newCredentialService(t, now)
	seen := map[string]bool{}
	for i := range 20 {
		token, u, err := svc.Login(context.Background(), "ada", "right password")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != 1 {
			t.Fatalf("Login returned user %+v", u)
		}
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(raw) != 32 || len(token) != 43 {
			t.Fatalf("token %q is not 32 bytes in unpadded base64url (%d bytes, %v)", token, len(raw), err)
		}
		if seen[token] {
			t.Fatalf("token %q issued twice", token)
		}
		seen[token] = true
		stored := store.tokens[i]
		sum := sha256.Sum256([]byte(token))
		if !bytes.Equal(stored.Hash, sum[:]) {
			t.Fatalf("stored token hash %x, want SHA-256 of the token %x", stored.Hash, sum)
		}
		if bytes.Contains(stored.Hash, []byte(token)) || bytes.Contains(stored.Hash, raw) {
			t.Fatal("the store was given the token itself")
		}
		if !stored.Created.Equal(now) || !stored.Expires.Equal(now.Add(30*24*time.Hour)) || stored.UID != 1 {
			t.Fatalf("stored token %+v, want uid 1, created now, expiring in 30 days", stored)
		}
	}
}

// TestHashingIsBounded checks that a burst of logins runs at most
// hashConcurrency hashes at once (each holds MemoryKiB of memory), and that
// a login waiting for a slot gives up when its context ends.
func TestHashingIsBounded(t *testing.T) {
	svc, _ := newCredentialService(t, time.Now())
	release := make(chan struct{})
	var mu sync.Mutex
	running, most := 0, 0
	svc.checkPassword = func(hash, pw string) bool {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return false
	}
	const logins = 12
	var wg sync.WaitGroup
	for range logins {
		wg.Go(func() { svc.Login(context.Background(), "ada", "wrong password") })
	}
	// Wait until every slot is taken, then check that a waiting login
	// honours its context.
	for {
		mu.Lock()
		n := running
		mu.Unlock()
		if n == hashConcurrency() {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := svc.Login(ctx, "ada", "wrong password"); !errors.Is(err, context.Canceled) {
		t.Errorf("a login whose context ended while waiting for a slot: %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	if most > hashConcurrency() {
		t.Fatalf("%d hashes ran at once, want at most %d", most, hashConcurrency())
	}
}
