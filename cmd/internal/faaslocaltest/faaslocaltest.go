// Package faaslocaltest runs a real faas-local for tests: the faas-local
// tests on their small test stack and the end-to-end tests on the
// repository's stack.yml start, call and stop it the same way.
package faaslocaltest

import (
	"bytes"
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

// Build compiles the faas-local command in pkgDir into a temporary folder
// and returns the binary; the caller removes dir when done.
func Build(pkgDir, dir string) (string, error) {
	bin := filepath.Join(dir, "faas-local")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = pkgDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build faas-local: %w\n%s", err, out)
	}
	return bin, nil
}

// Instance is a running faas-local.
type Instance struct {
	// URL is the gateway's base URL, State the state folder.
	URL, State string
	// Password is the gateway's basic-auth password (user admin).
	Password string
	// Out collects what faas-local printed.
	Out *Buffer

	tb      testing.TB
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs `binary up --state state --port <free> args...` in dir, with
// no DATABASE_URL or NATS_URL from the test run, and waits until faas-local
// says it is up. It is stopped when tb ends.
func Start(tb testing.TB, binary, dir, state string, args ...string) *Instance {
	tb.Helper()
	port := FreePort(tb)
	in := &Instance{
		URL: fmt.Sprintf("http://127.0.0.1:%d", port), State: state,
		Out: &Buffer{}, tb: tb, exited: make(chan struct{}),
	}
	in.cmd = exec.Command(binary, append([]string{"up", "--state", state, "--port", strconv.Itoa(port)}, args...)...)
	in.cmd.Dir = dir
	in.cmd.Stdout, in.cmd.Stderr = in.Out, in.Out
	in.cmd.Env = append(os.Environ(), "NATS_URL=", "DATABASE_URL=")
	require.NoError(tb, in.cmd.Start())
	go func() {
		in.waitErr = in.cmd.Wait()
		close(in.exited)
	}()
	tb.Cleanup(func() { _ = in.Stop() })

	deadline := time.After(5 * time.Minute) // a cold Go build cache is slow
	for !strings.Contains(in.Out.String(), "faas-local is up") {
		select {
		case <-in.exited:
			tb.Fatalf("faas-local exited before it was up: %v\n%s", in.waitErr, in.Out.String())
		case <-deadline:
			tb.Fatalf("faas-local was not up within 5 minutes:\n%s", in.Out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	pw, err := os.ReadFile(filepath.Join(state, "secrets", "basic-auth-password"))
	require.NoError(tb, err)
	in.Password = strings.TrimSpace(string(pw))
	return in
}

// Stop sends SIGTERM (as Ctrl-C would) and waits for faas-local to exit;
// it returns the error of that exit.
func (in *Instance) Stop() error {
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
		in.tb.Errorf("faas-local did not stop within 60s of SIGTERM:\n%s", in.Out.String())
	}
	return in.waitErr
}

// Admin is the gateway's basic-auth credentials as "user:password".
func (in *Instance) Admin() string { return "admin:" + in.Password }

// Response is what the gateway answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

var client = &http.Client{Timeout: 30 * time.Second}

// Do sends a request to the gateway; auth is "" for none, else user:password.
func (in *Instance) Do(method, path, auth string, body io.Reader, header map[string]string) Response {
	in.tb.Helper()
	req, err := http.NewRequest(method, in.URL+path, body)
	require.NoError(in.tb, err)
	if auth != "" {
		user, pw, _ := strings.Cut(auth, ":")
		req.SetBasicAuth(user, pw)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	require.NoError(in.tb, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(in.tb, err)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Buffer collects a process's output while a test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
