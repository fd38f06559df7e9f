package users

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/google/uuid"
)

// Token lifetimes.
const (
	// AccessTokenTTL is how long an access token is valid; the function that
	// signs them gives it to auth.NewSigner.
	AccessTokenTTL = 15 * time.Minute
	// RefreshTokenTTL is how long a refresh token is valid. Each rotation
	// issues a new token valid for RefreshTokenTTL again, so a session that
	// refreshes at least once every RefreshTokenTTL stays signed in.
	RefreshTokenTTL = 30 * 24 * time.Hour
)

// refreshTokenBytes is the entropy of a refresh token.
const refreshTokenBytes = 32

// TokenHash is the SHA-256 of a refresh token: what the store keeps, so a
// leaked table holds no usable token.
type TokenHash [sha256.Size]byte

// RefreshToken is the stored record of an opaque refresh token.
type RefreshToken struct {
	ID uuid.UUID
	// FamilyID is shared by every token rotated from one login.
	FamilyID   uuid.UUID
	UserID     uuid.UUID
	Hash       TokenHash
	ExpiresAt  time.Time
	UsedAt     *time.Time // set once the token was exchanged
	ReplacedBy *uuid.UUID // the token it was exchanged for
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

// Session is what a login or a refresh hands the client.
type Session struct {
	AccessToken  string
	RefreshToken string
	// TokenType is always "Bearer".
	TokenType string
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64
}

// newRefreshToken returns a fresh opaque token (32 random bytes, base64url)
// and its record in family for user.
func newRefreshToken(family, user uuid.UUID, now time.Time, ttl time.Duration) (string, RefreshToken, error) {
	raw := make([]byte, refreshTokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", RefreshToken{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	id, err := uuid.NewV7()
	if err != nil {
		return "", RefreshToken{}, err
	}
	return token, RefreshToken{
		ID:        id,
		FamilyID:  family,
		UserID:    user,
		Hash:      hashToken(token),
		ExpiresAt: now.Add(ttl),
		CreatedAt: now,
	}, nil
}

// hashToken returns the stored form of token.
func hashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

// plausibleRefreshToken reports whether token has the shape of one we issue,
// so garbage is refused without a database round trip.
func plausibleRefreshToken(token string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(raw) == refreshTokenBytes
}
