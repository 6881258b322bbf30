package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's m=19 MiB, t=2, p=1 baseline.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashMemory is what one argon2id computation allocates, in bytes.
const HashMemory = argonMemory * 1024

// HashSlots is the number of concurrent hashes a Hasher made with n allows.
func HashSlots(n int) int {
	if n <= 0 {
		return max(1, runtime.GOMAXPROCS(0)-1)
	}
	return n
}

// ErrBusy means every hashing slot stayed taken for the whole wait: the caller
// answers 503 with Retry-After instead of queueing without bound.
var ErrBusy = errors.New("auth: password hashing capacity exhausted")

// Hasher runs argon2id with bounded concurrency, so a storm of password logins
// cannot exhaust memory (each hash holds 19 MiB) or starve passkey logins.
type Hasher struct {
	slots chan struct{}
	wait  time.Duration
	dummy string // hashed for unknown customers so both paths cost the same
	count atomic.Int64
}

// Count is how many argon2id computations the hasher has run: tests use it to
// check that every login path pays the same cost (A5).
func (h *Hasher) Count() int64 { return h.count.Load() }

// NewHasher allows n concurrent hashes and waits at most wait for a slot.
// n = 0 leaves one CPU to everything else (GOMAXPROCS-1, at least 1): under a
// password storm with a hash on every CPU, passkey logins on 2 cores fell from
// about 1,100/s to 230/s; with one CPU kept free they stayed near 400/s.
func NewHasher(n int, wait time.Duration) *Hasher {
	n = HashSlots(n)
	if wait <= 0 {
		wait = 3 * time.Second
	}
	h := &Hasher{slots: make(chan struct{}, n), wait: wait}
	h.dummy = h.hashNow("kagi-dummy-password")
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return ErrBusy
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns a PHC-format argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hashNow(password), nil
}

func (h *Hasher) hashNow(password string) string {
	h.count.Add(1)
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify checks password against encoded; an empty encoded (unknown customer)
// is checked against a dummy hash so the answer takes the same time (SPEC A5).
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	known := encoded != ""
	if !known {
		encoded = h.dummy
	}
	h.count.Add(1)
	ok, err := verifyArgon2id(encoded, password)
	return ok && known, err
}

func verifyArgon2id(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("auth: unsupported password hash")
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("auth: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false, fmt.Errorf("auth: bad argon2 parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("auth: bad salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("auth: bad hash: %w", err)
	}
	if mem > 256*1024 || iters > 10 || threads == 0 || threads > 16 || len(want) < 16 || len(want) > 64 {
		return false, errors.New("auth: argon2 parameters out of range")
	}
	got := argon2.IDKey([]byte(password), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
