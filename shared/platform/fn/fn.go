// Package fn is the runtime every faas-shop function runs in. It adapts the
// templates-sdk contract (Handle(req) (Response, error)) to a plain
// net/http handler, builds the function's dependencies lazily (and again
// after a failure, so a function started before its database recovers by
// itself), and runs the readiness checks those dependencies register.
//
// Each Function value holds all of its state: two functions can live in one
// process (the monolith mode) without sharing a router, a logger or a pool.
package fn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	handler "github.com/openfaas/templates-sdk/go-http"
	"github.com/rs/zerolog"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/database"
	"github.com/faas-shop/faas-shop/shared/platform/logging"
	"github.com/faas-shop/faas-shop/shared/platform/secrets"
	"github.com/faas-shop/faas-shop/shared/platform/web"
)

// PathHeader carries the request's sub-path to the handler: our golang-http
// template sets it from the URL path the function was called with
// (/function/orders/v1/orders/42 arrives as "/v1/orders/42"), replacing any
// value a client sent, because templates-sdk's Request has no path field.
const PathHeader = "X-Function-Path"

// RequestIDHeader is accepted as the call id when X-Call-Id is absent.
const RequestIDHeader = "X-Request-Id"

// Config describes one function.
type Config struct {
	// Service is the service the function belongs to, as "users".
	Service string
	// Name is the function's name in stack.yml, as "users-auth".
	Name string
	// Setup builds the function's handler and its dependencies. It runs on
	// the first request or readiness probe, and again after it fails.
	Setup func(ctx context.Context, deps *Deps) (http.Handler, error)
	// Output receives the function's logs; nil means stdout.
	Output io.Writer
}

// Deps gives Setup what a function may depend on, and collects the
// readiness checks and clean-ups of what it opens.
type Deps struct {
	// Log is the function's logger.
	Log zerolog.Logger
	// Secrets reads the function's OpenFaaS secrets.
	Secrets secrets.Dir

	checks  []readyCheck
	closers []func()
}

type readyCheck struct {
	name  string
	check func(context.Context) error
}

// AddReadyCheck registers a check that /_/ready runs; the function is ready
// only while every check passes.
func (d *Deps) AddReadyCheck(name string, check func(context.Context) error) {
	d.checks = append(d.checks, readyCheck{name: name, check: check})
}

// Database opens the pool whose URL is in the named secret, applies the
// service's migrations and registers a readiness check that pings it.
func (d *Deps) Database(ctx context.Context, secretName, service string, migrations fs.FS, maxConns int32) (*pgxpool.Pool, error) {
	url, err := d.Secrets.Read(secretName)
	if err != nil {
		return nil, err
	}
	pool, err := database.Open(ctx, url, maxConns)
	if err != nil {
		return nil, err
	}
	if err := database.Migrate(ctx, pool, service, migrations); err != nil {
		pool.Close()
		return nil, err
	}
	d.closers = append(d.closers, pool.Close)
	d.AddReadyCheck("database", pool.Ping)
	return pool, nil
}

func (d *Deps) close() {
	for _, c := range d.closers {
		c()
	}
}

// Function is one OpenFaaS function: its handler, built on demand, wrapped in
// the behaviour every function shares (call ids, logs, panics, problems).
type Function struct {
	cfg  Config
	log  zerolog.Logger
	live atomic.Pointer[built]

	mu      sync.Mutex
	pending *attempt // the setup running now, if any
}

type built struct {
	handler http.Handler
	deps    *Deps
}

// attempt is one run of Setup that every caller arriving meanwhile shares.
type attempt struct {
	done chan struct{}
	err  error
}

// New returns the Function described by cfg.
func New(cfg Config) *Function {
	out := cfg.Output
	if out == nil {
		out = os.Stdout
	}
	return &Function{cfg: cfg, log: logging.New(out, cfg.Service, cfg.Name)}
}

// setupTimeout bounds one attempt at building the dependencies.
const setupTimeout = 20 * time.Second

// ensure returns the built function, running Setup if it has not succeeded
// yet. Callers that arrive while Setup runs wait for that same run (never
// one run each), and stop waiting when their own context ends.
func (f *Function) ensure(ctx context.Context) (*built, error) {
	if b := f.live.Load(); b != nil {
		return b, nil
	}
	f.mu.Lock()
	if b := f.live.Load(); b != nil {
		f.mu.Unlock()
		return b, nil
	}
	a := f.pending
	if a == nil {
		a = &attempt{done: make(chan struct{})}
		f.pending = a
		go f.setup(a)
	}
	f.mu.Unlock()
	select {
	case <-a.done:
		if a.err != nil {
			return nil, a.err
		}
		return f.live.Load(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// setup runs Setup once for a; it outlives the request that triggered it.
func (f *Function) setup(a *attempt) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	deps := &Deps{Log: f.log, Secrets: secrets.FromEnv()}
	h, err := f.cfg.Setup(ctx, deps)
	f.mu.Lock()
	if err != nil {
		deps.close()
		f.log.Error().Err(err).Msg("function setup failed; will retry on the next request")
	} else {
		f.live.Store(&built{handler: h, deps: deps})
		f.log.Info().Msg("function ready")
	}
	a.err, f.pending = err, nil
	f.mu.Unlock()
	close(a.done)
}

// Ready reports whether the function can serve: its setup succeeded and
// every readiness check passes.
func (f *Function) Ready(ctx context.Context) error {
	b, err := f.ensure(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range b.deps.checks {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := c.check(cctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
		cancel()
	}
	return errors.Join(errs...)
}

// Handle implements the templates-sdk contract for the function.
func (f *Function) Handle(req handler.Request) (handler.Response, error) {
	ctx := req.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	path := req.Header.Get(PathHeader)
	if path == "" {
		path = "/"
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, "/", bytes.NewReader(req.Body))
	if err != nil {
		return handler.Response{}, err
	}
	r.URL = &url.URL{Path: path, RawQuery: req.QueryString}
	r.RequestURI = r.URL.RequestURI()
	r.Header = req.Header
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Host = req.Host
	r.ContentLength = int64(len(req.Body))

	w := &responseBuffer{header: http.Header{}}
	f.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return handler.Response{Body: w.body.Bytes(), StatusCode: w.status, Header: w.header}, nil
}

// ServeHTTP runs the function's handler behind the shared behaviour: a call
// id on the context, the logs and the response; a problem+json 503 while the
// dependencies cannot be built; a problem+json 500, not a crash, on panic.
func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	callID := r.Header.Get(logging.CallIDHeader)
	if callID == "" {
		callID = r.Header.Get(RequestIDHeader)
	}
	if !logging.ValidCallID(callID) {
		callID = uuid.NewString()
	}
	r.Header.Set(logging.CallIDHeader, callID)
	w.Header().Set(logging.CallIDHeader, callID)
	ctx := logging.WithCallID(r.Context(), f.log, callID)
	r = r.WithContext(ctx)
	sw := &statusWriter{ResponseWriter: w}

	defer func() {
		if p := recover(); p != nil {
			logging.From(ctx).Error().Interface("panic", p).Msg("handler panicked")
			if sw.status == 0 {
				web.Error(sw, r, fmt.Errorf("panic: %v", p))
			}
		}
		logging.From(ctx).Info().
			Str("method", r.Method).Str("path", r.URL.Path).
			Int("status", sw.status).Dur("duration", time.Since(start)).
			Msg("request")
	}()

	b, err := f.ensure(ctx)
	if err != nil {
		web.Error(sw, r, apperr.Wrap(apperr.Unavailable, "the function is starting or a dependency is down; retry shortly", err))
		return
	}
	b.handler.ServeHTTP(sw, r)
}

// responseBuffer collects a response for Handle.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *responseBuffer) Header() http.Header { return b.header }
func (b *responseBuffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *responseBuffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}
