// Package gateway is faas-local's OpenFaaS-compatible gateway: it proxies
// /function/{name}/... to a function's replicas, round robin, streaming
// bodies through a pooled keep-alive transport, and serves the provider API
// under /system/ behind basic auth.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/openfaas/faas-provider/auth"
	providerlogs "github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"

	"github.com/faas-shop/faas-shop/shared/platform/logging"
)

// CallIDHeader is OpenFaaS's correlation-id header.
const CallIDHeader = logging.CallIDHeader

// StartTimeHeader carries when the gateway received the call (Unix nanoseconds).
const StartTimeHeader = "X-Start-Time"

// DurationHeader tells the caller how long the call took (seconds).
const DurationHeader = "X-Duration-Seconds"

// Function is one function the gateway routes to.
type Function interface {
	// Pick returns the host:port of the next available replica.
	Pick() (addr string, ok bool)
	// CountInvocation counts one call.
	CountInvocation()
	// Status describes the function for /system/functions.
	Status() types.FunctionStatus
	// Scale sets the number of replicas.
	Scale(n int) error
}

// Registry finds functions.
type Registry interface {
	// Lookup returns the function called name.
	Lookup(name string) (Function, bool)
	// List returns every function, sorted by name.
	List() []Function
}

// Logs gives the gateway the functions' logs and a place for its own.
type Logs interface {
	// Messages returns fn's last tail lines since since.
	Messages(fn string, since time.Time, tail int) ([]providerlogs.Message, error)
	// Subscribe returns fn's lines from now on, until cancel.
	Subscribe(fn string) (<-chan providerlogs.Message, func())
	// Request records one proxied request.
	Request(r RequestLog)
}

// RequestLog is the gateway's record of one function call.
type RequestLog struct {
	Function string
	CallID   string
	Method   string
	Path     string
	Status   int
	// Start is when the gateway received the call.
	Start    time.Time
	Duration time.Duration
}

// Options configure a gateway.
type Options struct {
	// Registry finds the functions.
	Registry Registry
	// Logs serves /system/logs and records requests.
	Logs Logs
	// Credentials guard /system/*.
	Credentials *auth.BasicAuthCredentials
	// Version is reported by /system/info.
	Version string
}

// Gateway is an http.Handler.
type Gateway struct {
	opts      Options
	mux       *http.ServeMux
	transport *http.Transport
	bufs      *bufferPool
	proxies   sync.Map // host:port → *replicaProxy
}

// New returns a gateway.
func New(opts Options) *Gateway {
	g := &Gateway{
		opts: opts,
		mux:  http.NewServeMux(),
		// Functions are on this machine: keep many idle connections, for
		// long, rather than faas-provider's 120ms idle timeout.
		transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
			ForceAttemptHTTP2:     false,
			WriteBufferSize:       32 << 10,
			ReadBufferSize:        32 << 10,
		},
		bufs: newBufferPool(),
	}
	g.mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("OK"))
	})
	g.mux.HandleFunc("/function/{name}", g.invoke)
	g.mux.HandleFunc("/function/{name}/{path...}", g.invoke)
	g.mux.HandleFunc("/async-function/{name}", g.async)
	g.mux.HandleFunc("/async-function/{name}/{path...}", g.async)
	g.mux.HandleFunc("/system/", g.guard(g.notFound))
	g.mux.HandleFunc("GET /system/functions", g.guard(g.list))
	g.mux.HandleFunc("/system/functions", g.guard(g.deployUnsupported))
	g.mux.HandleFunc("GET /system/function/{name}", g.guard(g.describe))
	g.mux.HandleFunc("POST /system/scale-function/{name}", g.guard(g.scale))
	g.mux.HandleFunc("GET /system/logs", g.guard(g.logs))
	g.mux.HandleFunc("GET /system/info", g.guard(g.info))
	return g
}

// ServeHTTP routes a request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

// CloseIdleConnections closes the pooled connections to functions.
func (g *Gateway) CloseIdleConnections() { g.transport.CloseIdleConnections() }

func (g *Gateway) guard(next http.HandlerFunc) http.HandlerFunc {
	return auth.DecorateWithBasicAuth(next, g.opts.Credentials)
}

func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "faas-local: no such endpoint: "+r.URL.Path, http.StatusNotFound)
}

// invoke proxies a call to one replica of the function.
func (g *Gateway) invoke(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := r.PathValue("name")
	// A client's call id is kept when it is well-formed, as the functions
	// would keep it; anything else is replaced.
	callID := r.Header.Get(CallIDHeader)
	if !logging.ValidCallID(callID) {
		callID = uuid.NewString()
		r.Header.Set(CallIDHeader, callID)
	}
	r.Header.Set(StartTimeHeader, strconv.FormatInt(start.UnixNano(), 10))
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if g.opts.Logs != nil {
			g.opts.Logs.Request(RequestLog{Function: name, CallID: callID, Method: r.Method,
				Path: r.URL.Path, Status: rec.status, Start: start, Duration: time.Since(start)})
		}
	}()

	fn, ok := g.opts.Registry.Lookup(name)
	if !ok {
		g.fail(rec, callID, start, http.StatusNotFound, fmt.Sprintf("function %q is not deployed (see /system/functions)", name))
		return
	}
	fn.CountInvocation()
	addr, ok := fn.Pick()
	if !ok {
		rec.Header().Set("Retry-After", "1")
		g.fail(rec, callID, start, http.StatusServiceUnavailable,
			fmt.Sprintf("function %q has no ready replicas: it is starting, failing its readiness check, restarting or scaled to zero", name))
		return
	}
	g.proxy(fn, addr).ServeHTTP(rec, r)
}

func (g *Gateway) fail(w http.ResponseWriter, callID string, start time.Time, status int, msg string) {
	h := w.Header()
	h.Set(CallIDHeader, callID)
	h.Set(StartTimeHeader, strconv.FormatInt(start.UnixNano(), 10))
	h.Set(DurationHeader, strconv.FormatFloat(time.Since(start).Seconds(), 'f', 6, 64))
	http.Error(w, msg, status)
}

// proxy returns the reverse proxy to one replica of fn, made on first use.
func (g *Gateway) proxy(fn Function, addr string) *httputil.ReverseProxy {
	// A port may come back for another function's replica: check whose it is.
	if p, ok := g.proxies.Load(addr); ok && p.(*replicaProxy).fn == fn {
		return p.(*replicaProxy).rp
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := pr.Out
			out.URL.Scheme = "http"
			out.URL.Host = addr
			out.URL.Path = subPath(pr.In.URL.Path, pr.In.PathValue("name"))
			if pr.In.URL.RawPath != "" {
				out.URL.RawPath = subPath(pr.In.URL.RawPath, pr.In.PathValue("name"))
			} else {
				out.URL.RawPath = ""
			}
			out.Host = ""
			pr.SetXForwarded()
		},
		Transport:      &retryTransport{base: g.transport, fn: fn},
		BufferPool:     g.bufs,
		ModifyResponse: modifyResponse,
		ErrorHandler:   badGateway,
	}
	g.proxies.Store(addr, &replicaProxy{fn: fn, rp: p})
	return p
}

// replicaProxy is the cached proxy to one replica.
type replicaProxy struct {
	fn Function
	rp *httputil.ReverseProxy
}

// retryTransport sends a bodiless request that could not even connect
// (the replica just died) to another ready replica: it never reached a
// function, so any method is safe to resend.
type retryTransport struct {
	base http.RoundTripper
	fn   Function
}

// RoundTrip sends the request, retrying failed connections elsewhere.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err == nil || !isDialError(err) || (req.Body != nil && req.Body != http.NoBody) {
		return res, err
	}
	tried := req.URL.Host
	for range 2 {
		addr, ok := t.fn.Pick()
		if !ok || addr == tried {
			break
		}
		retry := req.Clone(req.Context())
		retry.URL.Host = addr
		res, err = t.base.RoundTrip(retry)
		if err == nil || !isDialError(err) {
			return res, err
		}
		tried = addr
	}
	return res, err
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// subPath is the part of /function/<name>/<rest> after the name, "/" at least.
func subPath(p, name string) string {
	rest := strings.TrimPrefix(p, "/function/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

// modifyResponse stamps OpenFaaS's headers on the function's answer.
func modifyResponse(res *http.Response) error {
	h := res.Header
	req := res.Request
	h.Set(CallIDHeader, req.Header.Get(CallIDHeader))
	st := req.Header.Get(StartTimeHeader)
	h.Set(StartTimeHeader, st)
	if ns, err := strconv.ParseInt(st, 10, 64); err == nil {
		h.Set(DurationHeader, strconv.FormatFloat(time.Since(time.Unix(0, ns)).Seconds(), 'f', 6, 64))
	}
	return nil
}

func badGateway(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	msg := "faas-local: the function failed to answer: " + err.Error()
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The caller went away; nobody reads this.
		status = 499
	}
	h := w.Header()
	h.Set(CallIDHeader, r.Header.Get(CallIDHeader))
	h.Set(StartTimeHeader, r.Header.Get(StartTimeHeader))
	http.Error(w, msg, status)
}

func (g *Gateway) async(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "faas-local: /async-function is not implemented yet (it arrives with the event backbone); "+
		"call /function/"+r.PathValue("name")+" instead", http.StatusNotImplemented)
}

func (g *Gateway) deployUnsupported(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "faas-local deploys what stack.yml lists: edit stack.yml and restart faas-local", http.StatusNotImplemented)
}

func (g *Gateway) list(w http.ResponseWriter, r *http.Request) {
	fns := g.opts.Registry.List()
	out := make([]types.FunctionStatus, 0, len(fns))
	for _, f := range fns {
		out = append(out, f.Status())
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *Gateway) describe(w http.ResponseWriter, r *http.Request) {
	fn, ok := g.opts.Registry.Lookup(r.PathValue("name"))
	if !ok {
		http.Error(w, "function "+r.PathValue("name")+" not found", http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, fn.Status())
}

func (g *Gateway) scale(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var req types.ScaleServiceRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "a scale request is JSON: {\"serviceName\": \"...\", \"replicas\": N}", http.StatusBadRequest)
		return
	}
	if req.ServiceName != "" && req.ServiceName != name {
		http.Error(w, fmt.Sprintf("serviceName %q differs from the path's %q", req.ServiceName, name), http.StatusBadRequest)
		return
	}
	fn, ok := g.opts.Registry.Lookup(name)
	if !ok {
		http.Error(w, "function "+name+" not found", http.StatusNotFound)
		return
	}
	if err := fn.Scale(int(min(req.Replicas, 1<<20))); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (g *Gateway) info(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, types.ProviderInfo{
		Name:          "faas-local",
		Orchestration: "process",
		Version:       &types.VersionInfo{Release: g.opts.Version, SHA: "dev"},
	})
}

// logs streams a function's log lines as ndjson of logs.Message.
func (g *Gateway) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" {
		http.Error(w, "the name query parameter is required", http.StatusBadRequest)
		return
	}
	if _, ok := g.opts.Registry.Lookup(name); !ok {
		http.Error(w, "function "+name+" not found", http.StatusNotFound)
		return
	}
	var since time.Time
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			http.Error(w, "since must be an RFC 3339 time", http.StatusBadRequest)
			return
		}
		since = t
	}
	tail := 0
	if s := q.Get("tail"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			http.Error(w, "tail must be a whole number", http.StatusBadRequest)
			return
		}
		tail = n
	}
	follow := q.Get("follow") == "true" || q.Get("follow") == "1"

	var live <-chan providerlogs.Message
	if follow {
		ch, cancel := g.opts.Logs.Subscribe(name)
		defer cancel()
		live = ch
	}
	past, err := g.opts.Logs.Messages(name, since, tail)
	if err != nil {
		http.Error(w, "faas-local: read logs: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	var last time.Time
	for _, m := range past {
		_ = enc.Encode(m)
		last = m.Timestamp
	}
	_ = rc.Flush()
	if !follow {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case m := <-live:
			if !m.Timestamp.After(last) && !last.IsZero() {
				continue // already sent from the file
			}
			if err := enc.Encode(m); err != nil {
				return
			}
			_ = rc.Flush()
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// recorder notes the status code of a response.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer (for Flush).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// bufferPool lends the 32 KiB copy buffers httputil.ReverseProxy uses.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

// Get returns a buffer.
func (b *bufferPool) Get() []byte { return *(b.p.Get().(*[]byte)) }

// Put returns a buffer for reuse.
func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }
