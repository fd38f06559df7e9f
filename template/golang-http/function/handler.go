// Package function is a new golang-http function: replace this handler.
package function

import (
	"context"
	"net/http"

	handler "github.com/openfaas/templates-sdk/go-http"
)

// Handle answers every request with a greeting and the sub-path it was sent to.
func Handle(req handler.Request) (handler.Response, error) {
	return handler.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": []string{"text/plain; charset=utf-8"}},
		Body:       []byte("Hello from " + req.Header.Get("X-Function-Path") + "\n"),
	}, nil
}

// Ready reports whether the function can serve; this one depends on nothing.
func Ready(ctx context.Context) error { return nil }
