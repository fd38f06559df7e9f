package users

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

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id cost parameters of new password hashes.
// Existing hashes are verified with the parameters stored in them, so the
// parameters can change without invalidating any password.
type PasswordParams struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32 // bytes
	KeyLength   uint32 // bytes
}

// DefaultPasswordParams are OWASP's first recommended argon2id configuration
// (m=19 MiB, t=2, p=1). They are chosen for a 2-core box that also runs
// every other function: one hash takes tens of milliseconds on one core and
// 19 MiB while it runs, and at most GOMAXPROCS hashes run at once, so a
// burst of logins costs under 40 MiB and cannot starve the rest of the
// stack. RFC 9106's 64 MiB, p=4 profile would cost 64 MiB per login and use
// both cores for each, which the machine's 600 MB budget for the whole
// stack cannot absorb. Parallelism is 1 because concurrency comes from
// concurrent requests, not from within one hash.
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Bounds on the parameters read from a stored hash, so that a corrupted row
// cannot make one verification take gigabytes or minutes.
const (
	maxMemory     = 1 << 20 // 1 GiB in KiB
	maxIterations = 16
)

// Passwords hashes and verifies passwords with argon2id in the PHC string
// format ($argon2id$v=19$m=...,t=...,p=...$salt$hash). It bounds how many
// hashes run at once.
type Passwords struct {
	params PasswordParams
	slots  chan struct{}
	// computed counts argon2id computations, for tests of timing behaviour.
	computed atomic.Int64
}

// NewPasswords returns a Passwords hashing with params, running at most
// GOMAXPROCS hashes at once.
func NewPasswords(params PasswordParams) *Passwords {
	return &Passwords{params: params, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// acquire waits for a free hashing slot, or for ctx to end.
func (p *Passwords) acquire(ctx context.Context) (func(), error) {
	select {
	case p.slots <- struct{}{}:
		return func() { <-p.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Hash returns the PHC string of password with a fresh random salt.
func (p *Passwords) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, p.params.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	release, err := p.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	p.computed.Add(1)
	key := argon2.IDKey([]byte(password), salt, p.params.Iterations, p.params.Memory, p.params.Parallelism, p.params.KeyLength)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.params.Memory, p.params.Iterations, p.params.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC string encoded, comparing
// in constant time. An error means encoded is not a hash it understands.
func (p *Passwords) Verify(ctx context.Context, password, encoded string) (bool, error) {
	params, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	release, err := p.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	p.computed.Add(1)
	got := argon2.IDKey([]byte(password), salt, params.Iterations, params.Memory, params.Parallelism, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

var b64 = base64.RawStdEncoding

var errBadHash = errors.New("password hash is not an argon2id PHC string")

func parseHash(encoded string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, errBadHash
	}
	if p.Memory == 0 || p.Memory > maxMemory || p.Iterations == 0 || p.Iterations > maxIterations || p.Parallelism == 0 {
		return p, nil, nil, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}
