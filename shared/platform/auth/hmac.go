package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
)

// Headers of a signed internal call.
const (
	TimestampHeader = "X-Shop-Timestamp"
	SignatureHeader = "X-Shop-Signature"
)

// MaxSignatureAge is how old (or how far in the future) a signed call may be.
const MaxSignatureAge = 5 * time.Minute

// signature is HMAC-SHA256 over "timestamp\nMETHOD\ntarget\n" and the
// body, where target is the path the receiving function sees with its query
// ("/v1/x?y=1"), so neither the path nor the query can be changed in transit.
func signature(key []byte, timestamp, method, target string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(timestamp + "\n" + strings.ToUpper(method) + "\n" + target + "\n"))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// SignRequest sets the timestamp and signature headers for an internal call
// of method on target (the path the receiving function sees, with the raw
// query after a "?" when there is one) with body.
func SignRequest(h http.Header, key []byte, now time.Time, method, target string, body []byte) {
	ts := strconv.FormatInt(now.Unix(), 10)
	h.Set(TimestampHeader, ts)
	h.Set(SignatureHeader, signature(key, ts, method, target, body))
}

// VerifyRequest checks the signature headers of an internal call and refuses
// an unsigned, tampered or stale one with an Unauthenticated error.
func VerifyRequest(h http.Header, key []byte, now time.Time, method, target string, body []byte) error {
	ts, sig := h.Get(TimestampHeader), h.Get(SignatureHeader)
	if ts == "" || sig == "" {
		return apperr.New(apperr.Unauthenticated, "this endpoint accepts only signed internal calls")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return apperr.New(apperr.Unauthenticated, "the call's timestamp is not valid")
	}
	if age := now.Sub(time.Unix(unix, 0)); age > MaxSignatureAge || age < -MaxSignatureAge {
		return apperr.New(apperr.Unauthenticated, "the call's signature is stale")
	}
	want := signature(key, ts, method, target, body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return apperr.New(apperr.Unauthenticated, "the call's signature does not match")
	}
	return nil
}
