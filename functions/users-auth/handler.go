// Package function is the users-auth OpenFaaS function: registration,
// login, refresh-token rotation, logout and the JWKS that every other
// function verifies access tokens with. It is thin glue: it decodes a
// request, calls the users service and encodes the answer.
//
// Routes (the sub-path arrives in the X-Function-Path header):
//
//	POST /v1/auth/register     {email,password,name}  201 {id,email,name,roles}
//	POST /v1/auth/login        {email,password}       200 {access_token,refresh_token,token_type,expires_in}
//	POST /v1/auth/refresh      {refresh_token}        200 as login
//	POST /v1/auth/logout       {refresh_token}        204 (bearer access token required)
//	GET  /.well-known/jwks.json                       200 {keys:[...]}
//
// Secrets: users-database-url, jwt-signing-key (PKCS #8 PEM, Ed25519),
// admin-email and admin-password (the admin account seeded at setup).
package function

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/faas-shop/faas-shop/shared/platform/auth"
	"github.com/faas-shop/faas-shop/shared/platform/fn"
	"github.com/faas-shop/faas-shop/shared/platform/web"
	"github.com/faas-shop/faas-shop/shared/users"
	"github.com/faas-shop/faas-shop/shared/users/pgstore"
)

var function = newFunction()

func newFunction() *fn.Function {
	return fn.New(fn.Config{Service: "users", Name: "users-auth", Setup: setup})
}

// Handle serves one request (the templates-sdk contract).
func Handle(req handler.Request) (handler.Response, error) { return function.Handle(req) }

// Ready reports whether the function can serve: its database answers.
func Ready(ctx context.Context) error { return function.Ready(ctx) }

// maxConns bounds the function's database pool.
const maxConns = 8

func setup(ctx context.Context, deps *fn.Deps) (http.Handler, error) {
	pemKey, err := deps.Secrets.Read("jwt-signing-key")
	if err != nil {
		return nil, err
	}
	key, err := auth.ParsePrivateKey(pemKey)
	if err != nil {
		return nil, err
	}
	adminEmail, err := deps.Secrets.Read("admin-email")
	if err != nil {
		return nil, err
	}
	adminPassword, err := deps.Secrets.Read("admin-password")
	if err != nil {
		return nil, err
	}
	pool, err := deps.Database(ctx, "users-database-url", "users", pgstore.Migrations, maxConns)
	if err != nil {
		return nil, err
	}
	signer := auth.NewSigner(key, users.AccessTokenTTL)
	svc := users.NewService(pgstore.New(pool), signer)
	switch err := svc.SeedAdmin(ctx, adminEmail, adminPassword); {
	case errors.Is(err, users.ErrAdminEmailTaken):
		// Serve anyway: the shop works, it just has no seeded admin.
		deps.Log.Warn().Err(err).Msg("admin account not seeded")
	case err != nil:
		return nil, fmt.Errorf("seed the admin account: %w", err)
	}
	verifier := auth.NewVerifier(auth.StaticKeys{signer.KeyID(): signer.PublicKey()})
	jwks := auth.JWKS{Keys: []auth.JWK{auth.PublicJWK(signer.PublicKey())}}
	return routes(svc, verifier, jwks), nil
}

func routes(svc *users.Service, verifier *auth.Verifier, jwks auth.JWKS) http.Handler {
	h := handlers{svc: svc}
	var rt web.Router
	rt.HandleFunc("POST /v1/auth/register", h.register)
	rt.HandleFunc("POST /v1/auth/login", h.login)
	rt.HandleFunc("POST /v1/auth/refresh", h.refresh)
	rt.Handle("POST /v1/auth/logout", web.RequireUser(verifier, http.HandlerFunc(h.logout)))
	rt.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		web.JSON(w, http.StatusOK, jwks)
	})
	return &rt
}

type handlers struct {
	svc *users.Service
}

type registerRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

type registeredUser struct {
	ID    string   `json:"id"`
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

func (h handlers) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := web.Decode(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	u, err := h.svc.Register(r.Context(), users.Registration{Email: req.Email, Password: req.Password, Name: req.Name})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, registeredUser{ID: u.ID.String(), Email: u.Email, Name: u.Name, Roles: u.Roles})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type sessionResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

func writeSession(w http.ResponseWriter, s users.Session) {
	// Tokens must not be kept by caches (RFC 6749 section 5.1).
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, sessionResponse{
		AccessToken: s.AccessToken, RefreshToken: s.RefreshToken, TokenType: s.TokenType, ExpiresIn: s.ExpiresIn,
	})
}

func (h handlers) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := web.Decode(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	s, err := h.svc.Login(r.Context(), req.Email, req.Password)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	writeSession(w, s)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (h handlers) refresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := web.Decode(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	s, err := h.svc.Refresh(r.Context(), req.RefreshToken)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	writeSession(w, s)
}

func (h handlers) logout(w http.ResponseWriter, r *http.Request) {
	caller, err := callerID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var req refreshRequest
	if err := web.Decode(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	if err := h.svc.Logout(r.Context(), caller, req.RefreshToken); err != nil {
		web.Error(w, r, err)
		return
	}
	web.NoContent(w)
}

// callerID returns the id of the user whose verified access token the
// request carries.
func callerID(r *http.Request) (uuid.UUID, error) {
	claims, _ := web.Claims(r.Context())
	return users.SubjectID(claims.Subject)
}
