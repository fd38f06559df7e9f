package function

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/auth"
	"github.com/faas-shop/faas-shop/shared/platform/auth/authtest"
	"github.com/faas-shop/faas-shop/shared/platform/fn/fntest"
	"github.com/faas-shop/faas-shop/shared/platform/pgtest"
	"github.com/faas-shop/faas-shop/shared/platform/secrets"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	adminEmail    = "admin@shop.example"
	adminPassword = "admin password 123"
	password      = "correct horse battery"
)

// signingKey is the function's jwt-signing-key secret.
var signingKey = func() ed25519.PrivateKey {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return key
}()

// writeSecrets writes the function's secrets into a new folder and points
// secret_mount_path at it for the rest of the test.
func writeSecrets(t *testing.T, databaseURL string) string {
	t.Helper()
	dir := t.TempDir()
	pemKey, err := auth.MarshalPrivateKey(signingKey)
	require.NoError(t, err)
	for name, value := range map[string]string{
		"users-database-url": databaseURL,
		"jwt-signing-key":    pemKey,
		"admin-email":        adminEmail,
		"admin-password":     adminPassword,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o600))
	}
	t.Setenv(secrets.DirEnv, dir)
	return dir
}

var started bool

// start makes sure the package's function has built its dependencies. It
// reads its secrets only then, so they live no longer than the first test.
func start(t *testing.T) {
	t.Helper()
	if started {
		return
	}
	writeSecrets(t, pgtest.URL(t))
	require.NoError(t, Ready(context.Background()))
	started = true
}

func call(t *testing.T, method, path, body string, header ...string) fntest.Response {
	t.Helper()
	start(t)
	return fntest.Invoke(t, Handle, method, path, body, header...)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func newEmail() string { return "user-" + uuid.NewString()[:12] + "@example.com" }

func register(t *testing.T, email string) string {
	t.Helper()
	r := call(t, "POST", "/v1/auth/register", mustJSON(map[string]string{"email": email, "password": password, "name": "Test User"}))
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	return r.JSON(t)["id"].(string)
}

type session struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

func login(t *testing.T, email, pw string) session {
	t.Helper()
	r := call(t, "POST", "/v1/auth/login", mustJSON(map[string]string{"email": email, "password": pw}))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var s session
	require.NoError(t, json.Unmarshal(r.Body, &s))
	return s
}

func refresh(t *testing.T, token string) fntest.Response {
	t.Helper()
	return call(t, "POST", "/v1/auth/refresh", mustJSON(map[string]string{"refresh_token": token}))
}

// rows counts the users and refresh tokens in the database.
func rows(t *testing.T) [2]int {
	t.Helper()
	var n [2]int
	pool := pgtest.Pool(t)
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM refresh_tokens)`).Scan(&n[0], &n[1]))
	return n
}

func TestRegisterAnswers201WithTheNewCustomer(t *testing.T) {
	email := newEmail()

	r := call(t, "POST", "/v1/auth/register", mustJSON(map[string]string{"email": strings.ToUpper(email), "password": password, "name": " Ada "}))

	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	body := r.JSON(t)
	assert.Len(t, body, 4, "exactly id, email, name, roles: %s", r.Body)
	_, err := uuid.Parse(body["id"].(string))
	assert.NoError(t, err)
	assert.Equal(t, email, body["email"])
	assert.Equal(t, "Ada", body["name"])
	assert.Equal(t, []any{"customer"}, body["roles"])
	assert.NotEmpty(t, r.Header.Get("X-Call-Id"))
}

func TestRegisterWithATakenEmailIs409(t *testing.T) {
	email := newEmail()
	register(t, email)
	before := rows(t)

	r := call(t, "POST", "/v1/auth/register", mustJSON(map[string]string{"email": strings.ToUpper(email), "password": password, "name": "Again"}))

	r.RequireProblem(t, http.StatusConflict)
	assert.Equal(t, before, rows(t))
}

func TestRegisterWithInvalidFieldsIs422WithFieldErrors(t *testing.T) {
	r := call(t, "POST", "/v1/auth/register", `{"email":"nope","password":"short","name":""}`)

	p := r.RequireProblem(t, http.StatusUnprocessableEntity)
	assert.Contains(t, p.Errors, "email")
	assert.Contains(t, p.Errors, "password")
	assert.Contains(t, p.Errors, "name")
}

func TestHostileOrMalformedBodiesAre4xxProblemsAndWriteNothing(t *testing.T) {
	start(t)
	valid := map[string]string{"email": newEmail(), "password": password, "name": "x"}
	cases := []struct {
		name, path, body string
		status           int
		header           []string
	}{
		{"malformed json", "/v1/auth/register", `{"email": "a@b.io", "password": `, http.StatusBadRequest, nil},
		{"not json at all", "/v1/auth/register", `email=a@b.io`, http.StatusBadRequest, nil},
		{"empty body", "/v1/auth/register", ``, http.StatusBadRequest, nil},
		{"json array", "/v1/auth/register", `[1,2]`, http.StatusBadRequest, nil},
		{"two objects", "/v1/auth/register", mustJSON(valid) + mustJSON(valid), http.StatusBadRequest, nil},
		{"2 MB body", "/v1/auth/register", `{"email":"a@b.io","password":"` + strings.Repeat("x", 2<<20) + `","name":"x"}`, http.StatusRequestEntityTooLarge, nil},
		{"wrong type", "/v1/auth/register", `{"email":42,"password":"correct horse","name":"x"}`, http.StatusUnprocessableEntity, nil},
		{"unknown field", "/v1/auth/register", `{"email":"` + newEmail() + `","password":"correct horse","name":"x","roles":["admin"]}`, http.StatusUnprocessableEntity, nil},
		{"sql in email", "/v1/auth/register", `{"email":"' OR 1=1; DROP TABLE users;--@x.io","password":"correct horse","name":"x"}`, http.StatusUnprocessableEntity, nil},
		{"password over 128", "/v1/auth/register", mustJSON(map[string]string{"email": newEmail(), "password": strings.Repeat("p", 129), "name": "x"}), http.StatusUnprocessableEntity, nil},
		{"wrong media type", "/v1/auth/register", mustJSON(valid), http.StatusUnsupportedMediaType, []string{"Content-Type", "text/plain"}},
		{"login sql email", "/v1/auth/login", `{"email":"' OR 1=1; DROP TABLE users;--@x.io","password":"x' OR '1'='1"}`, http.StatusUnauthorized, nil},
		{"login NUL in email", "/v1/auth/login", `{"email":"a\u0000@b.io","password":"correct horse"}`, http.StatusUnauthorized, nil},
		{"register NUL in email", "/v1/auth/register", `{"email":"a\u0000@b.io","password":"correct horse","name":"x"}`, http.StatusUnprocessableEntity, nil},
		{"register NUL in name", "/v1/auth/register", `{"email":"` + newEmail() + `","password":"correct horse","name":"a\u0000b"}`, http.StatusUnprocessableEntity, nil},
		{"login wrong type", "/v1/auth/login", `{"email":"a@b.io","password":12345678}`, http.StatusUnprocessableEntity, nil},
		{"login 2 MB password", "/v1/auth/login", `{"email":"a@b.io","password":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge, nil},
		{"login missing password", "/v1/auth/login", `{"email":"a@b.io"}`, http.StatusUnprocessableEntity, nil},
		{"refresh wrong type", "/v1/auth/refresh", `{"refresh_token":["a"]}`, http.StatusUnprocessableEntity, nil},
		{"refresh unknown field", "/v1/auth/refresh", `{"refresh_token":"x","user_id":"y"}`, http.StatusUnprocessableEntity, nil},
		{"refresh sql", "/v1/auth/refresh", `{"refresh_token":"' OR 1=1; --"}`, http.StatusUnauthorized, nil},
		{"refresh missing token", "/v1/auth/refresh", `{}`, http.StatusUnprocessableEntity, nil},
	}
	before := rows(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, "POST", c.path, c.body, c.header...)
			r.RequireProblem(t, c.status)
		})
	}
	assert.Equal(t, before, rows(t), "no bad request wrote a row")
}

func TestUnknownRoutesAndMethodsAreProblems(t *testing.T) {
	call(t, "GET", "/v1/auth/nope", "").RequireProblem(t, http.StatusNotFound)
	r := call(t, "GET", "/v1/auth/login", "")
	r.RequireProblem(t, http.StatusMethodNotAllowed)
	assert.Contains(t, r.Header.Get("Allow"), "POST")
}

// jwks fetches the function's key set through its own route.
func jwks(t *testing.T) auth.StaticKeys {
	t.Helper()
	r := call(t, "GET", "/.well-known/jwks.json", "")
	require.Equal(t, http.StatusOK, r.Status)
	var set auth.JWKS
	require.NoError(t, json.Unmarshal(r.Body, &set))
	return set.KeySet()
}

func TestJWKSPublishesTheSigningKeyForFiveMinutes(t *testing.T) {
	r := call(t, "GET", "/.well-known/jwks.json", "")

	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Header.Get("Cache-Control"), "max-age=300")
	var set auth.JWKS
	require.NoError(t, json.Unmarshal(r.Body, &set))
	require.Len(t, set.Keys, 1)
	k := set.Keys[0]
	assert.Equal(t, "OKP", k.KeyType)
	assert.Equal(t, "Ed25519", k.Curve)
	assert.Equal(t, "EdDSA", k.Algorithm)
	assert.Equal(t, auth.KeyID(signingKey.Public().(ed25519.PublicKey)), k.KeyID)
	assert.NotContains(t, string(r.Body), `"d"`, "no private key material")
}

func TestLoginAnswersTokensVerifiableWithThePublishedJWKS(t *testing.T) {
	email := newEmail()
	id := register(t, email)

	r := call(t, "POST", "/v1/auth/login", mustJSON(map[string]string{"email": email, "password": password}))

	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	body := r.JSON(t)
	assert.Len(t, body, 4, "access_token, refresh_token, token_type, expires_in: %s", r.Body)
	assert.Equal(t, "Bearer", body["token_type"])
	assert.InDelta(t, 900, body["expires_in"], 2)
	claims, err := auth.NewVerifier(jwks(t)).Verify(context.Background(), body["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, id, claims.Subject)
	assert.Equal(t, []string{"customer"}, claims.Roles)
	assert.NotEmpty(t, body["refresh_token"])
}

func TestLoginWithAWrongPasswordOrUnknownEmailIs401WithTheSameDetail(t *testing.T) {
	email := newEmail()
	register(t, email)

	wrong := call(t, "POST", "/v1/auth/login", mustJSON(map[string]string{"email": email, "password": "wrong password"}))
	unknown := call(t, "POST", "/v1/auth/login", mustJSON(map[string]string{"email": "x" + email, "password": password}))

	p1, p2 := wrong.RequireProblem(t, http.StatusUnauthorized), unknown.RequireProblem(t, http.StatusUnauthorized)
	assert.Equal(t, p1.Detail, p2.Detail)
	assert.NotEmpty(t, wrong.Header.Get("WWW-Authenticate"))
}

func TestTheAdminFromTheSecretsCanLogInAsAdmin(t *testing.T) {
	s := login(t, strings.ToUpper(adminEmail), adminPassword)

	claims, err := auth.NewVerifier(jwks(t)).Verify(context.Background(), s.AccessToken)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"admin", "customer"}, claims.Roles)
}

func TestRefreshRotatesAndReuseRevokesTheFamily(t *testing.T) {
	email := newEmail()
	register(t, email)
	first := login(t, email, password)

	r := refresh(t, first.RefreshToken)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var second session
	require.NoError(t, json.Unmarshal(r.Body, &second))
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken)
	assert.Equal(t, "Bearer", second.TokenType)
	_, err := auth.NewVerifier(jwks(t)).Verify(context.Background(), second.AccessToken)
	require.NoError(t, err)

	refresh(t, first.RefreshToken).RequireProblem(t, http.StatusUnauthorized)
	refresh(t, second.RefreshToken).RequireProblem(t, http.StatusUnauthorized)
}

func TestRefreshWithAnUnknownTokenIs401(t *testing.T) {
	refresh(t, base64.RawURLEncoding.EncodeToString(make([]byte, 32))).RequireProblem(t, http.StatusUnauthorized)
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func TestLogoutRevokesTheCallersSession(t *testing.T) {
	email := newEmail()
	register(t, email)
	s := login(t, email, password)

	r := call(t, "POST", "/v1/auth/logout", mustJSON(map[string]string{"refresh_token": s.RefreshToken}), bearer(s.AccessToken)...)

	assert.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	assert.Empty(t, r.Body)
	refresh(t, s.RefreshToken).RequireProblem(t, http.StatusUnauthorized)
}

func TestLogoutWithAnotherUsersRefreshTokenIs204AndRevokesNothing(t *testing.T) {
	victim, attacker := newEmail(), newEmail()
	register(t, victim)
	register(t, attacker)
	vs, as := login(t, victim, password), login(t, attacker, password)

	r := call(t, "POST", "/v1/auth/logout", mustJSON(map[string]string{"refresh_token": vs.RefreshToken}), bearer(as.AccessToken)...)

	assert.Equal(t, http.StatusNoContent, r.Status)
	assert.Equal(t, http.StatusOK, refresh(t, vs.RefreshToken).Status, "the victim's session survives")
}

func TestLogoutWithoutAValidAccessTokenIs401AndRevokesNothing(t *testing.T) {
	email := newEmail()
	id := register(t, email)
	s := login(t, email, password)
	body := mustJSON(map[string]string{"refresh_token": s.RefreshToken})

	call(t, "POST", "/v1/auth/logout", body).RequireProblem(t, http.StatusUnauthorized)
	call(t, "POST", "/v1/auth/logout", body, "Authorization", "Basic YWRtaW46YWRtaW4=").RequireProblem(t, http.StatusUnauthorized)
	control, hostile := authtest.Tokens(t, signingKey, id, "customer", "admin")
	for name, token := range hostile {
		t.Run(name, func(t *testing.T) {
			call(t, "POST", "/v1/auth/logout", body, bearer(token)...).RequireProblem(t, http.StatusUnauthorized)
		})
	}
	assert.Equal(t, http.StatusOK, refresh(t, s.RefreshToken).Status, "the session survives every attempt")

	// The same construction with nothing wrong is accepted, so each refusal
	// above is for the flaw it names.
	r := call(t, "POST", "/v1/auth/logout", mustJSON(map[string]string{"refresh_token": base64.RawURLEncoding.EncodeToString(make([]byte, 32))}), bearer(control)...)
	assert.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
}

func TestADatabaseDownAtSetupIs503UntilItComesBack(t *testing.T) {
	dir := writeSecrets(t, "postgres://nobody:secret@127.0.0.1:1/users?connect_timeout=2")
	f := newFunction()

	r := fntest.Invoke(t, f.Handle, "GET", "/.well-known/jwks.json", "")

	p := r.RequireProblem(t, http.StatusServiceUnavailable)
	assert.NotContains(t, string(r.Body), "secret", "the database password never leaks")
	assert.NotEmpty(t, p.Detail)
	require.Error(t, f.Ready(context.Background()))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "users-database-url"), []byte(pgtest.URL(t)), 0o600))
	r = fntest.Invoke(t, f.Handle, "GET", "/.well-known/jwks.json", "")
	assert.Equal(t, http.StatusOK, r.Status, "the function recovers by itself: body %s", r.Body)
	assert.NoError(t, f.Ready(context.Background()))
}

func TestAMissingSecretIs503(t *testing.T) {
	dir := writeSecrets(t, pgtest.URL(t))
	require.NoError(t, os.Remove(filepath.Join(dir, "jwt-signing-key")))

	r := fntest.Invoke(t, newFunction().Handle, "POST", "/v1/auth/login", `{"email":"a@b.io","password":"whatever1"}`)

	r.RequireProblem(t, http.StatusServiceUnavailable)
	assert.False(t, bytes.Contains(r.Body, []byte(adminPassword)))
}

func TestAnAdminEmailTakenByACustomerIsNotPromoted(t *testing.T) {
	start(t)
	taken := newEmail()
	reg := call(t, "POST", "/v1/auth/register", mustJSON(map[string]string{"email": taken, "password": password, "name": "Eve"}))
	require.Equal(t, http.StatusCreated, reg.Status, "body: %s", reg.Body)
	dir := writeSecrets(t, pgtest.URL(t))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "admin-email"), []byte(taken), 0o600))
	f := newFunction()
	require.NoError(t, f.Ready(context.Background()), "the function serves without a seeded admin")

	r := fntest.Invoke(t, f.Handle, "POST", "/v1/auth/login", mustJSON(map[string]string{"email": taken, "password": password}))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	claims, err := auth.NewVerifier(auth.StaticKeys{auth.KeyID(signingKey.Public().(ed25519.PublicKey)): signingKey.Public().(ed25519.PublicKey)}).
		Verify(context.Background(), r.JSON(t)["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, []string{"customer"}, claims.Roles)
}
