package fn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	handler "github.com/openfaas/templates-sdk/go-http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/fn"
	"github.com/faas-shop/faas-shop/shared/platform/web"
)

// logSink collects a function's log lines.
type logSink struct{ bytes.Buffer }

func (l *logSink) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

func echoRoutes(context.Context, *fn.Deps) (http.Handler, error) {
	var rt web.Router
	rt.HandleFunc("GET /v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Item", r.PathValue("id"))
		web.JSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id"), "q": r.URL.Query().Get("q")})
	})
	rt.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	return &rt, nil
}

func request(method, path, query string, header http.Header) handler.Request {
	if header == nil {
		header = http.Header{}
	}
	header.Set(fn.PathHeader, path)
	req := handler.Request{Method: method, Header: header, QueryString: query}
	req.WithContext(context.Background())
	return req
}

func TestHandleRoutesTheSubPathAndQuery(t *testing.T) {
	f := fn.New(fn.Config{Service: "shop", Name: "items", Setup: echoRoutes, Output: &logSink{}})
	res, err := f.Handle(request(http.MethodGet, "/v1/items/42", "q=red", nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "42", res.Header.Get("X-Item"))
	assert.JSONEq(t, `{"id":"42","q":"red"}`, string(res.Body))
}

func TestHandleGivesEveryResponseACallID(t *testing.T) {
	logs := &logSink{}
	f := fn.New(fn.Config{Service: "shop", Name: "items", Setup: echoRoutes, Output: logs})

	res, _ := f.Handle(request(http.MethodGet, "/v1/items/1", "", http.Header{"X-Call-Id": {"call-abc"}}))
	assert.Equal(t, "call-abc", res.Header.Get("X-Call-Id"))

	res, _ = f.Handle(request(http.MethodGet, "/v1/items/1", "", http.Header{"X-Request-Id": {"req-1"}}))
	assert.Equal(t, "req-1", res.Header.Get("X-Call-Id"), "X-Request-Id is accepted as the call id")

	res, _ = f.Handle(request(http.MethodGet, "/v1/items/1", "", nil))
	generated := res.Header.Get("X-Call-Id")
	assert.Len(t, generated, 36, "a uuid is generated when the caller sent none")

	res, _ = f.Handle(request(http.MethodGet, "/v1/items/1", "", http.Header{"X-Call-Id": {"bad\nid {\"level\":\"error\"}"}}))
	assert.NotContains(t, res.Header.Get("X-Call-Id"), "\n", "a hostile call id is replaced, not logged")

	var callIDs []any
	for _, line := range logs.lines(t) {
		assert.Equal(t, "shop", line["service"])
		assert.Equal(t, "items", line["function"])
		callIDs = append(callIDs, line["call_id"])
	}
	assert.Contains(t, callIDs, "call-abc")
	assert.Contains(t, callIDs, generated)
}

func TestHandleTurnsAPanicIntoAProblem(t *testing.T) {
	f := fn.New(fn.Config{Service: "shop", Name: "items", Setup: echoRoutes, Output: &logSink{}})
	res, err := f.Handle(request(http.MethodGet, "/panic", "", nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Equal(t, web.ProblemContentType, res.Header.Get("Content-Type"))
	assert.NotContains(t, string(res.Body), "boom")

	res, _ = f.Handle(request(http.MethodGet, "/v1/items/2", "", nil))
	assert.Equal(t, http.StatusOK, res.StatusCode, "the function keeps serving after a panic")
}

func TestSetupIsRetriedUntilItsDependenciesAreUp(t *testing.T) {
	var attempts atomic.Int32
	databaseUp := atomic.Bool{}
	f := fn.New(fn.Config{Service: "shop", Name: "items", Output: &logSink{},
		Setup: func(ctx context.Context, d *fn.Deps) (http.Handler, error) {
			attempts.Add(1)
			if !databaseUp.Load() {
				return nil, errors.New("connect: connection refused")
			}
			return echoRoutes(ctx, d)
		}})

	res, _ := f.Handle(request(http.MethodGet, "/v1/items/1", "", nil))
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, web.ProblemContentType, res.Header.Get("Content-Type"))
	assert.NotContains(t, string(res.Body), "connection refused", "causes stay in the logs")
	assert.Error(t, f.Ready(context.Background()))

	databaseUp.Store(true)
	require.NoError(t, f.Ready(context.Background()))
	res, _ = f.Handle(request(http.MethodGet, "/v1/items/1", "", nil))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	res, _ = f.Handle(request(http.MethodGet, "/v1/items/1", "", nil))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, int32(3), attempts.Load(), "setup runs until it succeeds, then never again")
}

func TestReadyRunsTheRegisteredChecks(t *testing.T) {
	var natsUp atomic.Bool
	f := fn.New(fn.Config{Service: "shop", Name: "items", Output: &logSink{},
		Setup: func(ctx context.Context, d *fn.Deps) (http.Handler, error) {
			d.AddReadyCheck("nats", func(context.Context) error {
				if !natsUp.Load() {
					return errors.New("nats: no servers available")
				}
				return nil
			})
			return echoRoutes(ctx, d)
		}})
	err := f.Ready(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nats")
	natsUp.Store(true)
	assert.NoError(t, f.Ready(context.Background()))
}

func TestCallersShareOneSetupAndStopWaitingWhenTheyGiveUp(t *testing.T) {
	var attempts atomic.Int32
	release := make(chan struct{})
	f := fn.New(fn.Config{Service: "shop", Name: "items", Output: &logSink{},
		Setup: func(ctx context.Context, d *fn.Deps) (http.Handler, error) {
			attempts.Add(1)
			<-release // a database that does not answer yet
			return echoRoutes(ctx, d)
		}})

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			errs <- f.Ready(ctx)
		})
	}
	wg.Wait() // each gives up after its own deadline, not after the setup
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
	assert.Equal(t, int32(1), attempts.Load(), "one setup at a time, shared by every caller")

	close(release)
	require.NoError(t, f.Ready(context.Background()))
	assert.Equal(t, int32(1), attempts.Load())
}
