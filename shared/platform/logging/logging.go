// Package logging builds the zerolog loggers every faas-shop process uses and
// carries the call id (the correlation id) through a context.
//
// Every line is one JSON object on stdout with the fields service, function,
// level, time, message and, inside a request, call_id. faas-local gathers
// these lines from all functions into one stream that can be filtered by
// call_id. Nothing here touches zerolog's global settings, so several
// functions can share one process.
package logging

import (
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// CallIDHeader is the OpenFaaS correlation-id header, echoed on every response.
const CallIDHeader = "X-Call-Id"

// LevelEnv names the environment variable that sets the minimum level
// (debug, info, warn, error); the default is info.
const LevelEnv = "log_level"

// New returns a JSON logger writing to w, tagged with service and function.
func New(w io.Writer, service, function string) zerolog.Logger {
	level, err := zerolog.ParseLevel(strings.ToLower(os.Getenv(LevelEnv)))
	if err != nil || level == zerolog.NoLevel {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).Hook(preciseTime).With().
		Str("service", service).
		Str("function", function).
		Logger()
}

// preciseTime stamps each line with an RFC 3339 time in nanoseconds, so the
// lines of one call id sort across functions. (zerolog's own Timestamp uses
// the process-wide TimeFieldFormat, whole seconds by default.)
var preciseTime = zerolog.HookFunc(func(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str(zerolog.TimestampFieldName, time.Now().UTC().Format(time.RFC3339Nano))
})

// ValidCallID reports whether id may be used as a call id as it is: 1 to
// 128 letters, digits and . _ : - (a uuid, a W3C trace id, most request
// ids). Anything else is replaced, so a caller cannot forge log lines or
// bloat every line of a request.
func ValidCallID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

type callIDKey struct{}

// WithCallID returns a context carrying the call id and a logger tagged with it.
func WithCallID(ctx context.Context, log zerolog.Logger, callID string) context.Context {
	ctx = context.WithValue(ctx, callIDKey{}, callID)
	l := log.With().Str("call_id", callID).Logger()
	return l.WithContext(ctx)
}

// CallID returns the call id carried by ctx, or "" outside a request.
func CallID(ctx context.Context) string {
	id, _ := ctx.Value(callIDKey{}).(string)
	return id
}

// From returns the logger carried by ctx; outside a request it is a logger
// that discards everything, never zerolog's global one.
func From(ctx context.Context) *zerolog.Logger {
	return zerolog.Ctx(ctx)
}
