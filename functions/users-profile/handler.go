// Package function is the users-profile OpenFaaS function: a user's own
// profile and the admin's user management. It is thin glue: it decodes a
// request, calls the users service and encodes the answer.
//
// Routes (the sub-path arrives in the X-Function-Path header):
//
//	GET   /v1/me                             user   200 {id,email,name,roles,credit_limit_cents}
//	PATCH /v1/me  {name}                     user   200 as GET
//	GET   /v1/admin/users?page_size=&page_token=  admin  200 {items:[user],next_page_token}
//	PUT   /v1/admin/users/{id}/roles {roles}        admin  200 user
//	POST  /v1/admin/users/{id}/suspend              admin  200 user
//	PUT   /v1/admin/users/{id}/credit-limit {credit_limit_cents}  admin  200 user
//
// where an admin's user is {id,email,name,roles,status,credit_limit_cents,
// created_at,updated_at}. Access tokens are verified with the keys users-auth
// publishes at ${gateway_url}/function/users-auth/.well-known/jwks.json.
//
// Secrets: users-database-url. Environment: gateway_url.
package function

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/auth"
	"github.com/faas-shop/faas-shop/shared/platform/fn"
	"github.com/faas-shop/faas-shop/shared/platform/web"
	"github.com/faas-shop/faas-shop/shared/users"
	"github.com/faas-shop/faas-shop/shared/users/pgstore"
)

var function = newFunction()

func newFunction() *fn.Function {
	return fn.New(fn.Config{Service: "users", Name: "users-profile", Setup: setup})
}

// Handle serves one request (the templates-sdk contract).
func Handle(req handler.Request) (handler.Response, error) { return function.Handle(req) }

// Ready reports whether the function can serve: its database answers.
func Ready(ctx context.Context) error { return function.Ready(ctx) }

// GatewayURLEnv names the variable holding the OpenFaaS gateway's URL.
const GatewayURLEnv = "gateway_url"

// JWKSPath is where users-auth publishes its keys, under the gateway.
const JWKSPath = "/function/users-auth/.well-known/jwks.json"

const (
	maxConns = 8
	// keysTTL is how long fetched keys are trusted before a refetch; it
	// matches the JWKS's Cache-Control max-age.
	keysTTL = 5 * time.Minute
)

func setup(ctx context.Context, deps *fn.Deps) (http.Handler, error) {
	gateway := strings.TrimRight(os.Getenv(GatewayURLEnv), "/")
	if gateway == "" {
		return nil, errors.New("environment variable " + GatewayURLEnv + " is not set")
	}
	pool, err := deps.Database(ctx, "users-database-url", "users", pgstore.Migrations, maxConns)
	if err != nil {
		return nil, err
	}
	keys := auth.NewRemoteKeys(gateway+JWKSPath, &http.Client{Timeout: 5 * time.Second}, keysTTL)
	// This function never signs tokens: no TokenIssuer.
	return routes(users.NewService(pgstore.New(pool), nil), auth.NewVerifier(keys)), nil
}

func routes(svc *users.Service, v *auth.Verifier) http.Handler {
	h := handlers{svc: svc}
	admin := func(f http.HandlerFunc) http.Handler { return web.RequireRole(v, auth.RoleAdmin, f) }
	var rt web.Router
	rt.Handle("GET /v1/me", web.RequireUser(v, http.HandlerFunc(h.me)))
	rt.Handle("PATCH /v1/me", web.RequireUser(v, http.HandlerFunc(h.updateMe)))
	rt.Handle("GET /v1/admin/users", admin(h.listUsers))
	rt.Handle("PUT /v1/admin/users/{id}/roles", admin(h.setRoles))
	rt.Handle("POST /v1/admin/users/{id}/suspend", admin(h.suspend))
	rt.Handle("PUT /v1/admin/users/{id}/credit-limit", admin(h.setCreditLimit))
	return &rt
}

type handlers struct {
	svc *users.Service
}

// profile is a user's view of their own account.
type profile struct {
	ID               string   `json:"id"`
	Email            string   `json:"email"`
	Name             string   `json:"name"`
	Roles            []string `json:"roles"`
	CreditLimitCents int64    `json:"credit_limit_cents"`
}

func profileOf(u users.User) profile {
	return profile{ID: u.ID.String(), Email: u.Email, Name: u.Name, Roles: u.Roles, CreditLimitCents: u.CreditLimitCents}
}

// adminUser is an admin's view of an account.
type adminUser struct {
	ID               string    `json:"id"`
	Email            string    `json:"email"`
	Name             string    `json:"name"`
	Roles            []string  `json:"roles"`
	Status           string    `json:"status"`
	CreditLimitCents int64     `json:"credit_limit_cents"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

func adminUserOf(u users.User) adminUser {
	return adminUser{
		ID: u.ID.String(), Email: u.Email, Name: u.Name, Roles: u.Roles, Status: string(u.Status),
		CreditLimitCents: u.CreditLimitCents, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
}

// callerID returns the id of the user whose verified access token the
// request carries.
func callerID(r *http.Request) (uuid.UUID, error) {
	claims, _ := web.Claims(r.Context())
	return users.SubjectID(claims.Subject)
}

// targetID returns the {id} of the path; one that is not a UUID names no
// user, so it is 404 like an unknown one.
func targetID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.Nil, apperr.New(apperr.NotFound, "there is no user with this id")
	}
	return id, nil
}

func (h handlers) me(w http.ResponseWriter, r *http.Request) {
	caller, err := callerID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	u, err := h.svc.Me(r.Context(), caller)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	web.JSON(w, http.StatusOK, profileOf(u))
}

type profilePatch struct {
	Name *string `json:"name"`
}

func (h handlers) updateMe(w http.ResponseWriter, r *http.Request) {
	caller, err := callerID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var req profilePatch
	if err := web.Decode(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	u, err := h.svc.UpdateProfile(r.Context(), caller, users.ProfileChanges{Name: req.Name})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	web.JSON(w, http.StatusOK, profileOf(u))
}

type userPage struct {
	Items         []adminUser `json:"items"`
	NextPageToken string      `json:"next_page_token"`
}

func (h handlers) listUsers(w http.ResponseWriter, r *http.Request) {
	caller, err := callerID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	query := r.URL.Query()
	q := users.ListQuery{PageToken: query.Get("page_token")}
	if s := query.Get("page_size"); s != "" {
		if q.PageSize, err = strconv.Atoi(s); err != nil {
			web.Error(w, r, apperr.Validation("the page is not valid", map[string]string{"page_size": "must be an integer between 1 and 100"}))
			return
		}
	}
	page, err := h.svc.ListUsers(r.Context(), caller, q)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	out := userPage{Items: make([]adminUser, 0, len(page.Users)), NextPageToken: page.NextPageToken}
	for _, u := range page.Users {
		out.Items = append(out.Items, adminUserOf(u))
	}
	w.Header().Set("Cache-Control", "private, no-store")
	web.JSON(w, http.StatusOK, out)
}

// adminCommand runs one admin command on the path's user and answers with
// the user as it now is.
func adminCommand(w http.ResponseWriter, r *http.Request, body any, run func(caller, id uuid.UUID) (users.User, error)) {
	caller, err := callerID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	id, err := targetID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if body != nil {
		if err := web.Decode(r, body); err != nil {
			web.Error(w, r, err)
			return
		}
	}
	u, err := run(caller, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, adminUserOf(u))
}

type rolesRequest struct {
	Roles []string `json:"roles"`
}

func (h handlers) setRoles(w http.ResponseWriter, r *http.Request) {
	var req rolesRequest
	adminCommand(w, r, &req, func(caller, id uuid.UUID) (users.User, error) {
		return h.svc.SetRoles(r.Context(), caller, id, req.Roles)
	})
}

func (h handlers) suspend(w http.ResponseWriter, r *http.Request) {
	adminCommand(w, r, nil, func(caller, id uuid.UUID) (users.User, error) {
		return h.svc.Suspend(r.Context(), caller, id)
	})
}

type creditLimitRequest struct {
	CreditLimitCents *int64 `json:"credit_limit_cents"`
}

func (h handlers) setCreditLimit(w http.ResponseWriter, r *http.Request) {
	var req creditLimitRequest
	adminCommand(w, r, &req, func(caller, id uuid.UUID) (users.User, error) {
		if req.CreditLimitCents == nil {
			return users.User{}, apperr.Validation("the credit limit is not valid", map[string]string{"credit_limit_cents": "is required"})
		}
		return h.svc.SetCreditLimit(r.Context(), caller, id, *req.CreditLimitCents)
	})
}
