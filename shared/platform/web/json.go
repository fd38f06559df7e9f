package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
)

// MaxBodyBytes is the largest request body Decode accepts.
const MaxBodyBytes = 1 << 20

// Decode reads one JSON object from the request body into dst. It refuses a
// body that is not JSON, larger than MaxBodyBytes, has unknown fields, wrong
// types or trailing data, with a client-safe apperr describing what is wrong.
func Decode(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mediaType, _, err := mime.ParseMediaType(ct)
		if err != nil || (mediaType != "application/json" && !strings.HasSuffix(mediaType, "+json")) {
			return apperr.New(apperr.Unsupported, "the request body must be application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return apperr.New(apperr.BadRequest, "the request body must hold a single JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if isTooLarge(err) {
			return tooLarge()
		}
		return apperr.New(apperr.BadRequest, "the request body must hold a single JSON object")
	}
	return nil
}

func tooLarge() error {
	return apperr.New(apperr.TooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
}

func isTooLarge(err error) bool {
	_, ok := errors.AsType[*http.MaxBytesError](err)
	return ok
}

// decodeError turns a json decoding failure into a client-safe apperr.
func decodeError(err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case isTooLarge(err):
		return tooLarge()
	case errors.Is(err, io.EOF):
		return apperr.New(apperr.BadRequest, "the request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(apperr.BadRequest, "the request body is truncated JSON")
	case errors.As(err, &syntaxErr):
		return apperr.New(apperr.BadRequest, fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntaxErr.Offset))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return apperr.New(apperr.BadRequest, fmt.Sprintf("the request body must be a JSON object, not %s", typeErr.Value))
		}
		return apperr.Validation("a field has the wrong type",
			map[string]string{field: fmt.Sprintf("must be %s, not %s", jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Validation("the request has a field this endpoint does not accept",
			map[string]string{name: "unknown field"})
	default:
		return apperr.Wrap(apperr.BadRequest, "the request body could not be decoded", err)
	}
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return "a number"
	}
}

// JSON writes v as a JSON response with the given status.
func JSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"title":"Internal Server Error","status":500}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// NoContent writes a 204 response.
func NoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}
