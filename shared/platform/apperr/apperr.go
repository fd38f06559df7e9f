// Package apperr is the one way faas-shop code reports failures that a caller
// can act on. Domain packages return these errors without knowing about HTTP;
// the web layer maps each Kind to a status code and a problem+json body.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds of error a domain operation can report. The zero value, Internal,
// is what any unclassified error is treated as.
const (
	Internal        Kind = iota // a bug or an unexpected dependency failure
	BadRequest                  // the request cannot be parsed
	Invalid                     // the request parses but breaks a rule (field errors)
	Unauthenticated             // no valid credentials
	Forbidden                   // valid credentials, not allowed
	NotFound                    // the resource does not exist (or is not the caller's)
	Conflict                    // the request clashes with the current state
	TooLarge                    // the request body is over the limit
	Unsupported                 // the request's media type is not accepted
	Unavailable                 // a dependency is down; retrying later may help
)

// Error is a classified error with a message that is safe to show to clients.
type Error struct {
	Kind    Kind
	Message string
	// Fields maps a request field to what is wrong with it (Invalid only).
	Fields map[string]string
	// Err is the underlying cause; it is logged, never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a client-safe message.
func New(kind Kind, message string) error {
	return &Error{Kind: kind, Message: message}
}

// Wrap returns an error of the given kind that keeps cause for the logs.
func Wrap(kind Kind, message string, cause error) error {
	return &Error{Kind: kind, Message: message, Err: cause}
}

// Validation returns an Invalid error listing what is wrong with each field.
func Validation(message string, fields map[string]string) error {
	return &Error{Kind: Invalid, Message: message, Fields: fields}
}

// KindOf reports the kind of err, or Internal when err is not an *Error.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return Internal
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	return errors.AsType[*Error](err)
}
