// Package build turns a stack function into a binary the way a container
// build would, without Docker: it creates the function's build context with
// go-sdk's builder (the same layout as `faas-cli build --shrinkwrap`), runs
// the template's own build.sh in it with only Go and the Go module proxy,
// and keeps the resulting binary. A build is skipped when the handler, the
// copy paths and the template are unchanged since the last one.
package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/openfaas/go-sdk/builder"

	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/stackfile"
)

// Options configure a Builder.
type Options struct {
	// Stack is the parsed stack file.
	Stack *stackfile.Stack
	// BuildDir receives the build contexts (build/<fn>); default <stack dir>/build.
	BuildDir string
	// BinDir receives the binaries (<BinDir>/<fn>).
	BinDir string
	// HashDir keeps the input hash of each binary (<HashDir>/<fn>.sha256).
	HashDir string
	// Env is the environment build.sh runs with; nil means Env(os.Environ()).
	Env []string
}

// Builder builds the functions of one stack.
type Builder struct {
	opts Options
}

// Result describes one function's build.
type Result struct {
	// Binary is the absolute path of the function's binary.
	Binary string
	// Unchanged is true when the inputs matched the last build and the
	// binary was reused.
	Unchanged bool
	// Duration is how long the build (or the check) took.
	Duration time.Duration
}

// New returns a Builder. BinDir and HashDir are required.
func New(opts Options) (*Builder, error) {
	if opts.Stack == nil || opts.BinDir == "" || opts.HashDir == "" {
		return nil, errors.New("build: Stack, BinDir and HashDir are required")
	}
	if opts.BuildDir == "" {
		opts.BuildDir = filepath.Join(opts.Stack.Dir, "build")
	}
	var err error
	for _, p := range []*string{&opts.BuildDir, &opts.BinDir, &opts.HashDir} {
		if *p, err = filepath.Abs(*p); err != nil {
			return nil, err
		}
	}
	if opts.Env == nil {
		opts.Env = Env(os.Environ())
	}
	return &Builder{opts: opts}, nil
}

// inherited are the variables build.sh gets from faas-local's environment.
var inherited = []string{
	"PATH", "HOME", "TMPDIR", "GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOFLAGS",
	"GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE", "GOTOOLCHAIN", "GOROOT",
	"GOENV", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "SSL_CERT_FILE", "SSL_CERT_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}

// Env returns the environment a build runs with: the Go and network
// settings of environ, with GOWORK=off and CGO_ENABLED=0.
func Env(environ []string) []string {
	env := []string{"GOWORK=off", "CGO_ENABLED=0"}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		for _, name := range inherited {
			if k == name {
				env = append(env, kv)
				break
			}
		}
	}
	return env
}

// Binary returns where the binary of fn is kept.
func (b *Builder) Binary(fn string) string { return filepath.Join(b.opts.BinDir, fn) }

// Build builds fn unless its inputs are unchanged and its binary exists.
// starting, when not nil, is called just before a real build begins.
func (b *Builder) Build(ctx context.Context, fn stackfile.Function, starting func()) (Result, error) {
	start := time.Now()
	res := Result{Binary: b.Binary(fn.Name)}
	sum, err := b.Hash(fn)
	if err != nil {
		return res, err
	}
	hashFile := filepath.Join(b.opts.HashDir, fn.Name+".sha256")
	if old, err := os.ReadFile(hashFile); err == nil && strings.TrimSpace(string(old)) == sum {
		if st, err := os.Stat(res.Binary); err == nil && st.Mode().IsRegular() {
			res.Unchanged = true
			res.Duration = time.Since(start)
			return res, nil
		}
	}
	if starting != nil {
		starting()
	}
	contextDir, err := b.CreateContext(fn)
	if err != nil {
		return res, err
	}
	if err := b.runScript(ctx, fn, contextDir); err != nil {
		return res, err
	}
	if err := os.MkdirAll(b.opts.BinDir, 0o755); err != nil {
		return res, err
	}
	// Replace the binary by renaming, so that running processes keep theirs.
	tmp := res.Binary + ".new"
	if err := copyFile(filepath.Join(contextDir, "handler"), tmp, 0o755); err != nil {
		return res, fmt.Errorf("build %s: %w", fn.Name, err)
	}
	if err := os.Rename(tmp, res.Binary); err != nil {
		return res, err
	}
	if err := os.MkdirAll(b.opts.HashDir, 0o755); err != nil {
		return res, err
	}
	if err := os.WriteFile(hashFile, []byte(sum+"\n"), 0o644); err != nil {
		return res, err
	}
	res.Duration = time.Since(start)
	return res, nil
}

// cwdMu serialises CreateContext: go-sdk's builder resolves paths against
// the working directory, which is the whole process's.
var cwdMu sync.Mutex

// CreateContext creates fn's build context, <BuildDir>/<fn>, with go-sdk's
// builder, exactly as `faas-cli build --shrinkwrap` lays it out, and returns
// its absolute path.
func (b *Builder) CreateContext(fn stackfile.Function) (string, error) {
	cwdMu.Lock()
	defer cwdMu.Unlock()
	prev, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if err := os.Chdir(b.opts.Stack.Dir); err != nil {
		return "", err
	}
	defer func() { _ = os.Chdir(prev) }()
	if _, err := os.Stat(filepath.Join("template", fn.Lang)); err != nil {
		return "", fmt.Errorf("function %s: template %q not found in %s (faas-cli template pull, or copy it there)",
			fn.Name, fn.Lang, filepath.Join(b.opts.Stack.Dir, "template"))
	}
	dir, err := builder.CreateBuildContext(fn.Name, fn.Handler, fn.Lang, b.opts.Stack.CopyPaths,
		builder.WithBuildDir(b.opts.BuildDir))
	if err != nil {
		return "", fmt.Errorf("function %s: build context: %w", fn.Name, err)
	}
	return filepath.Abs(dir)
}

func (b *Builder) runScript(ctx context.Context, fn stackfile.Function, contextDir string) error {
	if _, err := os.Stat(filepath.Join(contextDir, "build.sh")); err != nil {
		return fmt.Errorf("function %s: template %s has no build.sh, so faas-local cannot build it", fn.Name, fn.Lang)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "sh", "build.sh")
	cmd.Dir = contextDir
	cmd.Env = b.opts.Env
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("function %s: sh build.sh in %s: %w\n%s", fn.Name, contextDir, err, tail(out.String(), 40))
	}
	if _, err := os.Stat(filepath.Join(contextDir, "handler")); err != nil {
		return fmt.Errorf("function %s: build.sh made no ./handler in %s", fn.Name, contextDir)
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
