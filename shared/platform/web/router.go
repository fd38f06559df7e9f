package web

import "net/http"

// Router routes requests inside one function by method and path, using the
// standard library's patterns ("GET /v1/orders/{id}"). Unlike a bare
// http.ServeMux it answers unknown paths and wrong methods with problem+json.
// Each function builds its own Router; there is no global one.
type Router struct {
	mux http.ServeMux
}

// Handle registers h for pattern, for example "POST /v1/auth/login".
func (rt *Router) Handle(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, h)
}

// HandleFunc registers f for pattern.
func (rt *Router) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	rt.mux.HandleFunc(pattern, f)
}

// ServeHTTP dispatches r to the handler registered for its method and path.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := rt.mux.Handler(r)
	if pattern != "" {
		rt.mux.ServeHTTP(w, r) // the mux, not h, sets the path values
		return
	}
	// No route: let the mux decide between 404 and 405 (and redirects), then
	// answer in problem+json with the same status and Allow header.
	rec := statusRecorder{header: http.Header{}}
	h.ServeHTTP(&rec, r)
	if rec.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		WriteProblem(w, r, Problem{Status: rec.code, Detail: r.Method + " is not allowed on " + r.URL.Path})
		return
	}
	WriteProblem(w, r, Problem{Status: http.StatusNotFound, Detail: "no route for " + r.URL.Path})
}

// statusRecorder keeps the status and headers of a response and drops its body.
type statusRecorder struct {
	header http.Header
	code   int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.code = code }
