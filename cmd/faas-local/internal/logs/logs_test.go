package logs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecordKeepsTheFunctionsFields(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	line := `{"level":"info","time":"2026-01-02T03:04:05Z","message":"hi","service":"users","function":"users-auth","call_id":"c1","n":3}`
	rec := Record([]byte(line), "users-auth", "users-auth-1", "stdout", at)
	require.True(t, strings.HasSuffix(string(rec), "}\n"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec, &m))
	assert.Equal(t, "hi", m["message"])
	assert.Equal(t, "users", m["service"])
	assert.Equal(t, 3.0, m["n"])
	assert.Equal(t, "users-auth-1", m[FieldInstance])
	assert.Equal(t, "2026-01-02T03:04:05.000006Z", m[FieldTime])

	e, err := Decode(rec)
	require.NoError(t, err)
	assert.Equal(t, line, e.Text(), "the function's own line is recoverable")
	assert.Equal(t, "c1", e.CallID())
	assert.Equal(t, at, e.Time)
	out := e.Format()
	assert.Contains(t, out, "users-auth[1]")
	assert.Contains(t, out, "INFO")
	assert.Contains(t, out, "[c1] hi")
	assert.Contains(t, out, "n=3")

	plain := Record([]byte("panic: boom"), "f", "f-1", "stderr", at)
	e, err = Decode(plain)
	require.NoError(t, err)
	assert.Equal(t, "panic: boom", e.Text())
	assert.Contains(t, e.Format(), "panic: boom")

	empty := Record([]byte("{}"), "f", "f-1", "stdout", at)
	require.True(t, json.Valid(empty), string(empty))
}

func TestRecordsStayValidJSONWhateverAFunctionPrints(t *testing.T) {
	at := time.Now()
	for line, kept := range map[string]string{
		"\x1b[31mred\x1b[0m":       "red",
		"bad utf-8 \xff\xfe":       "bad utf-8",
		"tab\tquote\" backslash\\": `quote" backslash\`,
	} {
		rec := Record([]byte(line), "f", "f-1", "stdout", at)
		require.True(t, json.Valid(rec), "%q became %s", line, rec)
		e, err := Decode(rec)
		require.NoError(t, err, "the record is found again by logs and /system/logs")
		assert.Contains(t, e.Text(), kept)
	}
	// A JSON line whose own fields are fine stays as it is, with faas-local's added.
	rec := Record([]byte(`{"message":"x","call_id":"c\u001b1"}`), "f", "f-\x1b1", "stdout", at)
	require.True(t, json.Valid(rec), string(rec))
}

func TestHubWritesFilesAndFilters(t *testing.T) {
	dir := t.TempDir()
	var console strings.Builder
	h, err := NewHub(dir, &console)
	require.NoError(t, err)
	w := h.Writer("a", "a-1", "stdout")
	_, _ = w.Write([]byte(`{"level":"info","message":"one","call_id":"x"}` + "\n" + `{"level":"warn","mess`))
	_, _ = w.Write([]byte(`age":"two","call_id":"y"}` + "\n"))
	h.Add("b", "b-1", "stdout", []byte(`{"message":"three","call_id":"x"}`), time.Now(), false)
	require.NoError(t, h.Close())

	got, err := Read(dir, Filter{CallID: "x"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "one", got[0].Str("message"))
	assert.Equal(t, "three", got[1].Str("message"))
	msgs, err := Messages(dir, "a", time.Time{}, 1)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0].Text, "two")
	assert.Contains(t, console.String(), "one")
	assert.NotContains(t, console.String(), "three", "console=false lines stay off the console")
}
