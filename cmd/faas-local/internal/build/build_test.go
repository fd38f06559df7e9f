package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/stackfile"
)

// TestRepoStackBuilds builds every function of the repository's stack.yml
// from its shrinkwrap-style build context with the template's build.sh, as
// the Dockerfile would, with no go.work: only Go and the module proxy.
func TestRepoStackBuilds(t *testing.T) {
	st, err := stackfile.Load("../../../../stack.yml")
	require.NoError(t, err)
	require.NotEmpty(t, st.Functions)
	tmp := t.TempDir()
	b, err := New(Options{Stack: st, BuildDir: filepath.Join(tmp, "build"),
		BinDir: filepath.Join(tmp, "bin"), HashDir: filepath.Join(tmp, "hash")})
	require.NoError(t, err)
	var gowork []string
	for _, env := range b.opts.Env {
		if strings.HasPrefix(env, "GOWORK=") {
			gowork = append(gowork, env)
		}
	}
	assert.Equal(t, []string{"GOWORK=off"}, gowork, "builds never see a go.work")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, fn := range st.Functions {
		t.Run(fn.Name, func(t *testing.T) {
			res, err := b.Build(ctx, fn, nil)
			require.NoError(t, err)
			assert.False(t, res.Unchanged)
			info, err := os.Stat(res.Binary)
			require.NoError(t, err)
			assert.NotZero(t, info.Mode().Perm()&0o100, "the binary is executable")

			// The context is laid out as faas-cli build --shrinkwrap makes it.
			ctxDir := filepath.Join(tmp, "build", fn.Name)
			for _, p := range []string{"build.sh", "template.yml", "main.go", "function/go.mod"} {
				assert.FileExists(t, filepath.Join(ctxDir, p))
			}
			for _, c := range st.CopyPaths {
				assert.DirExists(t, filepath.Join(ctxDir, "function", c), "copy path %s", c)
			}
			assert.NoFileExists(t, filepath.Join(ctxDir, "go.work"))

			again, err := b.Build(ctx, fn, func() { t.Error("an unchanged function must not be rebuilt") })
			require.NoError(t, err)
			assert.True(t, again.Unchanged)
		})
	}
}

func TestChangedInputRebuilds(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "template", "golang-http"), os.DirFS("../../../../template/golang-http")))
	require.NoError(t, os.CopyFS(filepath.Join(dir, "fn"), os.DirFS("../../../../template/golang-http/function")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stack.yml"), []byte(`version: 1.0
provider: {name: openfaas}
functions:
  hello: {lang: golang-http, handler: ./fn, image: hello}
`), 0o644))
	st, err := stackfile.Load(filepath.Join(dir, "stack.yml"))
	require.NoError(t, err)
	b, err := New(Options{Stack: st, BinDir: filepath.Join(dir, "bin"), HashDir: filepath.Join(dir, "hash")})
	require.NoError(t, err)
	fn := st.Functions[0]
	h1, err := b.Hash(fn)
	require.NoError(t, err)
	h1again, err := b.Hash(fn)
	require.NoError(t, err)
	assert.Equal(t, h1, h1again)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "fn", "extra.go"), []byte("package function\n"), 0o644))
	h2, err := b.Hash(fn)
	require.NoError(t, err)
	assert.NotEqual(t, h1, h2, "a handler change changes the hash")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "template", "golang-http", "build.sh"), []byte("exit 1\n"), 0o644))
	h3, err := b.Hash(fn)
	require.NoError(t, err)
	assert.NotEqual(t, h2, h3, "a template change changes the hash")

	_, err = b.Build(context.Background(), fn, nil)
	require.Error(t, err, "a failing build.sh fails the build")
	assert.Contains(t, err.Error(), "build.sh")
}
