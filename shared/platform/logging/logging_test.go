package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/logging"
)

func TestLinesCarryServiceFunctionCallIDAndAPreciseTime(t *testing.T) {
	var out bytes.Buffer
	log := logging.New(&out, "users", "users-auth")
	ctx := logging.WithCallID(context.Background(), log, "call-1")
	logging.From(ctx).Info().Msg("hello")

	var line map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &line))
	assert.Equal(t, "users", line["service"])
	assert.Equal(t, "users-auth", line["function"])
	assert.Equal(t, "call-1", line["call_id"])
	assert.Equal(t, "info", line["level"])
	assert.Equal(t, "hello", line["message"])
	at, err := time.Parse(time.RFC3339Nano, line["time"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), at, time.Second)
	assert.Equal(t, "call-1", logging.CallID(ctx))
}

func TestOutsideARequestNothingIsLoggedToAGlobalLogger(t *testing.T) {
	assert.Equal(t, "", logging.CallID(context.Background()))
	// A disabled logger, not zerolog's global one: this must not panic or print.
	logging.From(context.Background()).Info().Msg("dropped")
}

func TestValidCallIDs(t *testing.T) {
	for _, id := range []string{"e2e-1", "0af7651916cd43dd8448eb211c80319c", "3f1c1d2e-6a4b-4f6e-9c1a-2b3c4d5e6f70", "a.b_c:d"} {
		assert.True(t, logging.ValidCallID(id), id)
	}
	for _, id := range []string{"", "has space", "line\nbreak", `{"level":"error"}`, "ü", strings.Repeat("a", 129)} {
		assert.False(t, logging.ValidCallID(id), id)
	}
}
