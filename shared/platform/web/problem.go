// Package web is the HTTP toolkit every faas-shop function uses inside its
// handler: a router with problem+json for unmatched routes, strict JSON
// decoding, JSON responses and RFC 9457 problem details for every error.
package web

import (
	"encoding/json"
	"net/http"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/logging"
)

// ProblemContentType is the media type of every error response (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object, extended with the call id
// and, for validation failures, the field errors.
type Problem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Detail   string            `json:"detail,omitempty"`
	Instance string            `json:"instance,omitempty"`
	CallID   string            `json:"call_id,omitempty"`
	Errors   map[string]string `json:"errors,omitempty"`
}

var statusOfKind = map[apperr.Kind]int{
	apperr.Internal:        http.StatusInternalServerError,
	apperr.BadRequest:      http.StatusBadRequest,
	apperr.Invalid:         http.StatusUnprocessableEntity,
	apperr.Unauthenticated: http.StatusUnauthorized,
	apperr.Forbidden:       http.StatusForbidden,
	apperr.NotFound:        http.StatusNotFound,
	apperr.Conflict:        http.StatusConflict,
	apperr.TooLarge:        http.StatusRequestEntityTooLarge,
	apperr.Unsupported:     http.StatusUnsupportedMediaType,
	apperr.Unavailable:     http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status code for err.
func StatusOf(err error) int {
	return statusOfKind[apperr.KindOf(err)]
}

// Error writes err as a problem+json response. Internal errors are logged
// with their cause and shown to the client only as a generic message, so no
// SQL, stack or secret ever leaves the function.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	p := Problem{Status: status}
	if e, ok := apperr.As(err); ok && status != http.StatusInternalServerError {
		p.Detail = e.Message
		p.Errors = e.Fields
	}
	log := logging.From(r.Context())
	if status >= 500 {
		log.Error().Err(err).Int("status", status).Msg("request failed")
		if status == http.StatusInternalServerError {
			p.Detail = "an internal error occurred; quote the call_id when reporting it"
		}
	} else {
		log.Debug().Err(err).Int("status", status).Msg("request refused")
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="faas-shop"`)
	}
	WriteProblem(w, r, p)
}

// WriteProblem writes p, filling in the defaults RFC 9457 asks for.
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Instance == "" {
		p.Instance = r.URL.Path
	}
	if p.CallID == "" {
		p.CallID = logging.CallID(r.Context())
	}
	body, err := json.Marshal(p)
	if err != nil {
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}
