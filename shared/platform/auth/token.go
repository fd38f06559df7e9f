// Package auth signs and verifies the credentials faas-shop functions accept:
// EdDSA (Ed25519) access tokens published as a JWKS, and HMAC-SHA256
// signatures on internal, event and schedule calls.
//
// Verification is strict: the algorithm is pinned to EdDSA whatever the
// token's header says, exp is required, iss and aud must match, and the key is
// chosen by kid from a key set, never taken from the token.
package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
)

// Issuer and Audience are the iss and aud of every faas-shop access token.
const (
	Issuer   = "faas-shop/users"
	Audience = "faas-shop"
)

// Role names carried in the roles claim.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	Roles []string `json:"roles"`
}

// HasRole reports whether the token grants role.
func (c Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// Signer issues access tokens with one Ed25519 key.
type Signer struct {
	key ed25519.PrivateKey
	kid string
	ttl time.Duration
	now func() time.Time
}

// NewSigner returns a Signer whose tokens live for ttl.
func NewSigner(key ed25519.PrivateKey, ttl time.Duration) *Signer {
	return &Signer{key: key, kid: KeyID(key.Public().(ed25519.PublicKey)), ttl: ttl, now: time.Now}
}

// KeyID returns the key's kid.
func (s *Signer) KeyID() string { return s.kid }

// PublicKey returns the key tokens are verified with.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign returns a token for subject with roles, and when it expires.
func (s *Signer) Sign(subject string, roles []string) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(s.ttl)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        uuid.NewString(),
		},
		Roles: roles,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = s.kid
	signed, err := tok.SignedString(s.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, exp, nil
}

// KeySet finds the public key for a kid.
type KeySet interface {
	PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error)
}

// ErrUnknownKey is returned by a KeySet that has no key with the given kid.
var ErrUnknownKey = errors.New("unknown signing key")

// StaticKeys is a KeySet held in memory, keyed by kid.
type StaticKeys map[string]ed25519.PublicKey

// PublicKey implements KeySet.
func (s StaticKeys) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// Verifier checks access tokens.
type Verifier struct {
	keys   KeySet
	parser *jwt.Parser
}

// NewVerifier returns a Verifier that trusts the keys in keys.
func NewVerifier(keys KeySet) *Verifier {
	return &Verifier{
		keys: keys,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithIssuer(Issuer),
			jwt.WithAudience(Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(30*time.Second),
		),
	}
}

// Verify parses token and returns its claims, or an Unauthenticated error
// that says what is wrong without echoing the token.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	var claims Claims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		return v.keys.PublicKey(ctx, kid)
	})
	if err != nil {
		if errors.Is(err, ErrJWKSUnavailable) {
			return Claims{}, apperr.Wrap(apperr.Unavailable, "the signing keys cannot be fetched right now", err)
		}
		return Claims{}, apperr.Wrap(apperr.Unauthenticated, "the access token is not valid: "+reason(err), err)
	}
	if claims.Subject == "" {
		return Claims{}, apperr.New(apperr.Unauthenticated, "the access token has no subject")
	}
	return claims, nil
}

func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrSignatureInvalid):
		return "bad signature"
	case errors.Is(err, ErrUnknownKey):
		return "unknown signing key"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong issuer or audience"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "unverifiable"
	default:
		return "rejected"
	}
}

// KeyID returns the RFC 7638 JWK thumbprint of an Ed25519 public key, the kid
// faas-shop uses for it.
func KeyID(pub ed25519.PublicKey) string {
	// The thumbprint is the SHA-256 of the required members in lexical order.
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ParsePrivateKey reads an Ed25519 private key from PKCS #8 PEM.
func ParsePrivateKey(pemText string) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("signing key is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("signing key is not Ed25519")
	}
	return ed, nil
}

// MarshalPrivateKey encodes key as PKCS #8 PEM, the format of the
// jwt-signing-key secret.
func MarshalPrivateKey(key ed25519.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}
