package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/cmd/internal/faaslocaltest"
)

// binary is faas-local, built once for the tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faas-local-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if binary, err = faaslocaltest.Build(".", dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
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

// instance is a running faas-local with the test stack's helpers.
type instance struct {
	*faaslocaltest.Instance
	t testing.TB
}

// response is what the gateway answered.
type response = faaslocaltest.Response

// start runs faas-local up on the stack in dir and waits until it is up.
func start(t testing.TB, dir, state string, args ...string) instance {
	t.Helper()
	return instance{faaslocaltest.Start(t, binary, dir, state, append([]string{"-f", filepath.Join(dir, "stack.yml")}, args...)...), t}
}

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
func (in instance) echo(fn, path string, header map[string]string) (echoed, response) {
	in.t.Helper()
	res := in.Do(http.MethodGet, "/function/"+fn+path, "", nil, header)
	require.Equal(in.t, http.StatusOK, res.Status, string(res.Body))
	var e echoed
	require.NoError(in.t, json.Unmarshal(res.Body, &e), string(res.Body))
	return e, res
}

// status fetches /system/function/<fn>.
func (in instance) status(fn string) map[string]any {
	in.t.Helper()
	res := in.Do(http.MethodGet, "/system/function/"+fn, in.Admin(), nil, nil)
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
