package function

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/auth"
	"github.com/faas-shop/faas-shop/shared/platform/auth/authtest"
	"github.com/faas-shop/faas-shop/shared/platform/fn/fntest"
	"github.com/faas-shop/faas-shop/shared/platform/pgtest"
	"github.com/faas-shop/faas-shop/shared/platform/secrets"
	"github.com/faas-shop/faas-shop/shared/users"
	"github.com/faas-shop/faas-shop/shared/users/pgstore"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// usersAuthKey stands in for users-auth's signing key: the fake gateway
// below publishes its JWKS where users-profile looks for it.
var usersAuthKey = func() ed25519.PrivateKey {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return key
}()

var signer = auth.NewSigner(usersAuthKey, users.AccessTokenTTL)

// jwksFetches counts the fake gateway's JWKS answers.
var jwksFetches atomic.Int32

// newGateway serves users-auth's JWKS over real HTTP at the gateway path.
func newGateway() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+JWKSPath, func(w http.ResponseWriter, r *http.Request) {
		jwksFetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(auth.JWKS{Keys: []auth.JWK{auth.PublicJWK(signer.PublicKey())}})
	})
	return httptest.NewServer(mux)
}

// gateway lives as long as the test process.
var gateway = newGateway()

// configure writes the function's secret into a new folder and points
// secret_mount_path and gateway_url at it and gatewayURL for the test.
func configure(t *testing.T, databaseURL, gatewayURL string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users-database-url"), []byte(databaseURL+"\n"), 0o600))
	t.Setenv(secrets.DirEnv, dir)
	t.Setenv(GatewayURLEnv, gatewayURL)
	return dir
}

var (
	started bool
	svc     *users.Service
)

// start makes sure the package's function has built its dependencies (it
// reads its configuration only then) and gives the tests a Service on the
// same database to arrange users with.
func start(t *testing.T) {
	t.Helper()
	if started {
		return
	}
	configure(t, pgtest.URL(t), gateway.URL)
	require.NoError(t, Ready(context.Background()))
	started = true
}

func service(t *testing.T) *users.Service {
	t.Helper()
	start(t)
	if svc == nil {
		// A pool for the whole run: the service outlives the first test.
		pool, err := pgxpool.New(context.Background(), pgtest.URL(t))
		require.NoError(t, err)
		svc = users.NewService(pgstore.New(pool), signer,
			users.WithPasswordParams(users.PasswordParams{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}))
	}
	return svc
}

type account struct {
	users.User
	token string
}

// newUser registers a customer and signs an access token for them.
func newUser(t *testing.T) account {
	t.Helper()
	u, err := service(t).Register(context.Background(), users.Registration{
		Email: "user-" + uuid.NewString()[:12] + "@example.com", Password: "correct horse battery", Name: "Test User",
	})
	require.NoError(t, err)
	return account{User: u, token: tokenFor(t, u.ID.String(), u.Roles...)}
}

// newAdmin registers a user and makes them an admin in the database.
func newAdmin(t *testing.T) account {
	t.Helper()
	a := newUser(t)
	_, err := pgtest.Pool(t).Exec(context.Background(), `UPDATE users SET roles = '{admin,customer}' WHERE id = $1`, a.ID)
	require.NoError(t, err)
	a.Roles = []string{"admin", "customer"}
	a.token = tokenFor(t, a.ID.String(), a.Roles...)
	return a
}

func tokenFor(t *testing.T, subject string, roles ...string) string {
	t.Helper()
	token, _, err := signer.Sign(subject, roles)
	require.NoError(t, err)
	return token
}

// invoke calls f with a bearer token ("" for none).
func invoke(t *testing.T, f fntest.Handle, method, target, token, body string) fntest.Response {
	t.Helper()
	if token == "" {
		return fntest.Invoke(t, f, method, target, body)
	}
	return fntest.Invoke(t, f, method, target, body, "Authorization", "Bearer "+token)
}

// call invokes the package's function through the exported Handle.
func call(t *testing.T, method, target, token, body string) fntest.Response {
	t.Helper()
	start(t)
	return invoke(t, Handle, method, target, token, body)
}

// stored reads the user as the database has it.
func stored(t *testing.T, id uuid.UUID) users.User {
	t.Helper()
	var u users.User
	var status string
	require.NoError(t, pgtest.Pool(t).QueryRow(context.Background(),
		`SELECT name, roles, status, credit_limit_cents FROM users WHERE id = $1`, id).
		Scan(&u.Name, &u.Roles, &status, &u.CreditLimitCents))
	u.Status = users.Status(status)
	return u
}

func TestGetMeAnswersTheCallersProfile(t *testing.T) {
	a := newUser(t)

	r := call(t, "GET", "/v1/me", a.token, "")

	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, map[string]any{
		"id": a.ID.String(), "email": a.Email, "name": "Test User", "roles": []any{"customer"}, "credit_limit_cents": float64(0),
	}, r.JSON(t))
}

func TestGetMeRefusesMissingAndHostileTokens(t *testing.T) {
	a := newUser(t)
	call(t, "GET", "/v1/me", "", "").RequireProblem(t, http.StatusUnauthorized)

	control, hostile := authtest.Tokens(t, usersAuthKey, a.ID.String(), "customer", "admin")
	for name, token := range hostile {
		t.Run(name, func(t *testing.T) {
			r := call(t, "GET", "/v1/me", token, "")
			r.RequireProblem(t, http.StatusUnauthorized)
			assert.NotContains(t, string(r.Body), a.Email)
		})
	}
	assert.Equal(t, http.StatusOK, call(t, "GET", "/v1/me", control, "").Status,
		"the same construction with nothing wrong is accepted")
}

func TestGetMeOfASuspendedAccountIs403AndOfAnUnknownOne401(t *testing.T) {
	admin, a := newAdmin(t), newUser(t)
	_, err := service(t).Suspend(context.Background(), admin.ID, a.ID)
	require.NoError(t, err)

	call(t, "GET", "/v1/me", a.token, "").RequireProblem(t, http.StatusForbidden)
	call(t, "GET", "/v1/me", tokenFor(t, uuid.NewString(), "customer"), "").RequireProblem(t, http.StatusUnauthorized)
	call(t, "GET", "/v1/me", tokenFor(t, "not-a-uuid", "customer"), "").RequireProblem(t, http.StatusUnauthorized)
}

func TestPatchMeChangesTheName(t *testing.T) {
	a := newUser(t)

	r := call(t, "PATCH", "/v1/me", a.token, `{"name":"  Grace Hopper "}`)

	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, "Grace Hopper", r.JSON(t)["name"])
	assert.Equal(t, "Grace Hopper", stored(t, a.ID).Name)
}

func TestPatchMeRefusesBadBodiesAndChangesNothing(t *testing.T) {
	a := newUser(t)
	for name, c := range map[string]struct {
		body   string
		status int
	}{
		"unknown field email":    {`{"email":"new@example.com"}`, http.StatusUnprocessableEntity},
		"unknown field roles":    {`{"name":"x","roles":["admin"]}`, http.StatusUnprocessableEntity},
		"unknown field credit":   {`{"credit_limit_cents":100000}`, http.StatusUnprocessableEntity},
		"wrong type":             {`{"name":42}`, http.StatusUnprocessableEntity},
		"blank name":             {`{"name":"   "}`, http.StatusUnprocessableEntity},
		"name too long":          {`{"name":"` + strings.Repeat("n", 101) + `"}`, http.StatusUnprocessableEntity},
		"malformed":              {`{"name":`, http.StatusBadRequest},
		"2 MB":                   {`{"name":"` + strings.Repeat("n", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
		"sql":                    {`{"name":"x'); DROP TABLE users;--", "x":1}`, http.StatusUnprocessableEntity},
		"empty body":             {``, http.StatusBadRequest},
		"array instead of patch": {`[{"op":"replace","path":"/name","value":"x"}]`, http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			call(t, "PATCH", "/v1/me", a.token, c.body).RequireProblem(t, c.status)
		})
	}
	assert.Equal(t, "Test User", stored(t, a.ID).Name)
	assert.Equal(t, []string{"customer"}, stored(t, a.ID).Roles)
}

func TestAdminRoutesAreForbiddenToACustomer(t *testing.T) {
	a, victim := newUser(t), newUser(t)
	// Even a customer whose token claims admin is refused: roles are checked
	// against the database.
	forged := tokenFor(t, a.ID.String(), "admin", "customer")
	for _, token := range []string{a.token, forged} {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/v1/admin/users", ""},
			{"PUT", "/v1/admin/users/" + victim.ID.String() + "/roles", `{"roles":["admin"]}`},
			{"POST", "/v1/admin/users/" + victim.ID.String() + "/suspend", ""},
			{"PUT", "/v1/admin/users/" + victim.ID.String() + "/credit-limit", `{"credit_limit_cents":100000}`},
			{"PUT", "/v1/admin/users/" + a.ID.String() + "/roles", `{"roles":["admin"]}`},
		} {
			call(t, c.method, c.path, token, c.body).RequireProblem(t, http.StatusForbidden)
		}
	}
	call(t, "GET", "/v1/admin/users", "", "").RequireProblem(t, http.StatusUnauthorized)
	assert.Equal(t, users.User{Name: "Test User", Roles: []string{"customer"}, Status: users.StatusActive}, stored(t, victim.ID))
	assert.Equal(t, []string{"customer"}, stored(t, a.ID).Roles)
}

func TestAdminListsUsersPageByPage(t *testing.T) {
	admin := newAdmin(t)
	for range 3 {
		newUser(t)
	}

	first := call(t, "GET", "/v1/admin/users?page_size=2", admin.token, "")

	require.Equal(t, http.StatusOK, first.Status, "body: %s", first.Body)
	var page struct {
		Items         []map[string]any `json:"items"`
		NextPageToken string           `json:"next_page_token"`
	}
	require.NoError(t, json.Unmarshal(first.Body, &page))
	require.Len(t, page.Items, 2)
	require.NotEmpty(t, page.NextPageToken)
	keys := make([]string, 0)
	for k := range page.Items[0] {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"id", "email", "name", "roles", "status", "credit_limit_cents", "created_at", "updated_at"}, keys)
	assert.NotContains(t, string(first.Body), "argon2", "no password hash leaves the service")

	seen := map[any]bool{page.Items[0]["id"]: true, page.Items[1]["id"]: true}
	for page.NextPageToken != "" {
		r := call(t, "GET", "/v1/admin/users?page_size=2&page_token="+url.QueryEscape(page.NextPageToken), admin.token, "")
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		page.NextPageToken = ""
		require.NoError(t, json.Unmarshal(r.Body, &page))
		for _, it := range page.Items {
			assert.False(t, seen[it["id"]], "listed twice: %v", it["id"])
			seen[it["id"]] = true
		}
	}
	var total int
	require.NoError(t, pgtest.Pool(t).QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&total))
	assert.Len(t, seen, total)
}

func TestAdminListRefusesBadPageParameters(t *testing.T) {
	admin := newAdmin(t)
	for _, q := range []string{"page_size=abc", "page_size=101", "page_size=0x10", "page_size=-1", "page_token=forged", "page_size=99999999999999999999"} {
		call(t, "GET", "/v1/admin/users?"+q, admin.token, "").RequireProblem(t, http.StatusUnprocessableEntity)
	}
	r := call(t, "GET", "/v1/admin/users", admin.token, "")
	require.Equal(t, http.StatusOK, r.Status)
	assert.LessOrEqual(t, len(r.JSON(t)["items"].([]any)), users.DefaultPageSize)
}

func TestAdminSetsRoles(t *testing.T) {
	admin, a := newAdmin(t), newUser(t)

	r := call(t, "PUT", "/v1/admin/users/"+a.ID.String()+"/roles", admin.token, `{"roles":["customer","admin"]}`)

	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, []any{"admin", "customer"}, r.JSON(t)["roles"])
	assert.Equal(t, []string{"admin", "customer"}, stored(t, a.ID).Roles)
}

func TestAdminSetRolesRefusals(t *testing.T) {
	admin, a := newAdmin(t), newUser(t)
	path := "/v1/admin/users/" + a.ID.String() + "/roles"
	for name, c := range map[string]struct {
		path, body string
		status     int
	}{
		"unknown role":       {path, `{"roles":["root"]}`, http.StatusUnprocessableEntity},
		"no roles":           {path, `{"roles":[]}`, http.StatusUnprocessableEntity},
		"missing roles":      {path, `{}`, http.StatusUnprocessableEntity},
		"wrong type":         {path, `{"roles":"admin"}`, http.StatusUnprocessableEntity},
		"unknown field":      {path, `{"roles":["admin"],"status":"active"}`, http.StatusUnprocessableEntity},
		"malformed":          {path, `{"roles":[`, http.StatusBadRequest},
		"2 MB":               {path, `{"roles":["` + strings.Repeat("a", 2<<20) + `"]}`, http.StatusRequestEntityTooLarge},
		"self demotion":      {"/v1/admin/users/" + admin.ID.String() + "/roles", `{"roles":["customer"]}`, http.StatusConflict},
		"unknown user":       {"/v1/admin/users/" + uuid.NewString() + "/roles", `{"roles":["customer"]}`, http.StatusNotFound},
		"malformed uuid":     {"/v1/admin/users/not-a-uuid/roles", `{"roles":["customer"]}`, http.StatusNotFound},
		"sql in path":        {"/v1/admin/users/1%27%20OR%201=1/roles", `{"roles":["customer"]}`, http.StatusNotFound},
		"wrong method (GET)": {path, ``, http.StatusMethodNotAllowed},
	} {
		t.Run(name, func(t *testing.T) {
			method := "PUT"
			if strings.HasPrefix(name, "wrong method") {
				method = "GET"
			}
			call(t, method, c.path, admin.token, c.body).RequireProblem(t, c.status)
		})
	}
	assert.Equal(t, []string{"customer"}, stored(t, a.ID).Roles)
	assert.Equal(t, []string{"admin", "customer"}, stored(t, admin.ID).Roles)
}

func TestAdminSuspendsAUser(t *testing.T) {
	admin, a := newAdmin(t), newUser(t)

	r := call(t, "POST", "/v1/admin/users/"+a.ID.String()+"/suspend", admin.token, "")

	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, "suspended", r.JSON(t)["status"])
	assert.Equal(t, users.StatusSuspended, stored(t, a.ID).Status)
	call(t, "GET", "/v1/me", a.token, "").RequireProblem(t, http.StatusForbidden)

	call(t, "POST", "/v1/admin/users/"+admin.ID.String()+"/suspend", admin.token, "").RequireProblem(t, http.StatusConflict)
	call(t, "POST", "/v1/admin/users/"+uuid.NewString()+"/suspend", admin.token, "").RequireProblem(t, http.StatusNotFound)
	call(t, "POST", "/v1/admin/users/zzz/suspend", admin.token, "").RequireProblem(t, http.StatusNotFound)
	assert.Equal(t, users.StatusActive, stored(t, admin.ID).Status)
}

func TestASuspendedAdminLosesAdminAccessAtOnce(t *testing.T) {
	admin, other := newAdmin(t), newAdmin(t)
	_, err := service(t).Suspend(context.Background(), other.ID, admin.ID)
	require.NoError(t, err)

	call(t, "GET", "/v1/admin/users", admin.token, "").RequireProblem(t, http.StatusForbidden)
}

func TestAdminSetsACreditLimit(t *testing.T) {
	admin, a := newAdmin(t), newUser(t)

	r := call(t, "PUT", "/v1/admin/users/"+a.ID.String()+"/credit-limit", admin.token, `{"credit_limit_cents":250000}`)

	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, float64(250000), r.JSON(t)["credit_limit_cents"])
	me := call(t, "GET", "/v1/me", a.token, "")
	require.Equal(t, http.StatusOK, me.Status)
	assert.Equal(t, float64(250000), me.JSON(t)["credit_limit_cents"])
}

func TestAdminSetCreditLimitRefusesBadValues(t *testing.T) {
	admin, a := newAdmin(t), newUser(t)
	path := "/v1/admin/users/" + a.ID.String() + "/credit-limit"
	for name, body := range map[string]string{
		"negative":       `{"credit_limit_cents":-1}`,
		"fraction":       `{"credit_limit_cents":10.5}`,
		"string":         `{"credit_limit_cents":"100"}`,
		"missing":        `{}`,
		"null":           `{"credit_limit_cents":null}`,
		"overflow":       `{"credit_limit_cents":99999999999999999999}`,
		"unknown field":  `{"credit_limit_cents":1,"currency":"EUR"}`,
		"exponent float": `{"credit_limit_cents":1e3}`,
	} {
		t.Run(name, func(t *testing.T) {
			call(t, "PUT", path, admin.token, body).RequireProblem(t, http.StatusUnprocessableEntity)
		})
	}
	assert.Equal(t, int64(0), stored(t, a.ID).CreditLimitCents)
}

func TestTheJWKSIsFetchedOnceAndCached(t *testing.T) {
	a := newUser(t)
	call(t, "GET", "/v1/me", a.token, "")
	before := jwksFetches.Load()

	for range 5 {
		require.Equal(t, http.StatusOK, call(t, "GET", "/v1/me", a.token, "").Status)
	}

	assert.Equal(t, before, jwksFetches.Load())
}

func TestTheJWKSServerDownIs503NotA500(t *testing.T) {
	a := newUser(t)
	down := newGateway()
	down.Close()
	configure(t, pgtest.URL(t), down.URL)
	f := newFunction()

	r := invoke(t, f.Handle, "GET", "/v1/me", a.token, "")

	p := r.RequireProblem(t, http.StatusServiceUnavailable)
	assert.NotEmpty(t, p.Detail)
}

func TestTheJWKSServerFailingIs503(t *testing.T) {
	a := newUser(t)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	configure(t, pgtest.URL(t), failing.URL)

	invoke(t, newFunction().Handle, "GET", "/v1/me", a.token, "").RequireProblem(t, http.StatusServiceUnavailable)
}

func TestADatabaseDownAtSetupIs503UntilItComesBack(t *testing.T) {
	a := newUser(t)
	dir := configure(t, "postgres://nobody:secret@127.0.0.1:1/users?connect_timeout=2", gateway.URL)
	f := newFunction()

	r := invoke(t, f.Handle, "GET", "/v1/me", a.token, "")
	r.RequireProblem(t, http.StatusServiceUnavailable)
	assert.NotContains(t, string(r.Body), "secret")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "users-database-url"), []byte(pgtest.URL(t)), 0o600))
	r = invoke(t, f.Handle, "GET", "/v1/me", a.token, "")
	assert.Equal(t, http.StatusOK, r.Status, "the function recovers by itself: body %s", r.Body)
}

func TestAMissingGatewayURLIs503(t *testing.T) {
	a := newUser(t)
	configure(t, pgtest.URL(t), "")

	invoke(t, newFunction().Handle, "GET", "/v1/me", a.token, "").RequireProblem(t, http.StatusServiceUnavailable)
}
