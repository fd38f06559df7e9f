package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/stackfile"
)

// hashVersion changes when the hashed inputs change meaning.
const hashVersion = "faas-local-build-1"

// Hash returns a digest of everything fn's binary is made from: its handler
// folder, the stack's copy paths, its template folder, and the target
// platform. Names, modes and contents count; modification times do not.
func (b *Builder) Hash(fn stackfile.Function) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s/%s\x00%s\x00", hashVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH, fn.Lang)
	for _, e := range b.opts.Env {
		// Only what changes the binary: not PATH, HOME or the caches.
		k, _, _ := strings.Cut(e, "=")
		switch k {
		case "GOWORK", "CGO_ENABLED", "GOFLAGS", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOTOOLCHAIN":
			fmt.Fprintf(h, "env\x00%s\x00", e)
		}
	}
	dir := b.opts.Stack.Dir
	roots := []string{fn.Handler, filepath.Join("template", fn.Lang)}
	roots = append(roots, b.opts.Stack.CopyPaths...)
	for _, root := range roots {
		fmt.Fprintf(h, "root\x00%s\x00", root)
		if err := hashTree(h, filepath.Join(dir, root)); err != nil {
			return "", fmt.Errorf("function %s: %w", fn.Name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashTree(h hash.Hash, root string) error {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s\x00%o\x00", filepath.ToSlash(rel), st.Mode())
		if !st.Mode().IsRegular() {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "\x00%d\x00", st.Size())
	}
	return nil
}
