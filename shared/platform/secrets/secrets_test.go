package secrets_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/secrets"
)

func TestReadTrimsTheValue(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "admin-email"), []byte("admin@shop.test\n"), 0o600))
	v, err := secrets.Dir(dir).Read("admin-email")
	require.NoError(t, err)
	assert.Equal(t, "admin@shop.test", v)
}

func TestReadFollowsTheMountPathFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k"), []byte("v"), 0o600))
	t.Setenv(secrets.DirEnv, dir)
	v, err := secrets.FromEnv().Read("k")
	require.NoError(t, err)
	assert.Equal(t, "v", v)
}

func TestReadRefusesMissingEmptyAndEscapingSecrets(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty"), []byte(" \n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "outside"), []byte("x"), 0o600))
	d := secrets.Dir(dir)

	_, err := d.Read("missing")
	assert.ErrorIs(t, err, secrets.ErrMissing)
	_, err = d.Read("empty")
	assert.Error(t, err)
	for _, name := range []string{"", ".", "..", "../outside", "a/b"} {
		_, err = d.Read(name)
		assert.Error(t, err, name)
	}
}
