package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	providerlogs "github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSystemAPIRequiresBasicAuth(t *testing.T) {
	dir, state := sharedStack(t)
	in := start(t, dir, state)

	res := in.Do(http.MethodGet, "/healthz", "", nil, nil)
	assert.Equal(t, http.StatusOK, res.Status, "/healthz needs no auth")

	for _, path := range []string{"/system/functions", "/system/function/echo", "/system/info", "/system/logs?name=echo"} {
		res := in.Do(http.MethodGet, path, "", nil, nil)
		assert.Equal(t, http.StatusUnauthorized, res.Status, "%s without auth", path)
		assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Basic")
		res = in.Do(http.MethodGet, path, "admin:wrong-password", nil, nil)
		assert.Equal(t, http.StatusUnauthorized, res.Status, "%s with a wrong password", path)
		res = in.Do(http.MethodGet, path, "someone:"+in.Password, nil, nil)
		assert.Equal(t, http.StatusUnauthorized, res.Status, "%s with a wrong user", path)
		res = in.Do(http.MethodGet, path, in.Admin(), nil, nil)
		assert.Equal(t, http.StatusOK, res.Status, "%s with the password: %s", path, res.Body)
	}
	res = in.Do(http.MethodPost, "/system/scale-function/echo", "", strings.NewReader(`{"serviceName":"echo","replicas":0}`), nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.EqualValues(t, 1, in.status("echo")["replicas"], "a refused scale request must not scale")
}

func TestListDescribeAndInfo(t *testing.T) {
	dir, state := sharedStack(t)
	in := start(t, dir, state)

	in.echo("echo", "/", nil)
	in.echo("echo", "/", nil)

	res := in.Do(http.MethodGet, "/system/functions", in.Admin(), nil, nil)
	require.Equal(t, http.StatusOK, res.Status)
	var list []types.FunctionStatus
	require.NoError(t, json.Unmarshal(res.Body, &list))
	require.Len(t, list, 2)
	assert.Equal(t, "echo", list[0].Name)
	assert.Equal(t, "other", list[1].Name)
	echo := list[0]
	assert.Equal(t, "faas-local-test/echo:latest", echo.Image)
	assert.Equal(t, "openfaas-fn", echo.Namespace)
	assert.Equal(t, "./handler", echo.EnvProcess)
	assert.Equal(t, "hello", echo.EnvVars["greeting"])
	require.NotNil(t, echo.Labels)
	assert.Equal(t, "test", (*echo.Labels)["faas-shop.service"])
	require.NotNil(t, echo.Annotations)
	assert.Equal(t, "yes", (*echo.Annotations)["faas-shop.test"])
	assert.Equal(t, []string{"admin-email", "internal-hmac-key"}, echo.Secrets)
	assert.EqualValues(t, 1, echo.Replicas)
	assert.EqualValues(t, 1, echo.AvailableReplicas)
	assert.GreaterOrEqual(t, echo.InvocationCount, 2.0)
	assert.False(t, echo.CreatedAt.IsZero())

	res = in.Do(http.MethodGet, "/system/function/other", in.Admin(), nil, nil)
	require.Equal(t, http.StatusOK, res.Status)
	var other types.FunctionStatus
	require.NoError(t, json.Unmarshal(res.Body, &other))
	assert.Equal(t, "other", other.Name)
	assert.Equal(t, []string{"jwt-signing-key"}, other.Secrets)
	assert.Zero(t, other.InvocationCount)

	before := in.status("echo")["invocationCount"].(float64)
	in.echo("echo", "/", nil)
	assert.Equal(t, before+1, in.status("echo")["invocationCount"], "invocations are counted")

	res = in.Do(http.MethodGet, "/system/function/nope", in.Admin(), nil, nil)
	assert.Equal(t, http.StatusNotFound, res.Status)

	res = in.Do(http.MethodGet, "/system/info", in.Admin(), nil, nil)
	require.Equal(t, http.StatusOK, res.Status)
	var info types.ProviderInfo
	require.NoError(t, json.Unmarshal(res.Body, &info))
	assert.Equal(t, "faas-local", info.Name)
	assert.Equal(t, "process", info.Orchestration)
	require.NotNil(t, info.Version)
}

func TestInvokeThroughGateway(t *testing.T) {
	dir, state := sharedStack(t)
	in := start(t, dir, state)

	t.Run("sub-path and query reach the function", func(t *testing.T) {
		e, _ := in.echo("echo", "/v1/orders/42?expand=items&x=a%20b", nil)
		assert.Equal(t, "/v1/orders/42", e.Path)
		assert.Equal(t, "expand=items&x=a%20b", e.Query)
		e, _ = in.echo("echo", "", nil)
		assert.Equal(t, "/", e.Path)
		e, _ = in.echo("echo", "/", nil)
		assert.Equal(t, "/", e.Path)
	})
	t.Run("call id generated and echoed", func(t *testing.T) {
		e, res := in.echo("echo", "/x", nil)
		_, err := uuid.Parse(e.CallID)
		require.NoError(t, err, "the function gets a uuid call id, got %q", e.CallID)
		assert.Equal(t, e.CallID, res.Header.Get("X-Call-Id"))
		e2, _ := in.echo("echo", "/x", nil)
		assert.NotEqual(t, e.CallID, e2.CallID)
		start, err := strconv.ParseInt(e.StartTime, 10, 64)
		require.NoError(t, err, "X-Start-Time is unix nanoseconds")
		assert.WithinDuration(t, time.Now(), time.Unix(0, start), time.Minute)
		assert.Equal(t, e.StartTime, res.Header.Get("X-Start-Time"))
		assert.NotEmpty(t, res.Header.Get("X-Duration-Seconds"))
		assert.Equal(t, "127.0.0.1", e.ForwardedFor)
		assert.Equal(t, strings.TrimPrefix(in.URL, "http://"), e.ForwardedHost)
	})
	t.Run("a client's call id is kept", func(t *testing.T) {
		e, res := in.echo("echo", "/x", map[string]string{"X-Call-Id": "client-chose-this"})
		assert.Equal(t, "client-chose-this", e.CallID)
		assert.Equal(t, "client-chose-this", res.Header.Get("X-Call-Id"))
	})
	t.Run("a malformed call id is replaced everywhere", func(t *testing.T) {
		e, res := in.echo("echo", "/x", map[string]string{"X-Call-Id": strings.Repeat("forged id ", 20)})
		_, err := uuid.Parse(e.CallID)
		require.NoError(t, err, "the gateway replaces it with a uuid, got %q", e.CallID)
		assert.Equal(t, e.CallID, res.Header.Get("X-Call-Id"), "the function and the caller see the same id")
	})
	t.Run("methods and bodies", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			res := in.Do(m, "/function/echo/items", "", strings.NewReader(`{"n":1}`), nil)
			require.Equal(t, http.StatusOK, res.Status)
			var e echoed
			require.NoError(t, json.Unmarshal(res.Body, &e))
			assert.Equal(t, m, e.Method)
			assert.Equal(t, `{"n":1}`, e.Body)
		}
		big := strings.Repeat("x", 512<<10)
		res := in.Do(http.MethodPost, "/function/echo/big", "", strings.NewReader(big), nil)
		require.Equal(t, http.StatusOK, res.Status)
		var e echoed
		require.NoError(t, json.Unmarshal(res.Body, &e))
		assert.Equal(t, len(big), len(e.Body))
	})
	t.Run("unknown function", func(t *testing.T) {
		res := in.Do(http.MethodGet, "/function/nope/x", "", nil, nil)
		assert.Equal(t, http.StatusNotFound, res.Status)
		assert.NotEmpty(t, res.Header.Get("X-Call-Id"))
		res = in.Do(http.MethodGet, "/function/nope", "", nil, nil)
		assert.Equal(t, http.StatusNotFound, res.Status)
	})
	t.Run("async is not implemented yet", func(t *testing.T) {
		res := in.Do(http.MethodPost, "/async-function/echo", "", nil, nil)
		assert.Equal(t, http.StatusNotImplemented, res.Status)
	})
}

func TestFunctionEnvironment(t *testing.T) {
	dir, state := sharedStack(t)
	in := start(t, dir, state)

	e, _ := in.echo("echo", "/", nil)
	assert.Equal(t, in.URL, e.GatewayURL, "faas-local's gateway_url overrides stack.yml's")
	assert.Equal(t, "hello", e.Greeting, "stack.yml's environment, with ${VAR:-default} substituted")
	assert.Equal(t, []string{"admin-email", "internal-hmac-key"}, e.Secrets, "only the secrets echo lists")
	assert.Equal(t, "copied by configuration.copy\n", e.Message, "configuration.copy paths are in the build context")
	u, err := url.Parse(e.UpstreamURL)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", u.Hostname())
	o, _ := in.echo("other", "/", nil)
	assert.Equal(t, []string{"jwt-signing-key"}, o.Secrets)
	assert.Equal(t, "other", o.Greeting)
	assert.NotEqual(t, e.UpstreamURL, o.UpstreamURL)

	email, err := os.ReadFile(filepath.Join(state, "functions", "echo", "secrets", "admin-email"))
	require.NoError(t, err)
	assert.Equal(t, "admin@faas-shop.local", string(email))

	// nats_url points at a JetStream server.
	require.True(t, strings.HasPrefix(e.NATSURL, "nats://127.0.0.1:"), e.NATSURL)
	nc, err := nats.Connect(e.NATSURL, nats.Timeout(5*time.Second))
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	require.NoError(t, err, "JetStream is enabled")
}

func TestScale(t *testing.T) {
	dir, state := sharedStack(t)
	in := start(t, dir, state)

	scale := func(fn string, n int) response {
		body, _ := json.Marshal(types.ScaleServiceRequest{ServiceName: fn, Replicas: uint64(n)})
		return in.Do(http.MethodPost, "/system/scale-function/"+fn, in.Admin(), strings.NewReader(string(body)), nil)
	}
	waitAvailable := func(n int) {
		eventually(t, 15*time.Second, func() bool {
			st := in.status("echo")
			// faas-provider's FunctionStatus omits zero counts.
			return num(st["replicas"]) == n && num(st["availableReplicas"]) == n
		}, "echo should have %d available replicas: %v", n, in.status("echo"))
	}

	res := scale("echo", 2)
	require.Equal(t, http.StatusAccepted, res.Status, string(res.Body))
	waitAvailable(2)
	var pids []int
	for range 6 {
		e, _ := in.echo("echo", "/", nil)
		pids = append(pids, e.PID)
	}
	assert.NotEqual(t, pids[0], pids[1], "two replicas answer in turn: %v", pids)
	for i := 2; i < len(pids); i++ {
		assert.Equal(t, pids[i-2], pids[i], "round robin: %v", pids)
	}

	require.Equal(t, http.StatusAccepted, scale("echo", 1).Status)
	waitAvailable(1)
	first, _ := in.echo("echo", "/", nil)
	for range 4 {
		e, _ := in.echo("echo", "/", nil)
		assert.Equal(t, first.PID, e.PID, "one replica left")
	}
	assert.Contains(t, pids, first.PID, "scaling down keeps the first replica")
	removed := pids[0]
	if removed == first.PID {
		removed = pids[1]
	}
	eventually(t, 10*time.Second, func() bool { return !alive(removed) }, "the removed replica's process %d should exit", removed)

	require.Equal(t, http.StatusAccepted, scale("echo", 0).Status)
	waitAvailable(0)
	res = in.Do(http.MethodGet, "/function/echo/", "", nil, nil)
	assert.Equal(t, http.StatusServiceUnavailable, res.Status)
	assert.Contains(t, string(res.Body), "no ready replicas")

	require.Equal(t, http.StatusAccepted, scale("echo", 1).Status)
	waitAvailable(1)
	in.echo("echo", "/", nil)

	assert.Equal(t, http.StatusNotFound, scale("nope", 1).Status)
	res = in.Do(http.MethodPost, "/system/scale-function/echo", in.Admin(), strings.NewReader("not json"), nil)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, http.StatusBadRequest, scale("echo", 1000).Status)
}

func TestKilledFunctionIsRestarted(t *testing.T) {
	dir, state := sharedStack(t)
	in := start(t, dir, state)

	before, _ := in.echo("echo", "/", nil)
	require.NoError(t, syscall.Kill(before.PID, syscall.SIGKILL))
	var after echoed
	eventually(t, 15*time.Second, func() bool {
		res := in.Do(http.MethodGet, "/function/echo/", "", nil, nil)
		if res.Status != http.StatusOK {
			return false
		}
		require.NoError(t, json.Unmarshal(res.Body, &after))
		return after.PID != before.PID
	}, "echo should be restarted after SIGKILL")
	assert.NotEqual(t, before.PID, after.PID)
	assert.Contains(t, in.Out.String(), "restarting in", "the restart is logged")

	// A function that exits by itself comes back too.
	res := in.Do(http.MethodGet, "/function/echo/crash", "", nil, nil)
	assert.Equal(t, http.StatusBadGateway, res.Status, "the gateway answers 502 when the function dies mid-call")
	eventually(t, 15*time.Second, func() bool {
		return in.Do(http.MethodGet, "/function/echo/", "", nil, nil).Status == http.StatusOK
	}, "echo should be restarted after it crashed")
}

func TestReadinessTakesReplicaOutOfRotation(t *testing.T) {
	dir, state := sharedStack(t)
	in := start(t, dir, state)

	marker := filepath.Join(state, "functions", "echo", "not-ready")
	require.NoError(t, os.WriteFile(marker, nil, 0o644))
	defer os.Remove(marker)
	eventually(t, 10*time.Second, func() bool {
		return in.Do(http.MethodGet, "/function/echo/", "", nil, nil).Status == http.StatusServiceUnavailable
	}, "a replica failing /_/ready should leave rotation")
	st := in.status("echo")
	assert.Equal(t, 0, num(st["availableReplicas"]))
	assert.Equal(t, 1, num(st["replicas"]))
	require.NoError(t, os.Remove(marker))
	eventually(t, 10*time.Second, func() bool {
		return in.Do(http.MethodGet, "/function/echo/", "", nil, nil).Status == http.StatusOK
	}, "the replica should come back once ready")
}

func TestLogs(t *testing.T) {
	dir, state := sharedStack(t)
	in := start(t, dir, state)

	callID := "logs-" + uuid.NewString()
	in.echo("echo", "/log", map[string]string{"X-Call-Id": callID})
	in.echo("other", "/log", map[string]string{"X-Call-Id": "other-" + callID})

	read := func(query string) []providerlogs.Message {
		res := in.Do(http.MethodGet, "/system/logs?"+query, in.Admin(), nil, nil)
		require.Equal(t, http.StatusOK, res.Status, string(res.Body))
		var out []providerlogs.Message
		sc := bufio.NewScanner(strings.NewReader(string(res.Body)))
		for sc.Scan() {
			var m providerlogs.Message
			require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
			out = append(out, m)
		}
		return out
	}
	var found bool
	eventually(t, 5*time.Second, func() bool {
		found = false
		for _, m := range read("name=echo") {
			if strings.Contains(m.Text, `"call_id":"`+callID+`"`) {
				found = true
			}
		}
		return found
	}, "echo's log line should be in /system/logs")
	for _, m := range read("name=echo") {
		assert.Equal(t, "echo", m.Name)
		assert.Equal(t, "openfaas-fn", m.Namespace)
		assert.True(t, strings.HasPrefix(m.Instance, "echo-"), m.Instance)
		assert.NotContains(t, m.Text, "other-"+callID, "name filters by function")
		assert.NotContains(t, m.Text, "fn_instance", "text is the function's own line")
	}
	tail := read("name=echo&tail=2")
	require.Len(t, tail, 2)
	assert.Contains(t, tail[1].Text, "a plain line for "+callID)
	assert.Empty(t, read("name=echo&since="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))))
	res := in.Do(http.MethodGet, "/system/logs?name=nope", in.Admin(), nil, nil)
	assert.Equal(t, http.StatusNotFound, res.Status)

	// follow streams new lines.
	req, err := http.NewRequest(http.MethodGet, in.URL+"/system/logs?name=echo&tail=1&follow=true", nil)
	require.NoError(t, err)
	req.SetBasicAuth("admin", in.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stream, err := http.DefaultClient.Do(req.WithContext(ctx))
	require.NoError(t, err)
	defer stream.Body.Close()
	followID := "follow-" + uuid.NewString()
	go func() {
		time.Sleep(100 * time.Millisecond)
		req, _ := http.NewRequest(http.MethodGet, in.URL+"/function/echo/log", nil)
		req.Header.Set("X-Call-Id", followID)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	sc := bufio.NewScanner(stream.Body)
	found = false
	for !found && sc.Scan() {
		found = strings.Contains(sc.Text(), followID)
	}
	assert.True(t, found, "follow=true should stream the new line")

	// faas-local logs --call-id prints the call's lines from every log.
	time.Sleep(200 * time.Millisecond) // lines reach the files within 100ms
	out, err := exec.Command(binary, "logs", "--state", state, "--call-id", callID).CombinedOutput()
	require.NoError(t, err, string(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 2, string(out))
	assert.Contains(t, lines[0], "gateway", "the gateway's line comes first")
	assert.Contains(t, lines[0], "/function/echo/log")
	assert.Contains(t, lines[1], "echo[1]")
	assert.Contains(t, lines[1], "echo log")
	assert.Contains(t, lines[1], callID)

	raw, err := exec.Command(binary, "logs", "--state", state, "--call-id", callID, "--function", "echo", "--raw").CombinedOutput()
	require.NoError(t, err, string(raw))
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(string(raw))), &rec), string(raw))
	assert.Equal(t, "echo log", rec["message"], "the function's fields are kept")
	assert.Equal(t, "test", rec["service"])
	assert.Equal(t, "echo-1", rec["fn_instance"])
	assert.Equal(t, "echo", rec["fn_name"])
}

func TestStopAndStartKeepsState(t *testing.T) {
	dir := newStack(t)
	state := filepath.Join(dir, ".faas-local")
	in := start(t, dir, state)

	secretNames := []string{"basic-auth-user", "basic-auth-password", "jwt-signing-key", "internal-hmac-key", "admin-email", "admin-password"}
	before := map[string]string{}
	for _, n := range secretNames {
		b, err := os.ReadFile(filepath.Join(state, "secrets", n))
		require.NoError(t, err, n)
		require.NotEmpty(t, b, n)
		before[n] = string(b)
		st, err := os.Stat(filepath.Join(state, "secrets", n))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), n)
	}
	st, err := os.Stat(filepath.Join(state, "secrets"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	assert.Contains(t, before["jwt-signing-key"], "BEGIN PRIVATE KEY")

	e, _ := in.echo("echo", "/", nil)
	nc, err := nats.Connect(e.NATSURL)
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "KEEP", Subjects: []string{"keep.>"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = js.Publish(ctx, "keep.one", []byte("kept"))
	require.NoError(t, err)
	nc.Close()

	require.NoError(t, in.Stop(), "a clean stop exits 0:\n%s", in.Out.String())
	assert.Contains(t, in.Out.String(), "faas-local: stopped")
	assert.False(t, alive(e.PID), "function processes are stopped")

	again := start(t, dir, state)
	assert.Contains(t, again.Out.String(), "echo unchanged")
	assert.Contains(t, again.Out.String(), "other unchanged")
	assert.NotContains(t, again.Out.String(), "building")
	for _, n := range secretNames {
		b, err := os.ReadFile(filepath.Join(state, "secrets", n))
		require.NoError(t, err)
		assert.Equal(t, before[n], string(b), "secret %s is kept", n)
	}
	assert.Equal(t, before["basic-auth-password"], again.Password)
	e2, _ := again.echo("echo", "/", nil)
	nc, err = nats.Connect(e2.NATSURL)
	require.NoError(t, err)
	defer nc.Close()
	js, err = jetstream.New(nc)
	require.NoError(t, err)
	s, err := js.Stream(ctx, "KEEP")
	require.NoError(t, err, "the JetStream stream survives a restart")
	msg, err := s.GetLastMsgForSubject(ctx, "keep.one")
	require.NoError(t, err)
	assert.Equal(t, "kept", string(msg.Data))

	// A change to the handler is rebuilt; the other function is not.
	require.NoError(t, again.Stop())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lib", "message.txt"), []byte("changed\n"), 0o644))
	third := start(t, dir, state)
	assert.Contains(t, third.Out.String(), "echo built in")
	e3, _ := third.echo("echo", "/", nil)
	assert.Equal(t, "changed\n", e3.Message)
}

func TestMissingSecretFailsAtStart(t *testing.T) {
	dir := newStack(t)
	stack, err := os.ReadFile(filepath.Join(dir, "stack.yml"))
	require.NoError(t, err)
	stack = []byte(strings.Replace(string(stack), "- jwt-signing-key", "- jwt-signing-key\n      - payment-provider-token", 1))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stack.yml"), stack, 0o644))
	out, err := exec.Command(binary, "up", "-f", filepath.Join(dir, "stack.yml"), "--state", filepath.Join(dir, ".faas-local"), "--port", "0").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "payment-provider-token (listed by other)")
	assert.Contains(t, string(out), filepath.Join(dir, ".faas-local", "secrets"))
}

// num reads a JSON count that faas-provider omits when zero.
func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func TestTheTemplateEnforcesLimitsAndDrains(t *testing.T) {
	dir, state := sharedStack(t)
	in := start(t, dir, state)

	t.Run("a handler slower than exec_timeout gets a 504 problem", func(t *testing.T) {
		res := in.Do(http.MethodGet, "/function/other/sleep?ms=1500", "", nil, nil)
		assert.Equal(t, http.StatusGatewayTimeout, res.Status, string(res.Body))
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	})
	t.Run("a body over max_request_bytes gets a 413 problem", func(t *testing.T) {
		res := in.Do(http.MethodPost, "/function/echo/", "", strings.NewReader(strings.Repeat("x", 2<<20)), nil)
		assert.Equal(t, http.StatusRequestEntityTooLarge, res.Status)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	})
	t.Run("a replica stopped mid-request finishes it first", func(t *testing.T) {
		answered := make(chan response, 1)
		go func() { answered <- in.Do(http.MethodGet, "/function/echo/sleep?ms=800", "", nil, nil) }()
		time.Sleep(200 * time.Millisecond) // the request is in flight
		body, _ := json.Marshal(types.ScaleServiceRequest{ServiceName: "echo", Replicas: 0})
		require.Equal(t, http.StatusAccepted,
			in.Do(http.MethodPost, "/system/scale-function/echo", in.Admin(), strings.NewReader(string(body)), nil).Status)
		res := <-answered
		assert.Equal(t, http.StatusOK, res.Status, "SIGTERM drains in-flight requests: %s", res.Body)
	})
}
