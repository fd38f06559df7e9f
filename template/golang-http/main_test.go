package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testConfig() config {
	return config{readTimeout: time.Second, writeTimeout: time.Second, execTimeout: time.Second, maxRequestBytes: 64}
}

func TestInvokePassesTheSubPathAndReplacesASpoofedOne(t *testing.T) {
	h := invoke(testConfig(), slog.New(slog.DiscardHandler))
	req := httptest.NewRequest(http.MethodGet, "/v1/orders/42?x=1", nil)
	req.Header.Set(pathHeader, "/v1/admin/users")
	rec := httptest.NewRecorder()
	h(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	// The sample function greets the path it was given.
	if got := rec.Body.String(); got != "Hello from /v1/orders/42\n" {
		t.Fatalf("body %q: the client's %s header must be replaced by the URL path", got, pathHeader)
	}
}

func TestInvokeRefusesAnOversizedBodyWithAProblem(t *testing.T) {
	h := invoke(testConfig(), slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 65))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q", ct)
	}
}

func TestConfigReadsWatchdogStyleValues(t *testing.T) {
	env := map[string]string{
		"read_timeout": "5", "write_timeout": "1m", "exec_timeout": "nonsense",
		"upstream_url": "http://127.0.0.1:9999", "max_request_bytes": "2048",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.readTimeout != 5*time.Second || cfg.writeTimeout != time.Minute || cfg.execTimeout != 10*time.Second {
		t.Fatalf("timeouts %v %v %v", cfg.readTimeout, cfg.writeTimeout, cfg.execTimeout)
	}
	if cfg.addr != "127.0.0.1:9999" || cfg.maxRequestBytes != 2048 {
		t.Fatalf("addr %q max %d", cfg.addr, cfg.maxRequestBytes)
	}
	for _, bad := range []map[string]string{{"max_request_bytes": "-1"}, {"upstream_url": "::"}, {"write_timeout": "0"}} {
		if _, err := loadConfig(func(k string) string { return bad[k] }); err == nil {
			t.Fatalf("%v must be refused", bad)
		}
	}
}

func TestHealthAndReadinessFailWhileDraining(t *testing.T) {
	var draining atomic.Bool
	h := routes(testConfig(), slog.New(slog.DiscardHandler), &draining)
	status := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	if status("/_/health") != http.StatusOK || status("/_/ready") != http.StatusOK {
		t.Fatal("a running function is live and (the sample having no dependencies) ready")
	}
	draining.Store(true)
	if status("/_/health") != http.StatusServiceUnavailable || status("/_/ready") != http.StatusServiceUnavailable {
		t.Fatal("a draining function must leave the rotation")
	}
}

func TestAZeroExecTimeoutMeansNoDeadline(t *testing.T) {
	cfg := testConfig()
	cfg.execTimeout = 0
	rec := httptest.NewRecorder()
	invoke(cfg, slog.New(slog.DiscardHandler))(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: exec_timeout=0 must not expire every request at once", rec.Code)
	}
}
