package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/auth"
)

type claimsKey struct{}

// Claims returns the verified token claims of the request; ok is false on a
// route that does not require a user.
func Claims(ctx context.Context) (auth.Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(auth.Claims)
	return c, ok
}

// RequireUser lets a request through only with a valid bearer access token,
// and makes its claims available through Claims.
func RequireUser(v *auth.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := bearerToken(r)
		if err != nil {
			Error(w, r, err)
			return
		}
		claims, err := v.Verify(r.Context(), token)
		if err != nil {
			Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}

// RequireRole lets a request through only with a valid bearer access token
// that grants role; a valid token without it gets 403.
func RequireRole(v *auth.Verifier, role string, next http.Handler) http.Handler {
	return RequireUser(v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := Claims(r.Context())
		if !claims.HasRole(role) {
			Error(w, r, apperr.New(apperr.Forbidden, "this endpoint requires the "+role+" role"))
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", apperr.New(apperr.Unauthenticated, "a bearer access token is required")
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", apperr.New(apperr.Unauthenticated, "the Authorization header must be: Bearer <access token>")
	}
	return token, nil
}
