// Package secrets reads OpenFaaS secrets: one file per secret under
// /var/openfaas/secrets, or under the folder named by secret_mount_path
// (faas-local points each function at its own folder there).
package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDir is where OpenFaaS mounts a function's secrets.
const DefaultDir = "/var/openfaas/secrets"

// DirEnv names the environment variable that overrides DefaultDir.
const DirEnv = "secret_mount_path"

// Dir is a folder of secret files. The zero value reads from DefaultDir.
type Dir string

// FromEnv returns the secret folder this process was given.
func FromEnv() Dir {
	return Dir(os.Getenv(DirEnv))
}

// ErrMissing is returned (wrapped) when a secret is not mounted.
var ErrMissing = errors.New("secret not mounted")

// Read returns the secret's value with surrounding white space removed. The
// error names the secret, never its value.
func (d Dir) Read(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("secret name %q is not valid", name)
	}
	dir := string(d)
	if dir == "" {
		dir = DefaultDir
	}
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("secret %q: %w in %s", name, ErrMissing, dir)
	}
	if err != nil {
		return "", fmt.Errorf("secret %q: %w", name, err)
	}
	value := strings.TrimSpace(string(raw))
	if value == "" {
		return "", fmt.Errorf("secret %q is empty", name)
	}
	return value, nil
}
