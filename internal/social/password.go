package social

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id cost parameters. The zero value means the
// defaults: 4 passes over 32 MiB in 2 lanes, about 50 ms per hash on an
// idle 2-core server (about 90 ms of CPU time); see BenchmarkHashPassword and
// docs/SECURITY.md for the measurement.
type PasswordParams struct {
	Time      uint32 // passes over memory; zero means 4
	MemoryKiB uint32 // zero means 32 MiB
	Threads   uint8  // zero means 2
}

func (p PasswordParams) withDefaults() PasswordParams {
	if p.Time == 0 {
		p.Time = 4
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 32 * 1024
	}
	if p.Threads == 0 {
		p.Threads = 2
	}
	return p
}

const (
	saltLen = 16
	keyLen  = 32
)

// HashPassword returns a PHC-format argon2id hash of pw with a fresh salt.
func HashPassword(pw string, p PasswordParams) (string, error) {
	p = p.withDefaults()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("social: reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches a hash made by HashPassword, in
// time that does not depend on where the two differ.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || p.Time == 0 || p.Threads == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// hashConcurrency is how many password hashes a Service runs at once: one
// per CPU the process may use. Each hash holds MemoryKiB of memory for its
// whole run and keeps its lanes busy, so more at once would only share the
// CPUs while multiplying the memory; a burst of logins queues instead of
// exhausting memory.
func hashConcurrency() int { return max(1, runtime.GOMAXPROCS(0)) }

// withHashSlot runs f, which hashes a password, in a hashing slot (see
// hashGate). It fails with ErrBusy when the hashing queue is full or no slot
// came free within Config.HashWait, and with ctx's error when ctx ends
// first.
func (s *Service) withHashSlot(ctx context.Context, f func()) error {
	if err := s.hashSlots.acquire(ctx); err != nil {
		return err
	}
	defer s.hashSlots.release()
	f()
	return nil
}

// dummyCheck pays for a login that names no user: one hash against the
// dummy hash, in a hashing slot like any other, so that it costs what a
// wrong password does. It returns ErrInvalidCredentials, or the error that
// kept the hash from running (ErrBusy, ctx's): an unknown login must be
// refused as busy whenever a known one would be, or the answer would tell
// them apart.
func (s *Service) dummyCheck(ctx context.Context, pw string) error {
	if _, err := s.passwordMatches(ctx, s.dummyHash, pw); err != nil {
		return err
	}
	return ErrInvalidCredentials
}

// passwordMatches checks pw against hash in a hashing slot.
func (s *Service) passwordMatches(ctx context.Context, hash, pw string) (bool, error) {
	var ok bool
	err := s.withHashSlot(ctx, func() { ok = s.checkPassword(hash, pw) })
	return ok, err
}

// newToken returns a fresh 256-bit token as sent to clients and its hash as
// stored.
func newToken() (token string, hash []byte, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("social: reading token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	return token, hashToken(token), nil
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
