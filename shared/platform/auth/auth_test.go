package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/auth"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return key
}

func keysOf(s *auth.Signer) auth.StaticKeys {
	return auth.StaticKeys{s.KeyID(): s.PublicKey()}
}

func TestSignedTokenVerifies(t *testing.T) {
	signer := auth.NewSigner(newKey(t), time.Minute)
	token, exp, err := signer.Sign("user-1", []string{auth.RoleCustomer})
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Minute), exp, 2*time.Second)

	claims, err := auth.NewVerifier(keysOf(signer)).Verify(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, "user-1", claims.Subject)
	assert.True(t, claims.HasRole(auth.RoleCustomer))
	assert.False(t, claims.HasRole(auth.RoleAdmin))
}

// forge signs arbitrary claims and header with method and key.
func forge(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func validClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": auth.Issuer, "aud": auth.Audience, "sub": "user-1", "roles": []string{"admin"},
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
}

func TestVerifierRefusesHostileTokens(t *testing.T) {
	key := newKey(t)
	signer := auth.NewSigner(key, time.Minute)
	kid := signer.KeyID()
	good, _, err := signer.Sign("user-1", nil)
	require.NoError(t, err)

	expired := validClaims()
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	expired["iat"] = time.Now().Add(-2 * time.Hour).Unix()
	noExp := validClaims()
	delete(noExp, "exp")
	wrongAud := validClaims()
	wrongAud["aud"] = "someone-else"
	wrongIss := validClaims()
	wrongIss["iss"] = "evil"

	parts := strings.Split(good, ".")
	payload, _ := json.Marshal(map[string]any{"iss": auth.Issuer, "aud": auth.Audience, "sub": "admin-1",
		"roles": []string{"admin"}, "exp": time.Now().Add(time.Hour).Unix()})
	tampered := parts[0] + "." + jwtSegment(payload) + "." + parts[2]
	noneHeader := jwtSegment([]byte(`{"alg":"none","typ":"JWT","kid":"` + kid + `"}`))

	cases := map[string]string{
		"expired":                     forge(t, jwt.SigningMethodEdDSA, key, kid, expired),
		"without exp":                 forge(t, jwt.SigningMethodEdDSA, key, kid, noExp),
		"wrong audience":              forge(t, jwt.SigningMethodEdDSA, key, kid, wrongAud),
		"wrong issuer":                forge(t, jwt.SigningMethodEdDSA, key, kid, wrongIss),
		"tampered payload":            tampered,
		"alg none":                    noneHeader + "." + jwtSegment(payload) + ".",
		"HS256 keyed with public key": forge(t, jwt.SigningMethodHS256, []byte(signer.PublicKey()), kid, validClaims()),
		"unknown kid":                 forge(t, jwt.SigningMethodEdDSA, key, "not-a-known-kid", validClaims()),
		"no kid":                      forge(t, jwt.SigningMethodEdDSA, key, "", validClaims()),
		"signed by another key":       forge(t, jwt.SigningMethodEdDSA, newKey(t), kid, validClaims()),
		"garbage":                     "not.a.token",
		"empty":                       "",
	}
	v := auth.NewVerifier(keysOf(signer))
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), token)
			require.Error(t, err)
			assert.Equal(t, apperr.Unauthenticated, apperr.KindOf(err))
			if len(token) > 20 {
				assert.NotContains(t, err.Error(), token[len(token)-20:], "the error must not echo the token")
			}
		})
	}
}

func jwtSegment(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

func jwksServer(t *testing.T, keys ...ed25519.PublicKey) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	set := auth.JWKS{}
	for _, k := range keys {
		set.Keys = append(set.Keys, auth.PublicJWK(k))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestRemoteKeysVerifyTokensFromTheJWKS(t *testing.T) {
	signer := auth.NewSigner(newKey(t), time.Minute)
	srv, hits := jwksServer(t, signer.PublicKey())
	v := auth.NewVerifier(auth.NewRemoteKeys(srv.URL, srv.Client(), time.Minute))

	for range 3 {
		token, _, err := signer.Sign("user-1", nil)
		require.NoError(t, err)
		_, err = v.Verify(context.Background(), token)
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), hits.Load(), "the key set is cached")
}

func TestRemoteKeysDoNotRefetchForEveryUnknownKid(t *testing.T) {
	signer := auth.NewSigner(newKey(t), time.Minute)
	srv, hits := jwksServer(t, signer.PublicKey())
	v := auth.NewVerifier(auth.NewRemoteKeys(srv.URL, srv.Client(), time.Minute))
	for range 20 {
		_, err := v.Verify(context.Background(), forge(t, jwt.SigningMethodEdDSA, newKey(t), "made-up", validClaims()))
		assert.Equal(t, apperr.Unauthenticated, apperr.KindOf(err))
	}
	assert.Equal(t, int32(1), hits.Load(), "a flood of unknown kids must not flood the key server")
}

func TestRemoteKeysDownIsUnavailableNotUnauthenticated(t *testing.T) {
	signer := auth.NewSigner(newKey(t), time.Minute)
	srv, _ := jwksServer(t, signer.PublicKey())
	srv.Close()
	v := auth.NewVerifier(auth.NewRemoteKeys(srv.URL, http.DefaultClient, time.Minute))
	token, _, err := signer.Sign("user-1", nil)
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), token)
	assert.Equal(t, apperr.Unavailable, apperr.KindOf(err))
}

func TestRemoteKeysIgnoreGarbage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"!!!","kid":"k"}]}`))
	}))
	t.Cleanup(srv.Close)
	keys := auth.NewRemoteKeys(srv.URL, srv.Client(), time.Minute)
	_, err := keys.PublicKey(context.Background(), "k")
	assert.ErrorIs(t, err, auth.ErrUnknownKey)
}

func TestPrivateKeyRoundTripsThroughPEM(t *testing.T) {
	key := newKey(t)
	text, err := auth.MarshalPrivateKey(key)
	require.NoError(t, err)
	back, err := auth.ParsePrivateKey(text)
	require.NoError(t, err)
	assert.True(t, key.Equal(back))
	_, err = auth.ParsePrivateKey("not pem")
	assert.Error(t, err)
}

func TestInternalCallSignatures(t *testing.T) {
	key := []byte("shared-secret")
	now := time.Now()
	body := []byte(`{"order_id":"42"}`)
	h := http.Header{}
	auth.SignRequest(h, key, now, "POST", "/internal/reserve?step=1", body)

	require.NoError(t, auth.VerifyRequest(h, key, now, "POST", "/internal/reserve?step=1", body))

	fail := func(name string, h http.Header, key []byte, at time.Time, method, path string, body []byte) {
		t.Run(name, func(t *testing.T) {
			err := auth.VerifyRequest(h, key, at, method, path, body)
			assert.Equal(t, apperr.Unauthenticated, apperr.KindOf(err))
		})
	}
	fail("unsigned", http.Header{}, key, now, "POST", "/internal/reserve?step=1", body)
	fail("other body", h, key, now, "POST", "/internal/reserve?step=1", []byte(`{"order_id":"43"}`))
	fail("other path", h, key, now, "POST", "/internal/release?step=1", body)
	fail("other query", h, key, now, "POST", "/internal/reserve?step=2", body)
	fail("other method", h, key, now, "PUT", "/internal/reserve?step=1", body)
	fail("other key", h, []byte("guess"), now, "POST", "/internal/reserve?step=1", body)
	fail("stale", h, key, now.Add(auth.MaxSignatureAge+time.Second), "POST", "/internal/reserve?step=1", body)
	fail("from the future", h, key, now.Add(-auth.MaxSignatureAge-time.Second), "POST", "/internal/reserve?step=1", body)
}
