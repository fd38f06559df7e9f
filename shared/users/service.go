package users

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
)

// Service is the users service's application core: every command and query
// the users functions expose.
type Service struct {
	store      Store
	tokens     TokenIssuer
	passwords  *Passwords
	now        func() time.Time
	refreshTTL time.Duration

	dummyOnce sync.Once
	dummyHash string
	dummyErr  error
}

// Option changes how a Service is built.
type Option func(*Service)

// WithPasswordParams sets the argon2id parameters of new password hashes
// (tests use cheap ones; production keeps DefaultPasswordParams).
func WithPasswordParams(p PasswordParams) Option {
	return func(s *Service) { s.passwords = NewPasswords(p) }
}

// WithClock sets the clock that dates tokens and changes.
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithRefreshTTL sets the lifetime of refresh tokens (default RefreshTokenTTL).
func WithRefreshTTL(d time.Duration) Option {
	return func(s *Service) { s.refreshTTL = d }
}

// NewService returns a Service storing in store and signing access tokens
// with tokens (nil when the caller never logs anyone in, as users-profile).
func NewService(store Store, tokens TokenIssuer, opts ...Option) *Service {
	s := &Service{
		store:      store,
		tokens:     tokens,
		passwords:  NewPasswords(DefaultPasswordParams),
		now:        time.Now,
		refreshTTL: RefreshTokenTTL,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// dummy returns a hash of a random password, verified against when a login
// names an unknown email so that it takes as long as one that names a user.
func (s *Service) dummy(ctx context.Context) (string, error) {
	s.dummyOnce.Do(func() {
		// Not bound to the request that happens to come first.
		ctx := context.WithoutCancel(ctx)
		s.dummyHash, s.dummyErr = s.passwords.Hash(ctx, "not a password anyone can send: "+s.now().String())
	})
	return s.dummyHash, s.dummyErr
}

// storeErr turns a store failure into an apperr: a missing row becomes
// notFound, an already classified error stays as it is, anything else is
// internal.
func storeErr(err error, notFound string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound) && notFound != "":
		return apperr.Wrap(apperr.NotFound, notFound, err)
	case errors.Is(err, context.DeadlineExceeded):
		return apperr.Wrap(apperr.Unavailable, "the users database did not answer in time", err)
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	return apperr.Wrap(apperr.Internal, "users store failure", err)
}
