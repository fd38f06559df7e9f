package secrets

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/auth"
)

func TestEnsureBaseGeneratesOnceAndNeverOverwrites(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "secrets")}
	require.NoError(t, s.EnsureBase())
	first := map[string]string{}
	for _, n := range []string{BasicAuthUser, BasicAuthPassword, JWTSigningKey, InternalHMACKey, AdminEmail, AdminPassword} {
		v, err := s.Read(n)
		require.NoError(t, err, n)
		require.NotEmpty(t, v, n)
		first[n] = v
		st, err := os.Stat(s.Path(n))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), n)
	}
	assert.Equal(t, "admin", first[BasicAuthUser])
	assert.Equal(t, "admin@faas-shop.local", first[AdminEmail])
	assert.Len(t, first[InternalHMACKey], 64, "32 random bytes, hex")
	_, err := auth.ParsePrivateKey(first[JWTSigningKey])
	require.NoError(t, err, "jwt-signing-key is an Ed25519 PKCS#8 PEM")

	require.NoError(t, os.WriteFile(s.Path(AdminPassword), []byte("chosen-by-user"), 0o600))
	require.NoError(t, s.EnsureBase())
	for n, v := range first {
		got, err := s.Read(n)
		require.NoError(t, err)
		if n == AdminPassword {
			assert.Equal(t, "chosen-by-user", got)
			continue
		}
		assert.Equal(t, v, got, n)
	}
}

func TestAnEmptySecretIsRegeneratedNotTrusted(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "secrets")}
	require.NoError(t, s.EnsureBase())
	// What a crash between create and write, or a stray touch, leaves behind.
	require.NoError(t, os.WriteFile(s.Path(BasicAuthPassword), []byte("\n"), 0o600))
	require.NoError(t, s.EnsureBase())
	pw, err := s.Read(BasicAuthPassword)
	require.NoError(t, err)
	assert.NotEmpty(t, pw, "an empty basic-auth password would open /system/* to anyone")
	leftovers, err := filepath.Glob(filepath.Join(s.Dir, ".*tmp*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers, "no temporary files remain")
}

func TestMountHoldsOnlyListedSecrets(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "secrets")}
	require.NoError(t, s.EnsureBase())
	mount := filepath.Join(t.TempDir(), "fn", "secrets")
	require.NoError(t, os.MkdirAll(mount, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(mount, "stale"), []byte("x"), 0o600))
	require.NoError(t, s.Mount(mount, []string{AdminEmail, JWTSigningKey}))
	entries, err := os.ReadDir(mount)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{AdminEmail, JWTSigningKey}, names)
	b, err := os.ReadFile(filepath.Join(mount, AdminEmail))
	require.NoError(t, err)
	assert.Equal(t, "admin@faas-shop.local", string(b))

	err = s.Mount(mount, []string{"nope"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope")
	require.Error(t, s.Mount(mount, []string{"../x"}))
}

func TestDatabaseService(t *testing.T) {
	assert.Equal(t, "users", DatabaseService("users-database-url"))
	assert.Equal(t, "", DatabaseService("-database-url"))
	assert.Equal(t, "", DatabaseService("jwt-signing-key"))
	assert.True(t, Producible("orders-database-url"))
	assert.True(t, Producible(InternalHMACKey))
	assert.False(t, Producible("smtp-password"))
}
