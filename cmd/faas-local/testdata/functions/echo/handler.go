// Package function is faas-local's test function: it describes the request
// and its process, and can be told to log, sleep or crash.
package function

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"time"

	handler "github.com/openfaas/templates-sdk/go-http"
)

// message comes from the stack's configuration.copy path ./lib.
//
//go:embed lib/message.txt
var message string

// Handle answers with what it saw.
func Handle(req handler.Request) (handler.Response, error) {
	path := req.Header.Get("X-Function-Path")
	q, _ := url.ParseQuery(req.QueryString)
	switch path {
	case "/ping":
		return handler.Response{StatusCode: http.StatusOK, Body: []byte("pong")}, nil
	case "/crash":
		os.Exit(3)
	case "/sleep":
		ms, _ := strconv.Atoi(q.Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
	case "/log":
		fmt.Printf("{\"level\":\"info\",\"time\":%q,\"message\":\"echo log\",\"service\":\"test\",\"function\":\"echo\",\"call_id\":%q}\n",
			time.Now().UTC().Format(time.RFC3339), req.Header.Get("X-Call-Id"))
		fmt.Println("a plain line for " + req.Header.Get("X-Call-Id"))
	}
	var secrets []string
	if entries, err := os.ReadDir(os.Getenv("secret_mount_path")); err == nil {
		for _, e := range entries {
			secrets = append(secrets, e.Name())
		}
	}
	sort.Strings(secrets)
	body, err := json.Marshal(map[string]any{
		"path":           path,
		"query":          req.QueryString,
		"method":         req.Method,
		"body":           string(req.Body),
		"call_id":        req.Header.Get("X-Call-Id"),
		"start_time":     req.Header.Get("X-Start-Time"),
		"forwarded_for":  req.Header.Get("X-Forwarded-For"),
		"forwarded_host": req.Header.Get("X-Forwarded-Host"),
		"pid":            os.Getpid(),
		"upstream_url":   os.Getenv("upstream_url"),
		"gateway_url":    os.Getenv("gateway_url"),
		"nats_url":       os.Getenv("nats_url"),
		"greeting":       os.Getenv("greeting"),
		"secrets":        secrets,
		"message":        message,
	})
	if err != nil {
		return handler.Response{}, err
	}
	return handler.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       body,
	}, nil
}

// Ready fails while a file named not-ready is in the working directory.
func Ready(ctx context.Context) error {
	if _, err := os.Stat("not-ready"); err == nil {
		return errors.New("not-ready file present")
	}
	return nil
}
