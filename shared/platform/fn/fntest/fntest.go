// Package fntest calls a function's Handle the way the golang-http template
// does (the sub-path in X-Function-Path, the query apart), so that handler
// tests read as requests and answers.
package fntest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	handler "github.com/openfaas/templates-sdk/go-http"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/fn"
	"github.com/faas-shop/faas-shop/shared/platform/web"
)

// Handle is a function's templates-sdk entry point.
type Handle func(handler.Request) (handler.Response, error)

// Response is what the function answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Invoke sends method target (a path with an optional query) with a JSON
// body to h; header lists extra name, value pairs.
func Invoke(tb testing.TB, h Handle, method, target, body string, header ...string) Response {
	tb.Helper()
	u, err := url.Parse(target)
	require.NoError(tb, err)
	hdr := http.Header{fn.PathHeader: {u.Path}, "Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		hdr.Set(header[i], header[i+1])
	}
	req := handler.Request{Method: method, Body: []byte(body), Header: hdr, QueryString: u.RawQuery}
	req.WithContext(context.Background())
	res, err := h(req)
	require.NoError(tb, err, "Handle returns errors as problem responses, never as errors")
	return Response{Status: res.StatusCode, Header: res.Header, Body: res.Body}
}

// JSON decodes the body as a JSON object.
func (r Response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// RequireProblem checks that r is an application/problem+json answer with
// status and a call id, and returns it.
func (r Response) RequireProblem(tb testing.TB, status int) web.Problem {
	tb.Helper()
	require.Equal(tb, status, r.Status, "body: %s", r.Body)
	require.Equal(tb, web.ProblemContentType, r.Header.Get("Content-Type"))
	var p web.Problem
	require.NoError(tb, json.Unmarshal(r.Body, &p))
	require.Equal(tb, status, p.Status)
	require.NotEmpty(tb, p.CallID)
	return p
}
