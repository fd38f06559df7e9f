// Package e2e tests the whole system as a user meets it: faas-local runs
// stack.yml (real builds, real processes, its own PostgreSQL cluster, NATS)
// and the tests speak HTTP to the gateway, nothing else.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"
	"github.com/openfaas/go-sdk/stack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/cmd/internal/faaslocaltest"
)

// repoRoot is the repository's top folder (tests run in cmd/e2e).
var repoRoot, _ = filepath.Abs("../..")

// system is faas-local running the repository's stack.yml.
type system struct {
	*faaslocaltest.Instance
	t   *testing.T
	bin string
}

// start runs `faas-local up` on stack.yml, with its own PostgreSQL cluster
// as on a fresh machine, and checks that every function is ready.
func (s *system) start(state string) {
	s.t.Helper()
	s.Instance = faaslocaltest.Start(s.t, s.bin, repoRoot, state,
		"-f", "stack.yml", "--build-dir", filepath.Join(state, "build"))
	require.True(s.t, s.allReady(), "every function in stack.yml is listed as ready:\n%s", s.Out.String())
}

// allReady reports whether /system/functions lists every function of
// stack.yml with an available replica.
func (s *system) allReady() bool {
	st, err := stack.ParseYAMLFile(filepath.Join(repoRoot, "stack.yml"), "", "", true)
	require.NoError(s.t, err)
	res := s.Do(http.MethodGet, "/system/functions", s.Admin(), nil, nil)
	var fns []types.FunctionStatus
	if res.Status != http.StatusOK || json.Unmarshal(res.Body, &fns) != nil {
		return false
	}
	ready := map[string]bool{}
	for _, f := range fns {
		ready[f.Name] = f.AvailableReplicas > 0
	}
	for name := range st.Functions {
		if !ready[name] {
			return false
		}
	}
	return len(st.Functions) > 0
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (s *system) call(method, path, token string, body any, header ...string) reply {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(s.t, err)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	require.NoError(s.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	r := reply{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (s *system) secret(name string) string {
	b, err := os.ReadFile(filepath.Join(s.State, "secrets", name))
	require.NoError(s.t, err)
	return strings.TrimSpace(string(b))
}

func str(v any) string { s, _ := v.(string); return s }

func TestUsersEndToEnd(t *testing.T) {
	bin, err := faaslocaltest.Build(filepath.Join(repoRoot, "cmd", "faas-local"), t.TempDir())
	require.NoError(t, err)
	sys := &system{t: t, bin: bin}
	state := t.TempDir()
	sys.start(state)

	const email, password = "ada@example.com", "correct horse battery"

	// Register, log in, read the profile.
	reg := sys.call(http.MethodPost, "/function/users-auth/v1/auth/register", "",
		map[string]string{"email": email, "password": password, "name": "Ada"}, "X-Call-Id", "e2e-register-1")
	require.Equal(t, http.StatusCreated, reg.status, reg.raw)
	assert.Equal(t, "e2e-register-1", reg.header.Get("X-Call-Id"), "the gateway and function keep the client's call id")
	userID := str(reg.body["id"])
	require.NotEmpty(t, userID)
	assert.Equal(t, []any{"customer"}, reg.body["roles"])

	dup := sys.call(http.MethodPost, "/function/users-auth/v1/auth/register", "",
		map[string]string{"email": strings.ToUpper(email), "password": password, "name": "Ada"})
	assert.Equal(t, http.StatusConflict, dup.status, dup.raw)

	login := sys.call(http.MethodPost, "/function/users-auth/v1/auth/login", "",
		map[string]string{"email": email, "password": password})
	require.Equal(t, http.StatusOK, login.status, login.raw)
	access, refresh := str(login.body["access_token"]), str(login.body["refresh_token"])
	require.NotEmpty(t, access)
	assert.Equal(t, "Bearer", login.body["token_type"])

	me := sys.call(http.MethodGet, "/function/users-profile/v1/me", access, nil)
	require.Equal(t, http.StatusOK, me.status, me.raw)
	assert.Equal(t, userID, me.body["id"])
	assert.Equal(t, email, me.body["email"])
	assert.NotEmpty(t, me.header.Get("X-Call-Id"), "a call id is generated and echoed")

	// Refresh rotates; reusing the rotated token is refused and revokes the family.
	rotated := sys.call(http.MethodPost, "/function/users-auth/v1/auth/refresh", "", map[string]string{"refresh_token": refresh})
	require.Equal(t, http.StatusOK, rotated.status, rotated.raw)
	newRefresh := str(rotated.body["refresh_token"])
	require.NotEqual(t, refresh, newRefresh)

	reuse := sys.call(http.MethodPost, "/function/users-auth/v1/auth/refresh", "", map[string]string{"refresh_token": refresh})
	assert.Equal(t, http.StatusUnauthorized, reuse.status, reuse.raw)
	assert.Equal(t, "application/problem+json", reuse.header.Get("Content-Type"))
	afterReuse := sys.call(http.MethodPost, "/function/users-auth/v1/auth/refresh", "", map[string]string{"refresh_token": newRefresh})
	assert.Equal(t, http.StatusUnauthorized, afterReuse.status, "the whole family is revoked: %s", afterReuse.raw)

	// Admin routes: the seeded admin may, a customer may not.
	customerList := sys.call(http.MethodGet, "/function/users-profile/v1/admin/users", access, nil)
	assert.Equal(t, http.StatusForbidden, customerList.status, customerList.raw)

	adminLogin := sys.call(http.MethodPost, "/function/users-auth/v1/auth/login", "",
		map[string]string{"email": sys.secret("admin-email"), "password": sys.secret("admin-password")})
	require.Equal(t, http.StatusOK, adminLogin.status, adminLogin.raw)
	adminToken := str(adminLogin.body["access_token"])
	list := sys.call(http.MethodGet, "/function/users-profile/v1/admin/users?page_size=100", adminToken, nil, "X-Call-Id", "e2e-admin-list")
	require.Equal(t, http.StatusOK, list.status, list.raw)
	assert.Contains(t, list.raw, email)

	limit := sys.call(http.MethodPut, "/function/users-profile/v1/admin/users/"+userID+"/credit-limit", adminToken,
		map[string]int{"credit_limit_cents": 50000})
	require.Equal(t, http.StatusOK, limit.status, limit.raw)
	me = sys.call(http.MethodGet, "/function/users-profile/v1/me", access, nil)
	assert.EqualValues(t, 50000, me.body["credit_limit_cents"])

	// One request can be followed across the gateway and the function (the
	// lines reach the log files a moment after the response).
	var lines []string
	require.Eventually(t, func() bool {
		out, err := exec.Command(sys.bin, "logs", "--state", sys.State, "--call-id", "e2e-admin-list", "--raw").Output()
		lines = strings.Split(strings.TrimSpace(string(out)), "\n")
		return err == nil && strings.Contains(string(out), `"fn_name":"users-profile"`) && strings.Contains(string(out), `"fn_name":"gateway"`)
	}, 10*time.Second, 100*time.Millisecond, "the gateway's and users-profile's lines for the call id")
	for _, line := range lines {
		assert.Contains(t, line, `"call_id":"e2e-admin-list"`, "only lines of that call id")
	}

	// Stop and start again: the accounts are still there.
	require.NoError(t, sys.Stop(), "faas-local exits cleanly:\n%s", sys.Out.String())
	sys.start(state)
	again := sys.call(http.MethodPost, "/function/users-auth/v1/auth/login", "",
		map[string]string{"email": email, "password": password})
	assert.Equal(t, http.StatusOK, again.status, "users survive a restart: %s", again.raw)
}
