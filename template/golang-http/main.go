// Command handler serves one golang-http function over HTTP. It adapts
// net/http to templates-sdk/go-http's Handle(req) (Response, error), and does
// what the of-watchdog does in front of a function, so that the same binary
// runs behind the watchdog in a container and on its own under faas-local:
//
//   - listens on the address of upstream_url (default 127.0.0.1:8082);
//   - passes the request's sub-path in the X-Function-Path header (the SDK's
//     Request has no path field) and its query in Request.QueryString;
//   - answers /_/health (liveness) and /_/ready (the function's Ready);
//   - honours read_timeout, write_timeout and exec_timeout (seconds or Go
//     durations, default 10s; exec_timeout 0 means none, write_timeout must
//     be over 0) and max_request_bytes (default 1 MiB);
//   - on SIGTERM or SIGINT stops taking requests and drains those in flight.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	handler "github.com/openfaas/templates-sdk/go-http"

	function "handler/function"
)

// pathHeader carries the sub-path the function was called on.
const pathHeader = "X-Function-Path"

type config struct {
	addr            string
	readTimeout     time.Duration
	writeTimeout    time.Duration
	execTimeout     time.Duration
	maxRequestBytes int64
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: renameMessage}))
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		log.Error("invalid configuration", "error", err)
		os.Exit(2)
	}
	if err := serve(cfg, log); err != nil {
		log.Error("server stopped", "error", err)
		os.Exit(1)
	}
}

// renameMessage names slog's msg field "message", as every faas-shop log line has it.
func renameMessage(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.MessageKey {
		a.Key = "message"
	}
	return a
}

func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		readTimeout:     duration(getenv("read_timeout"), 10*time.Second),
		writeTimeout:    duration(getenv("write_timeout"), 10*time.Second),
		execTimeout:     duration(getenv("exec_timeout"), 10*time.Second),
		maxRequestBytes: 1 << 20,
		addr:            "127.0.0.1:8082",
	}
	if cfg.writeTimeout <= 0 {
		// The watchdog refuses it too: responses must end, and draining needs a bound.
		return cfg, fmt.Errorf("write_timeout must be over 0s")
	}
	if v := getenv("max_request_bytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return cfg, fmt.Errorf("max_request_bytes %q is not a positive integer", v)
		}
		cfg.maxRequestBytes = n
	}
	if v := getenv("upstream_url"); v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return cfg, fmt.Errorf("upstream_url %q is not a URL like http://127.0.0.1:8082", v)
		}
		cfg.addr = u.Host
	}
	return cfg, nil
}

// duration reads a value the way the watchdog does: whole seconds or a Go duration.
func duration(v string, fallback time.Duration) time.Duration {
	if v == "" {
		return fallback
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d
	}
	return fallback
}

func serve(cfg config, log *slog.Logger) error {
	var draining atomic.Bool
	srv := &http.Server{
		Addr:              cfg.addr,
		Handler:           routes(cfg, log, &draining),
		ReadTimeout:       cfg.readTimeout,
		ReadHeaderTimeout: cfg.readTimeout,
		WriteTimeout:      cfg.writeTimeout,
		IdleTimeout:       2 * time.Minute,
	}
	listener, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", listener.Addr().String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()

	select {
	case err := <-served:
		return err
	case sig := <-stop:
		log.Info("draining", "signal", sig.String())
		draining.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), cfg.writeTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			return fmt.Errorf("drain: %w", err)
		}
		log.Info("stopped")
		return nil
	}
}

// routes serves the watchdog's health paths and hands every other request
// to the function.
func routes(cfg config, log *slog.Logger, draining *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/_/health", func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "OK")
	})
	mux.HandleFunc("/_/ready", func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := function.Ready(ctx); err != nil {
			// The reason goes to the logs: /_/ready is reachable through the gateway.
			log.Warn("not ready", "error", err)
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "OK")
	})
	mux.Handle("/", invoke(cfg, log))
	return mux
}

// invoke adapts an HTTP request to the function's Handle.
func invoke(cfg config, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cfg.maxRequestBytes))
		if err != nil {
			if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
				problem(w, r, http.StatusRequestEntityTooLarge,
					fmt.Sprintf("the request body is larger than %d bytes", cfg.maxRequestBytes))
				return
			}
			problem(w, r, http.StatusBadRequest, "the request body could not be read")
			return
		}
		// exec_timeout 0 means no deadline, as for the watchdog.
		ctx, cancel := context.WithCancel(r.Context())
		if cfg.execTimeout > 0 {
			ctx, cancel = context.WithTimeout(r.Context(), cfg.execTimeout)
		}
		defer cancel()

		header := r.Header.Clone()
		header.Set(pathHeader, r.URL.Path) // never trust a client's value
		req := handler.Request{
			Body:        body,
			Header:      header,
			QueryString: r.URL.RawQuery,
			Method:      r.Method,
			Host:        r.Host,
		}
		req.WithContext(ctx)

		type result struct {
			res handler.Response
			err error
		}
		done := make(chan result, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					done <- result{err: fmt.Errorf("panic: %v", p)}
				}
			}()
			res, err := function.Handle(req)
			done <- result{res, err}
		}()

		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				log.Warn("exec_timeout exceeded", "path", r.URL.Path, "exec_timeout", cfg.execTimeout.String())
				problem(w, r, http.StatusGatewayTimeout, "the function did not answer within its exec_timeout")
			}
		case out := <-done:
			if out.err != nil {
				log.Error("handler failed", "path", r.URL.Path, "error", out.err)
				problem(w, r, http.StatusInternalServerError, "the function failed")
				return
			}
			for k, v := range out.res.Header {
				w.Header()[k] = v
			}
			status := out.res.StatusCode
			if status == 0 {
				status = http.StatusOK
			}
			w.WriteHeader(status)
			_, _ = w.Write(out.res.Body)
		}
	}
}

// problem writes an RFC 9457 problem+json error.
func problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	body, _ := json.Marshal(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status,
		"detail": detail, "instance": r.URL.Path, "call_id": r.Header.Get("X-Call-Id"),
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
