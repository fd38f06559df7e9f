package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowJWKS serves a key set; while hanging is set, requests wait until
// release is closed.
type slowJWKS struct {
	srv     *httptest.Server
	hits    atomic.Int32
	hanging atomic.Bool
	release chan struct{}
}

func newSlowJWKS(t *testing.T, pub ed25519.PublicKey) *slowJWKS {
	s := &slowJWKS{release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if s.hanging.Load() {
			<-s.release
		}
		_ = json.NewEncoder(w).Encode(JWKS{Keys: []JWK{PublicJWK(pub)}})
	}))
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		s.srv.Close()
	})
	return s
}

func testKey(t *testing.T) ed25519.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return pub
}

// within fails the test when f has not returned after a generous bound: the
// calls under test must not wait on the hanging key server at all.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("the call waited on the hanging key server")
	}
}

func TestAStaleKnownKeyIsUsedWhileTheRefreshHangs(t *testing.T) {
	pub := testKey(t)
	jwks := newSlowJWKS(t, pub)
	keys := NewRemoteKeys(jwks.srv.URL, jwks.srv.Client(), time.Nanosecond) // always stale
	keys.minRefresh = 0
	_, err := keys.PublicKey(context.Background(), KeyID(pub))
	require.NoError(t, err)

	jwks.hanging.Store(true)
	within(t, func() {
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				got, err := keys.PublicKey(context.Background(), KeyID(pub))
				assert.NoError(t, err)
				assert.Equal(t, pub, got)
			})
		}
		wg.Wait()
	})
	// The refresh's request reaches the server a moment later.
	require.Eventually(t, func() bool { return jwks.hits.Load() >= 2 }, 3*time.Second, 5*time.Millisecond)
	assert.Equal(t, int32(2), jwks.hits.Load(), "one background refresh runs at a time, not one per call")
}

func TestUnknownKidsShareOneFetch(t *testing.T) {
	pub := testKey(t)
	jwks := newSlowJWKS(t, pub)
	jwks.hanging.Store(true)
	keys := NewRemoteKeys(jwks.srv.URL, jwks.srv.Client(), time.Minute)

	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, err := keys.PublicKey(context.Background(), "made-up")
			assert.ErrorIs(t, err, ErrUnknownKey)
		})
	}
	time.Sleep(50 * time.Millisecond) // let the callers queue on the fetch
	close(jwks.release)
	wg.Wait()
	assert.Equal(t, int32(1), jwks.hits.Load())
}

func TestAnUnknownKidStopsWaitingWhenItsCallerGivesUp(t *testing.T) {
	pub := testKey(t)
	jwks := newSlowJWKS(t, pub)
	jwks.hanging.Store(true)
	keys := NewRemoteKeys(jwks.srv.URL, jwks.srv.Client(), time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	within(t, func() {
		_, err := keys.PublicKey(ctx, "made-up")
		assert.ErrorIs(t, err, ErrJWKSUnavailable)
	})
}

func TestFailedFetchesAreRateLimitedToo(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	keys := NewRemoteKeys(srv.URL, srv.Client(), time.Minute)
	for range 20 {
		_, err := keys.PublicKey(context.Background(), "made-up")
		assert.ErrorIs(t, err, ErrJWKSUnavailable)
	}
	assert.Equal(t, int32(1), hits.Load(), "a key server that is down is not hammered")
}
