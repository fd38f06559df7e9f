// Package secrets keeps faas-local's secrets in <state>/secrets, the local
// mirror of /var/openfaas/secrets: it generates them on the first start and
// never overwrites them, and gives each function a folder holding only the
// secrets it lists in stack.yml.
package secrets

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/faas-shop/faas-shop/shared/platform/auth"
)

// Names of the secrets faas-local generates.
const (
	BasicAuthUser     = "basic-auth-user"
	BasicAuthPassword = "basic-auth-password"
	JWTSigningKey     = "jwt-signing-key"
	InternalHMACKey   = "internal-hmac-key"
	AdminEmail        = "admin-email"
	AdminPassword     = "admin-password"
)

// DatabaseURLSuffix ends the name of a service's database URL secret
// (<service>-database-url); DatabasePasswordSuffix its role's password.
const (
	DatabaseURLSuffix      = "-database-url"
	DatabasePasswordSuffix = "-database-password"
)

// Store is a folder of secret files.
type Store struct {
	// Dir is the folder, <state>/secrets.
	Dir string
}

// generators make the value of each secret faas-local can produce.
var generators = map[string]func() (string, error){
	BasicAuthUser:     func() (string, error) { return "admin", nil },
	BasicAuthPassword: func() (string, error) { return randomHex(20) },
	JWTSigningKey: func() (string, error) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return "", err
		}
		return auth.MarshalPrivateKey(key)
	},
	InternalHMACKey: func() (string, error) { return randomHex(32) },
	AdminEmail:      func() (string, error) { return "admin@faas-shop.local", nil },
	AdminPassword:   func() (string, error) { return randomHex(16) },
}

// EnsureBase creates the folder (0700) and each generated secret missing
// from it (0600); secrets already there are kept as they are.
func (s Store) EnsureBase() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(s.Dir, 0o700); err != nil {
		return err
	}
	names := make([]string, 0, len(generators))
	for n := range generators {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := s.Ensure(name, generators[name]); err != nil {
			return err
		}
	}
	return nil
}

// Ensure returns the secret's value, creating it with gen when it does
// not exist yet or is empty (an empty basic-auth password would let anyone
// in; an empty file is what a crash mid-write or a stray `touch` leaves).
func (s Store) Ensure(name string, gen func() (string, error)) (string, error) {
	v, err := s.Read(name)
	if err == nil && v != "" {
		return v, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if v, err = gen(); err != nil {
		return "", fmt.Errorf("generate secret %s: %w", name, err)
	}
	return v, s.Write(name, v)
}

// Write sets the secret's value, replacing it atomically and durably: a
// reader sees the old value or the new one, never a partial file.
func (s Store) Write(name, value string) error {
	tmp, err := os.CreateTemp(s.Dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(value); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.Path(name))
}

// Read returns the secret's value, trimmed.
func (s Store) Read(name string) (string, error) {
	b, err := os.ReadFile(s.Path(name))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Path is the secret's file.
func (s Store) Path(name string) string { return filepath.Join(s.Dir, name) }

// Producible reports whether faas-local makes the secret itself.
func Producible(name string) bool {
	if _, ok := generators[name]; ok {
		return true
	}
	return DatabaseService(name) != ""
}

// DatabaseService returns the service of a <service>-database-url secret,
// or "" for any other name.
func DatabaseService(secret string) string {
	svc, ok := strings.CutSuffix(secret, DatabaseURLSuffix)
	if !ok || svc == "" {
		return ""
	}
	return svc
}

// Mount makes dir hold exactly the listed secrets, as symbolic links to the
// store's files, and fails naming every listed secret the store lacks.
func (s Store) Mount(dir string, names []string) error {
	var missing []string
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, `/\`) || n == "." || n == ".." {
			return fmt.Errorf("secret name %q is not valid", n)
		}
		if _, err := os.Stat(s.Path(n)); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("secrets %s are not in %s and faas-local cannot generate them: create them there (one file each)",
			strings.Join(missing, ", "), s.Dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	abs, err := filepath.Abs(s.Dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.Symlink(filepath.Join(abs, n), filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
