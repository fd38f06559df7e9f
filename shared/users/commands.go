package users

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/auth"
)

// Registration is what a new customer sends.
type Registration struct {
	Email    string
	Password string
	Name     string
}

// Register creates a customer account. It answers Invalid with field errors
// for a bad email, password or name, and Conflict when the email (compared
// case-insensitively) is already registered.
func (s *Service) Register(ctx context.Context, in Registration) (User, error) {
	email := NormalizeEmail(in.Email)
	name, nameProblem := normalizeName(in.Name)
	fields := map[string]string{}
	if p := checkEmail(email); p != "" {
		fields["email"] = p
	}
	if p := checkPassword(in.Password); p != "" {
		fields["password"] = p
	}
	if nameProblem != "" {
		fields["name"] = nameProblem
	}
	if len(fields) > 0 {
		return User{}, apperr.Validation("the registration is not valid", fields)
	}
	hash, err := s.passwords.Hash(ctx, in.Password)
	if err != nil {
		return User{}, storeErr(err, "")
	}
	u, err := s.newUser(email, name, hash, []string{auth.RoleCustomer})
	if err != nil {
		return User{}, err
	}
	err = s.store.Atomically(ctx, func(tx Tx) error { return tx.InsertUser(ctx, u) })
	if errors.Is(err, ErrEmailTaken) {
		return User{}, apperr.Wrap(apperr.Conflict, "an account with this email address already exists", err)
	}
	if err != nil {
		return User{}, storeErr(err, "")
	}
	return u, nil
}

func (s *Service) newUser(email, name, hash string, roles []string) (User, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return User{}, apperr.Wrap(apperr.Internal, "new user id", err)
	}
	now := s.now()
	return User{
		ID: id, Email: email, Name: name, PasswordHash: hash, Roles: roles,
		Status: StatusActive, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// errBadCredentials is the one answer to a wrong email or a wrong password,
// so that a login does not tell which accounts exist.
var errBadCredentials = apperr.New(apperr.Unauthenticated, "the email address or password is wrong")

var errSuspended = apperr.New(apperr.Forbidden, "this account is suspended")

// Login checks an email and password and starts a session: a new refresh
// token family. A wrong password and an unknown email get the same
// Unauthenticated error after the same work (an unknown email is checked
// against a dummy hash). A suspended account gets Forbidden, but only once
// its password has been proven, so the answer reveals nothing to a stranger.
func (s *Service) Login(ctx context.Context, email, password string) (Session, error) {
	email = NormalizeEmail(email)
	fields := map[string]string{}
	if email == "" {
		fields["email"] = "is required"
	}
	if password == "" {
		fields["password"] = "is required"
	}
	if len(fields) > 0 {
		return Session{}, apperr.Validation("the login is not valid", fields)
	}
	if checkEmail(email) != "" || utf8.RuneCountInString(password) > MaxPasswordLength {
		// No account can match (registration refuses such input); refuse
		// before hashing an oversized password or sending bytes PostgreSQL
		// rejects, such as NUL, to the database.
		return Session{}, errBadCredentials
	}
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		if dummy, err := s.dummy(ctx); err == nil {
			_, _ = s.passwords.Verify(ctx, password, dummy)
		}
		return Session{}, errBadCredentials
	}
	if err != nil {
		return Session{}, storeErr(err, "")
	}
	ok, err := s.passwords.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return Session{}, storeErr(err, "")
	}
	if !ok {
		return Session{}, errBadCredentials
	}
	if u.Status != StatusActive {
		return Session{}, errSuspended
	}
	family, err := uuid.NewV7()
	if err != nil {
		return Session{}, storeErr(err, "")
	}
	token, rec, err := newRefreshToken(family, u.ID, s.now(), s.refreshTTL)
	if err != nil {
		return Session{}, storeErr(err, "")
	}
	session, err := s.session(u, token)
	if err != nil {
		return Session{}, err
	}
	if err := s.store.Atomically(ctx, func(tx Tx) error { return tx.InsertRefreshToken(ctx, rec) }); err != nil {
		return Session{}, storeErr(err, "")
	}
	return session, nil
}

// session signs an access token for u and pairs it with refresh.
func (s *Service) session(u User, refresh string) (Session, error) {
	if s.tokens == nil {
		return Session{}, apperr.New(apperr.Internal, "this service cannot sign access tokens")
	}
	access, exp, err := s.tokens.Sign(u.ID.String(), u.Roles)
	if err != nil {
		return Session{}, apperr.Wrap(apperr.Internal, "sign access token", err)
	}
	return Session{
		AccessToken:  access,
		RefreshToken: refresh,
		TokenType:    "Bearer",
		ExpiresIn:    int64(math.Max(0, math.Round(time.Until(exp).Seconds()))),
	}, nil
}

var (
	errRefreshInvalid = apperr.New(apperr.Unauthenticated, "the refresh token is not valid; sign in again")
	errRefreshExpired = apperr.New(apperr.Unauthenticated, "the refresh token has expired; sign in again")
	errRefreshReused  = apperr.New(apperr.Unauthenticated,
		"the refresh token was already used; every token of its session has been revoked, sign in again")
)

// Refresh exchanges a refresh token for a new session in the same family
// and marks the old token used, in one transaction that locks the token, so
// of two concurrent exchanges of one token only one succeeds. Presenting a
// token that was already exchanged is taken as theft: the whole family is
// revoked (the revocation commits) and the answer is Unauthenticated. An
// unknown, revoked or expired token is Unauthenticated; the token of a
// suspended account is Forbidden.
func (s *Service) Refresh(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, apperr.Validation("the refresh is not valid", map[string]string{"refresh_token": "is required"})
	}
	if !plausibleRefreshToken(token) {
		return Session{}, errRefreshInvalid
	}
	var (
		session Session
		refused error // a refusal that still commits (the family revocation)
	)
	err := s.store.Atomically(ctx, func(tx Tx) error {
		refused = nil
		now := s.now()
		old, err := tx.LockRefreshToken(ctx, hashToken(token))
		if errors.Is(err, ErrNotFound) {
			refused = errRefreshInvalid
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case old.RevokedAt != nil:
			refused = errRefreshInvalid
			return nil
		case old.UsedAt != nil:
			refused = errRefreshReused
			return tx.RevokeRefreshFamily(ctx, old.FamilyID, now)
		case !now.Before(old.ExpiresAt):
			refused = errRefreshExpired
			return nil
		}
		u, err := tx.LockUser(ctx, old.UserID)
		if errors.Is(err, ErrNotFound) {
			refused = errRefreshInvalid
			return nil
		}
		if err != nil {
			return err
		}
		if u.Status != StatusActive {
			refused = errSuspended
			return tx.RevokeRefreshFamily(ctx, old.FamilyID, now)
		}
		next, rec, err := newRefreshToken(old.FamilyID, u.ID, now, s.refreshTTL)
		if err != nil {
			return err
		}
		if session, err = s.session(u, next); err != nil {
			return err
		}
		if err := tx.InsertRefreshToken(ctx, rec); err != nil {
			return err
		}
		return tx.MarkRefreshTokenUsed(ctx, old.ID, now, rec.ID)
	})
	if err != nil {
		return Session{}, storeErr(err, "")
	}
	if refused != nil {
		return Session{}, refused
	}
	return session, nil
}

// Logout revokes the family of a refresh token that belongs to caller,
// ending that session everywhere it was rotated to. A token that is unknown,
// already revoked or another user's is left alone and the call still
// succeeds, so logout cannot be used to probe or revoke others' tokens.
func (s *Service) Logout(ctx context.Context, caller uuid.UUID, token string) error {
	if token == "" {
		return apperr.Validation("the logout is not valid", map[string]string{"refresh_token": "is required"})
	}
	if !plausibleRefreshToken(token) {
		return nil
	}
	return storeErr(s.store.Atomically(ctx, func(tx Tx) error {
		t, err := tx.LockRefreshToken(ctx, hashToken(token))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if t.UserID != caller || t.RevokedAt != nil {
			return nil
		}
		return tx.RevokeRefreshFamily(ctx, t.FamilyID, s.now())
	}), "")
}

// ProfileChanges are the fields a user may change on their own profile; a
// nil field is left as it is.
type ProfileChanges struct {
	Name *string
}

// UpdateProfile applies changes to the caller's own profile.
func (s *Service) UpdateProfile(ctx context.Context, caller uuid.UUID, changes ProfileChanges) (User, error) {
	var name string
	if changes.Name != nil {
		var problem string
		if name, problem = normalizeName(*changes.Name); problem != "" {
			return User{}, apperr.Validation("the profile is not valid", map[string]string{"name": problem})
		}
	}
	var out User
	err := s.store.Atomically(ctx, func(tx Tx) error {
		u, err := activeCaller(tx.LockUser(ctx, caller))
		if err != nil {
			return err
		}
		if changes.Name != nil && name != u.Name {
			u.Name = name
			u.UpdatedAt = s.now()
			if err := tx.SaveUser(ctx, u); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, storeErr(err, "")
}

// SetRoles replaces the roles of the user id; actor must be an active
// admin. Only KnownRoles are accepted, and an admin cannot take the admin
// role away from themselves (Conflict), so there is always an admin left.
// The new roles reach the user's access tokens at their next refresh.
func (s *Service) SetRoles(ctx context.Context, actor, id uuid.UUID, roles []string) (User, error) {
	roles, err := normalizeRoles(roles)
	if err != nil {
		return User{}, err
	}
	if err := s.requireAdmin(ctx, actor); err != nil {
		return User{}, err
	}
	return s.changeUser(ctx, id, func(u *User) error {
		if u.ID == actor && !slices.Contains(roles, auth.RoleAdmin) {
			return apperr.New(apperr.Conflict, "you cannot remove your own admin role")
		}
		u.Roles = roles
		return nil
	}, nil)
}

// Suspend suspends the user id and revokes all their refresh tokens; actor
// must be an active admin and cannot suspend themselves (Conflict).
// Suspending a suspended user changes nothing and succeeds.
func (s *Service) Suspend(ctx context.Context, actor, id uuid.UUID) (User, error) {
	if err := s.requireAdmin(ctx, actor); err != nil {
		return User{}, err
	}
	return s.changeUser(ctx, id, func(u *User) error {
		if u.ID == actor {
			return apperr.New(apperr.Conflict, "you cannot suspend your own account")
		}
		u.Status = StatusSuspended
		return nil
	}, func(tx Tx, u User) error {
		return tx.RevokeUserRefreshTokens(ctx, u.ID, s.now())
	})
}

// SetCreditLimit sets how much credit, in cents, the user id may have
// reserved by unpaid orders; actor must be an active admin.
func (s *Service) SetCreditLimit(ctx context.Context, actor, id uuid.UUID, cents int64) (User, error) {
	if cents < 0 {
		return User{}, apperr.Validation("the credit limit is not valid", map[string]string{"credit_limit_cents": "must be zero or more"})
	}
	if err := s.requireAdmin(ctx, actor); err != nil {
		return User{}, err
	}
	return s.changeUser(ctx, id, func(u *User) error {
		u.CreditLimitCents = cents
		return nil
	}, nil)
}

// changeUser locks the user id, applies change and saves it, then runs
// after (if any) in the same transaction.
func (s *Service) changeUser(ctx context.Context, id uuid.UUID, change func(*User) error, after func(Tx, User) error) (User, error) {
	var out User
	err := s.store.Atomically(ctx, func(tx Tx) error {
		u, err := tx.LockUser(ctx, id)
		if err != nil {
			return err
		}
		if err := change(&u); err != nil {
			return err
		}
		u.UpdatedAt = s.now()
		if err := tx.SaveUser(ctx, u); err != nil {
			return err
		}
		if after != nil {
			if err := after(tx, u); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, storeErr(err, "there is no user with this id")
}

// ErrAdminEmailTaken is returned by SeedAdmin when the admin email belongs
// to an account that is not an admin: promoting it would hand the shop to
// whoever registered that address first.
var ErrAdminEmailTaken = errors.New("the admin email belongs to an existing account that is not an admin; " +
	"choose another admin-email, or let an admin grant the role")

// SeedAdmin makes sure the admin account exists: it creates it, with roles
// admin and customer and the given password, when absent. An existing admin
// keeps its password and status; an existing non-admin account is left
// alone and ErrAdminEmailTaken returned. It is idempotent and safe when
// several functions or replicas run it at once.
func (s *Service) SeedAdmin(ctx context.Context, email, password string) error {
	email = NormalizeEmail(email)
	fields := map[string]string{}
	if p := checkEmail(email); p != "" {
		fields["admin-email"] = p
	}
	if p := checkPassword(password); p != "" {
		fields["admin-password"] = p
	}
	if len(fields) > 0 {
		return apperr.Validation("the admin account secrets are not valid", fields)
	}
	var hash string
	_, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		if hash, err = s.passwords.Hash(ctx, password); err != nil {
			return storeErr(err, "")
		}
	} else if err != nil {
		return storeErr(err, "")
	}
	// Two seeders that both find no account both insert; the loser's
	// insert fails on the unique email and it tries again, now finding it.
	for attempt := 0; ; attempt++ {
		err := s.store.Atomically(ctx, func(tx Tx) error {
			u, err := tx.LockUserByEmail(ctx, email)
			if errors.Is(err, ErrNotFound) {
				if hash == "" { // deleted since we looked
					if hash, err = s.passwords.Hash(ctx, password); err != nil {
						return err
					}
				}
				u, err := s.newUser(email, "Administrator", hash, []string{auth.RoleAdmin, auth.RoleCustomer})
				if err != nil {
					return err
				}
				return tx.InsertUser(ctx, u)
			}
			if err != nil {
				return err
			}
			if !u.HasRole(auth.RoleAdmin) {
				return ErrAdminEmailTaken
			}
			return nil
		})
		if errors.Is(err, ErrAdminEmailTaken) {
			return err
		}
		if errors.Is(err, ErrEmailTaken) && attempt < 3 {
			continue
		}
		return storeErr(err, "")
	}
}
