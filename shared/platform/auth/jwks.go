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

// RemoteKeys is a KeySet fetched over HTTP from a JWKS URL and cached. An
// unknown kid triggers a refetch (keys rotate), at most once per MinRefresh,
// so a flood of tokens with made-up kids cannot flood the key server.
type RemoteKeys struct {
	url        string
	client     *http.Client
	ttl        time.Duration
	minRefresh time.Duration

	mu        sync.Mutex
	keys      StaticKeys
	fetchedAt time.Time
}

// NewRemoteKeys returns a RemoteKeys for url; keys are kept for ttl.
func NewRemoteKeys(url string, client *http.Client, ttl time.Duration) *RemoteKeys {
	return &RemoteKeys{url: url, client: client, ttl: ttl, minRefresh: 5 * time.Second}
}

// PublicKey implements KeySet.
func (r *RemoteKeys) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	age := time.Since(r.fetchedAt)
	key, known := r.keys[kid]
	stale := r.keys == nil || age > r.ttl || (!known && age > r.minRefresh)
	if stale {
		keys, err := r.fetch(ctx)
		if err != nil {
			if known {
				return key, nil // a cached key beats failing while the key server is down
			}
			return nil, err
		}
		r.keys, r.fetchedAt = keys, time.Now()
		key, known = keys[kid]
	}
	if !known {
		return nil, ErrUnknownKey
	}
	return key, nil
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
