package users

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// ErrNotFound is returned by a Store when the user or token does not exist.
var ErrNotFound = errors.New("not found")

// ErrEmailTaken is returned by Tx.InsertUser when another account already has
// the email address.
var ErrEmailTaken = errors.New("email address already registered")

// Store is the persistence port of the users service. Reads that need no
// lock are plain methods; every change runs inside Atomically, so a command's
// reads and writes commit or roll back together.
type Store interface {
	// UserByID returns the user with the id, or ErrNotFound.
	UserByID(ctx context.Context, id uuid.UUID) (User, error)
	// UserByEmail returns the user with the normalised email, or ErrNotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers returns up to limit users whose id sorts after the given id
	// (uuid.Nil for the first page), ordered by id.
	ListUsers(ctx context.Context, after uuid.UUID, limit int) ([]User, error)
	// Atomically runs fn in one transaction: committed when fn returns nil,
	// rolled back otherwise.
	Atomically(ctx context.Context, fn func(Tx) error) error
}

// Tx is the part of the Store available inside a transaction. The Lock
// methods take a row lock held until the transaction ends, so concurrent
// commands on the same row run one after the other.
type Tx interface {
	// InsertUser stores a new user, or returns ErrEmailTaken.
	InsertUser(ctx context.Context, u User) error
	// LockUser returns the user with the id, locked, or ErrNotFound.
	LockUser(ctx context.Context, id uuid.UUID) (User, error)
	// LockUserByEmail returns the user with the email, locked, or ErrNotFound.
	LockUserByEmail(ctx context.Context, email string) (User, error)
	// SaveUser writes the user's name, roles, status, credit limit and
	// updated_at.
	SaveUser(ctx context.Context, u User) error
	// InsertRefreshToken stores a new refresh token.
	InsertRefreshToken(ctx context.Context, t RefreshToken) error
	// LockRefreshToken returns the token with the hash, locked, or ErrNotFound.
	LockRefreshToken(ctx context.Context, hash TokenHash) (RefreshToken, error)
	// MarkRefreshTokenUsed records that the token was exchanged for replacedBy.
	MarkRefreshTokenUsed(ctx context.Context, id uuid.UUID, at time.Time, replacedBy uuid.UUID) error
	// RevokeRefreshFamily revokes every token of the family not yet revoked.
	RevokeRefreshFamily(ctx context.Context, familyID uuid.UUID, at time.Time) error
	// RevokeUserRefreshTokens revokes every token of the user not yet revoked.
	RevokeUserRefreshTokens(ctx context.Context, userID uuid.UUID, at time.Time) error
}

// TokenIssuer signs access tokens; auth.Signer implements it.
type TokenIssuer interface {
	// Sign returns an access token for subject with roles, and its expiry.
	Sign(subject string, roles []string) (string, time.Time, error)
}
