// Package e2e tests the whole system as a user meets it: faas-local runs
// stack.yml (real builds, real processes, its own PostgreSQL cluster, NATS)
// and the tests speak HTTP to the gateway, nothing else.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository's top folder (tests run in cmd/e2e).
var repoRoot, _ = filepath.Abs("../..")

// system is one running faas-local.
type system struct {
	t       *testing.T
	bin     string
	state   string
	port    int
	cmd     *exec.Cmd
	exited  chan error // receives the exit of cmd
	output  *lockedBuffer
	gateway string
}

func buildFaasLocal(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "faas-local")
	build := exec.Command("go", "build", "-o", bin, "./cmd/faas-local")
	build.Dir = repoRoot
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs `faas-local up` on the repository's stack.yml and waits until
// every function is ready.
func (s *system) start() {
	t := s.t
	s.output = &lockedBuffer{}
	s.cmd = exec.Command(s.bin, "up", "-f", "stack.yml", "--state", s.state,
		"--port", fmt.Sprint(s.port), "--build-dir", filepath.Join(s.state, "build"))
	s.cmd.Dir = repoRoot
	// Its own PostgreSQL cluster, as on a fresh machine: not the test run's.
	s.cmd.Env = withoutEnv(os.Environ(), "DATABASE_URL", "NATS_URL")
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	require.NoError(t, s.cmd.Start())
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(s.stop)

	deadline := time.After(5 * time.Minute) // a cold Go build cache is slow
	for !s.allReady() {
		select {
		case err := <-s.exited:
			s.cmd = nil
			t.Fatalf("faas-local exited (%v):\n%s", err, s.output.String())
		case <-deadline:
			t.Fatalf("faas-local did not get every function ready:\n%s", s.output.String())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, n := range names {
			keep = keep && !strings.HasPrefix(kv, n+"=")
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

func (s *system) basicAuthPassword() string {
	b, err := os.ReadFile(filepath.Join(s.state, "secrets", "basic-auth-password"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func (s *system) allReady() bool {
	req, _ := http.NewRequest(http.MethodGet, s.gateway+"/system/functions", nil)
	req.SetBasicAuth("admin", s.basicAuthPassword())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var fns []struct {
		Name              string `json:"name"`
		AvailableReplicas int    `json:"availableReplicas"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&fns) != nil || len(fns) == 0 {
		return false
	}
	for _, f := range fns {
		if f.AvailableReplicas < 1 {
			return false
		}
	}
	return true
}

// stop sends Ctrl-C and waits for faas-local to shut everything down.
func (s *system) stop() {
	if s.cmd == nil {
		return
	}
	defer func() { s.cmd = nil }()
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-s.exited:
		assert.NoError(s.t, err, "faas-local must exit cleanly on Ctrl-C:\n%s", s.output.String())
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Errorf("faas-local did not stop within 60s:\n%s", s.output.String())
	}
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
	req, err := http.NewRequestWithContext(ctx, method, s.gateway+path, rd)
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
	b, err := os.ReadFile(filepath.Join(s.state, "secrets", name))
	require.NoError(s.t, err)
	return strings.TrimSpace(string(b))
}

func str(v any) string { s, _ := v.(string); return s }

func TestUsersEndToEnd(t *testing.T) {
	port := freePort(t)
	sys := &system{t: t, bin: buildFaasLocal(t), state: t.TempDir(), port: port,
		gateway: fmt.Sprintf("http://127.0.0.1:%d", port)}
	sys.start()

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
		out, err := exec.Command(sys.bin, "logs", "--state", sys.state, "--call-id", "e2e-admin-list", "--raw").Output()
		lines = strings.Split(strings.TrimSpace(string(out)), "\n")
		return err == nil && strings.Contains(string(out), `"fn_name":"users-profile"`) && strings.Contains(string(out), `"fn_name":"gateway"`)
	}, 10*time.Second, 100*time.Millisecond, "the gateway's and users-profile's lines for the call id")
	for _, line := range lines {
		assert.Contains(t, line, `"call_id":"e2e-admin-list"`, "only lines of that call id")
	}

	// Stop and start again: the accounts are still there.
	sys.stop()
	sys.start()
	again := sys.call(http.MethodPost, "/function/users-auth/v1/auth/login", "",
		map[string]string{"email": email, "password": password})
	assert.Equal(t, http.StatusOK, again.status, "users survive a restart: %s", again.raw)
}
