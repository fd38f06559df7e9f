// Package authtest forges access tokens for tests: one a strict verifier
// accepts, and the hostile ones every user route must refuse. Each function
// that serves user routes checks itself against the same list.
package authtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/faas-shop/faas-shop/shared/platform/auth"
)

// Tokens returns a valid access token for subject with roles, signed by key,
// and tokens for the same subject that must be refused, by what is wrong
// with them. The valid one is made exactly like the others, so a test that
// accepts it and refuses them shows each refusal is for the stated flaw.
func Tokens(tb testing.TB, key ed25519.PrivateKey, subject string, roles ...string) (string, map[string]string) {
	tb.Helper()
	pub := key.Public().(ed25519.PublicKey)
	kid := auth.KeyID(pub)
	now := time.Now()
	claims := func() auth.Claims {
		return auth.Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: auth.Issuer, Audience: jwt.ClaimStrings{auth.Audience}, Subject: subject,
				IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
			},
			Roles: roles,
		}
	}
	sign := func(method jwt.SigningMethod, c auth.Claims, kid string, key any) string {
		tok := jwt.NewWithClaims(method, c)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	_, stranger, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}

	valid := sign(jwt.SigningMethodEdDSA, claims(), kid, key)
	other := claims()
	other.Subject = uuid.NewString()
	otherToken := sign(jwt.SigningMethodEdDSA, other, kid, key)
	expired, noExpiry, wrongAudience, wrongIssuer := claims(), claims(), claims(), claims()
	expired.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
	noExpiry.ExpiresAt = nil
	wrongAudience.Audience = jwt.ClaimStrings{"someone-else"}
	wrongIssuer.Issuer = "someone-else"

	parts, otherParts := strings.Split(valid, "."), strings.Split(otherToken, ".")
	return valid, map[string]string{
		"expired":          sign(jwt.SigningMethodEdDSA, expired, kid, key),
		"no expiry":        sign(jwt.SigningMethodEdDSA, noExpiry, kid, key),
		"wrong audience":   sign(jwt.SigningMethodEdDSA, wrongAudience, kid, key),
		"wrong issuer":     sign(jwt.SigningMethodEdDSA, wrongIssuer, kid, key),
		"tampered payload": parts[0] + "." + otherParts[1] + "." + parts[2],
		"tampered sig":     parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"alg none":         sign(jwt.SigningMethodNone, claims(), kid, jwt.UnsafeAllowNoneSignatureType),
		"hs256 public key": sign(jwt.SigningMethodHS256, claims(), kid, []byte(pub)),
		"unknown kid":      sign(jwt.SigningMethodEdDSA, claims(), auth.KeyID(stranger.Public().(ed25519.PublicKey)), stranger),
		"no kid":           sign(jwt.SigningMethodEdDSA, claims(), "", key),
		"garbage":          "not.a.token",
	}
}
