package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// binary is faas-local, built once for the tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faas-local-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "faas-local")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build faas-local:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

var (
	sharedOnce  sync.Once
	sharedDir   string
	sharedState string
)

// sharedStack is one test stack (and state folder) that tests run
// faas-local on one after another, so that its builds are reused.
func sharedStack(t testing.TB) (dir, state string) {
	sharedOnce.Do(func() {
		d, err := os.MkdirTemp("", "faas-local-stack-")
		require.NoError(t, err)
		makeStack(t, d)
		sharedDir, sharedState = d, filepath.Join(d, ".faas-local")
	})
	return sharedDir, sharedState
}

// newStack makes a fresh test stack in a temporary folder.
func newStack(t testing.TB) string {
	d := t.TempDir()
	makeStack(t, d)
	return d
}

// makeStack lays out testdata's stack in dir, with the repository's
// golang-http template in template/, as faas-cli template pull would.
func makeStack(t testing.TB, dir string) {
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata")))
	require.NoError(t, os.CopyFS(filepath.Join(dir, "template", "golang-http"), os.DirFS("../../template/golang-http")))
}

// instance is a running faas-local.
type instance struct {
	t        testing.TB
	cmd      *exec.Cmd
	out      *syncBuffer
	exited   chan struct{}
	waitErr  error
	URL      string
	State    string
	Password string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs faas-local up on the stack in dir and waits until it is up.
func start(t testing.TB, dir, state string, args ...string) *instance {
	t.Helper()
	port := freePort(t)
	out := &syncBuffer{}
	cmd := exec.Command(binary, append([]string{"up", "-f", filepath.Join(dir, "stack.yml"),
		"--state", state, "--port", strconv.Itoa(port)}, args...)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "NATS_URL=", "DATABASE_URL=")
	require.NoError(t, cmd.Start())
	in := &instance{t: t, cmd: cmd, out: out, exited: make(chan struct{}), URL: fmt.Sprintf("http://127.0.0.1:%d", port), State: state}
	go func() {
		in.waitErr = cmd.Wait()
		close(in.exited)
	}()
	t.Cleanup(func() { in.stop() })
	deadline := time.After(5 * time.Minute)
	for !strings.Contains(out.String(), "faas-local is up") {
		select {
		case <-in.exited:
			t.Fatalf("faas-local exited before it was up: %v\n%s", in.waitErr, out.String())
		case <-deadline:
			t.Fatalf("faas-local was not up within 5 minutes:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	pw, err := os.ReadFile(filepath.Join(state, "secrets", "basic-auth-password"))
	require.NoError(t, err)
	in.Password = strings.TrimSpace(string(pw))
	return in
}

// stop sends SIGTERM and waits for faas-local to exit; it returns the error
// of its exit.
func (in *instance) stop() error {
	select {
	case <-in.exited:
		return in.waitErr
	default:
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(60 * time.Second):
		_ = in.cmd.Process.Kill()
		<-in.exited
		in.t.Errorf("faas-local did not stop within 60s of SIGTERM:\n%s", in.out.String())
	}
	return in.waitErr
}

// response is what the gateway answered.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

var client = &http.Client{Timeout: 30 * time.Second}

// do sends a request; auth is "" for none, else user:password.
func (in *instance) do(method, path, auth string, body io.Reader, header map[string]string) response {
	in.t.Helper()
	req, err := http.NewRequest(method, in.URL+path, body)
	require.NoError(in.t, err)
	if auth != "" {
		user, pw, _ := strings.Cut(auth, ":")
		req.SetBasicAuth(user, pw)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	require.NoError(in.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(in.t, err)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (in *instance) admin() string { return "admin:" + in.Password }

// echoed is what the echo function reports.
type echoed struct {
	Path          string   `json:"path"`
	Query         string   `json:"query"`
	Method        string   `json:"method"`
	Body          string   `json:"body"`
	CallID        string   `json:"call_id"`
	StartTime     string   `json:"start_time"`
	ForwardedFor  string   `json:"forwarded_for"`
	ForwardedHost string   `json:"forwarded_host"`
	PID           int      `json:"pid"`
	UpstreamURL   string   `json:"upstream_url"`
	GatewayURL    string   `json:"gateway_url"`
	NATSURL       string   `json:"nats_url"`
	Greeting      string   `json:"greeting"`
	Secrets       []string `json:"secrets"`
	Message       string   `json:"message"`
}

// echo calls a function through the gateway and decodes its answer.
func (in *instance) echo(fn, path string, header map[string]string) (echoed, response) {
	in.t.Helper()
	res := in.do(http.MethodGet, "/function/"+fn+path, "", nil, header)
	require.Equal(in.t, http.StatusOK, res.Status, string(res.Body))
	var e echoed
	require.NoError(in.t, json.Unmarshal(res.Body, &e), string(res.Body))
	return e, res
}

// status fetches /system/function/<fn>.
func (in *instance) status(fn string) map[string]any {
	in.t.Helper()
	res := in.do(http.MethodGet, "/system/function/"+fn, in.admin(), nil, nil)
	require.Equal(in.t, http.StatusOK, res.Status, string(res.Body))
	var st map[string]any
	require.NoError(in.t, json.Unmarshal(res.Body, &st))
	return st
}

// eventually polls cond every 20ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether a process with pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
