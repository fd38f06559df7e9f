package users

import (
	"context"
	"encoding/base64"
	"errors"

	"github.com/google/uuid"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/auth"
)

// Me returns the caller's own profile. The access token may outlive the
// account's state, so this checks it again: a deleted account is
// Unauthenticated and a suspended one Forbidden.
func (s *Service) Me(ctx context.Context, caller uuid.UUID) (User, error) {
	u, err := activeCaller(s.store.UserByID(ctx, caller))
	return u, storeErr(err, "")
}

// activeCaller passes on the caller's account only while it exists and is
// active.
func activeCaller(u User, err error) (User, error) {
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, apperr.New(apperr.Unauthenticated, "the account this access token was issued for no longer exists")
	case err != nil:
		return User{}, err
	case u.Status != StatusActive:
		return User{}, errSuspended
	}
	return u, nil
}

// requireAdmin checks, against the stored account rather than the token's
// claims, that actor is an active admin: a suspended or demoted admin loses
// access at once, not when their access token expires.
func (s *Service) requireAdmin(ctx context.Context, actor uuid.UUID) error {
	u, err := activeCaller(s.store.UserByID(ctx, actor))
	if err != nil {
		return storeErr(err, "")
	}
	if !u.HasRole(auth.RoleAdmin) {
		return apperr.New(apperr.Forbidden, "this endpoint requires the admin role")
	}
	return nil
}

// Page sizes of ListUsers.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// ListQuery asks for one page of users.
type ListQuery struct {
	// PageSize is how many users to return: 1 to MaxPageSize, 0 for
	// DefaultPageSize.
	PageSize int
	// PageToken is the NextPageToken of the previous page, or "" for the
	// first page.
	PageToken string
}

// Page is one page of users, oldest first.
type Page struct {
	Users []User
	// NextPageToken fetches the next page; "" on the last page.
	NextPageToken string
}

// ListUsers returns one page of every user, oldest first; actor must be an
// active admin. Pages are keyed on the id (a UUIDv7, so in creation order):
// users created while a client pages through appear on a later page and
// nobody is listed twice.
func (s *Service) ListUsers(ctx context.Context, actor uuid.UUID, q ListQuery) (Page, error) {
	size := q.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	if size < 1 || size > MaxPageSize {
		return Page{}, apperr.Validation("the page is not valid", map[string]string{"page_size": "must be between 1 and 100"})
	}
	after, ok := decodePageToken(q.PageToken)
	if !ok {
		return Page{}, apperr.Validation("the page is not valid", map[string]string{"page_token": "is not a page token this endpoint issued"})
	}
	if err := s.requireAdmin(ctx, actor); err != nil {
		return Page{}, err
	}
	list, err := s.store.ListUsers(ctx, after, size+1)
	if err != nil {
		return Page{}, storeErr(err, "")
	}
	page := Page{Users: list}
	if len(list) > size {
		page.Users = list[:size]
		page.NextPageToken = encodePageToken(list[size-1].ID)
	}
	return page, nil
}

// pageTokenVersion starts every page token, so its format can change.
const pageTokenVersion = 'u'

func encodePageToken(after uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{pageTokenVersion}, after[:]...))
}

func decodePageToken(token string) (uuid.UUID, bool) {
	if token == "" {
		return uuid.Nil, true
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 17 || raw[0] != pageTokenVersion {
		return uuid.Nil, false
	}
	id, err := uuid.FromBytes(raw[1:])
	return id, err == nil
}
