// Package pgstore is the PostgreSQL adapter of the users service: it
// implements users.Store on a pgx pool and holds the service's migrations.
package pgstore

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/database"
	"github.com/faas-shop/faas-shop/shared/users"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the users database's versioned SQL migrations, for
// database.Migrate (or fn.Deps.Database) with the scope "users".
var Migrations fs.FS = mustSub(migrationFiles, "migrations")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// emailConstraint is the unique index that keeps emails unique.
const emailConstraint = "users_email_key"

// Store implements users.Store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

var _ users.Store = (*Store)(nil)

// New returns a Store on pool, whose database has Migrations applied.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// querier is what both the pool and a transaction can run.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const userColumns = `id, email, name, password_hash, roles, status, credit_limit_cents, created_at, updated_at`

func scanUser(row pgx.Row) (users.User, error) {
	var (
		u      users.User
		status string
	)
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Roles, &status, &u.CreditLimitCents, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return users.User{}, classify(err)
	}
	u.Status = users.Status(status)
	return u, nil
}

// UserByID implements users.Store.
func (s *Store) UserByID(ctx context.Context, id uuid.UUID) (users.User, error) {
	return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// UserByEmail implements users.Store.
func (s *Store) UserByEmail(ctx context.Context, email string) (users.User, error) {
	return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email))
}

// ListUsers implements users.Store.
func (s *Store) ListUsers(ctx context.Context, after uuid.UUID, limit int) ([]users.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, classify(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (users.User, error) { return scanUser(r) })
	return list, classify(err)
}

// Atomically implements users.Store.
func (s *Store) Atomically(ctx context.Context, fn func(users.Tx) error) error {
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error { return fn(txStore{tx}) })
	return classify(err)
}

// txStore implements users.Tx inside one transaction.
type txStore struct {
	q querier
}

func (t txStore) InsertUser(ctx context.Context, u users.User) error {
	_, err := t.q.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.Email, u.Name, u.PasswordHash, u.Roles, string(u.Status), u.CreditLimitCents, u.CreatedAt, u.UpdatedAt)
	if database.IsUniqueViolation(err, emailConstraint) {
		return users.ErrEmailTaken
	}
	return classify(err)
}

func (t txStore) LockUser(ctx context.Context, id uuid.UUID) (users.User, error) {
	return scanUser(t.q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
}

func (t txStore) LockUserByEmail(ctx context.Context, email string) (users.User, error) {
	return scanUser(t.q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1) FOR UPDATE`, email))
}

func (t txStore) SaveUser(ctx context.Context, u users.User) error {
	tag, err := t.q.Exec(ctx, `UPDATE users SET name = $2, roles = $3, status = $4, credit_limit_cents = $5, updated_at = $6 WHERE id = $1`,
		u.ID, u.Name, u.Roles, string(u.Status), u.CreditLimitCents, u.UpdatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		return users.ErrNotFound
	}
	return classify(err)
}

func (t txStore) InsertRefreshToken(ctx context.Context, r users.RefreshToken) error {
	_, err := t.q.Exec(ctx, `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.ID, r.FamilyID, r.UserID, r.Hash[:], r.ExpiresAt, r.CreatedAt)
	return classify(err)
}

func (t txStore) LockRefreshToken(ctx context.Context, hash users.TokenHash) (users.RefreshToken, error) {
	var (
		r   users.RefreshToken
		raw []byte
	)
	err := t.q.QueryRow(ctx, `SELECT id, family_id, user_id, token_hash, expires_at, used_at, replaced_by, revoked_at, created_at
		FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, hash[:]).
		Scan(&r.ID, &r.FamilyID, &r.UserID, &raw, &r.ExpiresAt, &r.UsedAt, &r.ReplacedBy, &r.RevokedAt, &r.CreatedAt)
	if err != nil {
		return users.RefreshToken{}, classify(err)
	}
	copy(r.Hash[:], raw)
	return r, nil
}

func (t txStore) MarkRefreshTokenUsed(ctx context.Context, id uuid.UUID, at time.Time, replacedBy uuid.UUID) error {
	_, err := t.q.Exec(ctx, `UPDATE refresh_tokens SET used_at = $2, replaced_by = $3 WHERE id = $1`, id, at, replacedBy)
	return classify(err)
}

func (t txStore) RevokeRefreshFamily(ctx context.Context, familyID uuid.UUID, at time.Time) error {
	_, err := t.q.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`, familyID, at)
	return classify(err)
}

func (t txStore) RevokeUserRefreshTokens(ctx context.Context, userID uuid.UUID, at time.Time) error {
	_, err := t.q.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, at)
	return classify(err)
}

// classify maps pgx's "no rows" to users.ErrNotFound and a database that
// cannot be reached to an Unavailable apperr, leaving other errors as they
// are (the service treats them as internal).
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return users.ErrNotFound
	}
	if _, ok := apperr.As(err); ok || errors.Is(err, users.ErrEmailTaken) || errors.Is(err, users.ErrNotFound) {
		return err
	}
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	if errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(apperr.Unavailable, "the users database cannot be reached right now", err)
	}
	return err
}
