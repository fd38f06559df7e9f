package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// JWK is one public key of a JWKS (RFC 7517, OKP keys of RFC 8037).
type JWK struct {
	KeyType   string `json:"kty"`
	Curve     string `json:"crv"`
	X         string `json:"x"`
	KeyID     string `json:"kid"`
	Use       string `json:"use,omitempty"`
	Algorithm string `json:"alg,omitempty"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK describes pub as a JWK for EdDSA signatures.
func PublicJWK(pub ed25519.PublicKey) JWK {
	return JWK{
		KeyType:   "OKP",
		Curve:     "Ed25519",
		X:         base64.RawURLEncoding.EncodeToString(pub),
		KeyID:     KeyID(pub),
		Use:       "sig",
		Algorithm: "EdDSA",
	}
}

// KeySet returns the Ed25519 keys of the set by kid, skipping keys of other
// types and any whose kid does not match its thumbprint.
func (s JWKS) KeySet() StaticKeys {
	keys := StaticKeys{}
	for _, k := range s.Keys {
		if k.KeyType != "OKP" || k.Curve != "Ed25519" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			continue
		}
		pub := ed25519.PublicKey(raw)
		if k.KeyID != KeyID(pub) {
			continue
		}
		keys[k.KeyID] = pub
	}
	return keys
}

// ErrJWKSUnavailable is returned when the key set cannot be fetched.
var ErrJWKSUnavailable = errors.New("JWKS unavailable")

// RemoteKeys is a KeySet fetched over HTTP from a JWKS URL and cached.
//
//   - A known key is answered from the cache at once. Once the cache is older
//     than its TTL, a refresh starts in the background and the cached key is
//     used meanwhile, so a slow key server never slows verification down.
//   - An unknown kid (keys rotate) waits for a refresh, or for the caller's
//     context to end.
//   - At most one fetch runs at a time, and a new one starts at most once per
//     minRefresh whether the last one worked or not, so neither a key server
//     that is down nor a flood of made-up kids causes a flood of fetches.
type RemoteKeys struct {
	url        string
	client     *http.Client
	ttl        time.Duration
	minRefresh time.Duration

	mu        sync.Mutex
	keys      StaticKeys
	fetchedAt time.Time     // of the last successful fetch
	triedAt   time.Time     // of the last fetch, successful or not
	lastErr   error         // of the last fetch
	running   chan struct{} // closed when the running fetch ends; nil when none runs
}

// NewRemoteKeys returns a RemoteKeys for url; keys are kept for ttl.
func NewRemoteKeys(url string, client *http.Client, ttl time.Duration) *RemoteKeys {
	return &RemoteKeys{url: url, client: client, ttl: ttl, minRefresh: 5 * time.Second}
}

// PublicKey implements KeySet.
func (r *RemoteKeys) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	r.mu.Lock()
	key, known := r.keys[kid]
	if known && time.Since(r.fetchedAt) <= r.ttl {
		r.mu.Unlock()
		return key, nil
	}
	done := r.refreshLocked()
	r.mu.Unlock()
	if known {
		return key, nil // stale, but better than failing while the refresh runs
	}
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrJWKSUnavailable, ctx.Err())
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if key, ok := r.keys[kid]; ok {
		return key, nil
	}
	if r.lastErr != nil {
		return nil, r.lastErr
	}
	return nil, ErrUnknownKey
}

// refreshLocked starts a fetch unless one runs or one started less than
// minRefresh ago, and returns a channel closed when the running fetch ends
// (nil when none runs). r.mu must be held.
func (r *RemoteKeys) refreshLocked() <-chan struct{} {
	if r.running != nil {
		return r.running
	}
	if !r.triedAt.IsZero() && time.Since(r.triedAt) < r.minRefresh {
		return nil
	}
	r.triedAt = time.Now()
	done := make(chan struct{})
	r.running = done
	go func() {
		// Not the caller's context: other callers wait on this fetch too.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := r.fetch(ctx)
		r.mu.Lock()
		if err == nil {
			r.keys, r.fetchedAt = keys, time.Now()
		}
		r.lastErr, r.running = err, nil
		r.mu.Unlock()
		close(done)
	}()
	return done
}

func (r *RemoteKeys) fetch(ctx context.Context) (StaticKeys, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKSUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKSUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %d", ErrJWKSUnavailable, r.url, resp.StatusCode)
	}
	var set JWKS
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKSUnavailable, err)
	}
	return set.KeySet(), nil
}
