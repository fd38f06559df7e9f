// Package shared_test checks rules that span the repository: which packages
// may import which, and that configuration names only functions that exist.
package shared_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const module = "github.com/faas-shop/faas-shop/"

// repoRoot is the repository's top folder (tests run in shared/).
const repoRoot = ".."

type stackFile struct {
	Functions map[string]struct {
		Handler string            `yaml:"handler"`
		Labels  map[string]string `yaml:"labels"`
	} `yaml:"functions"`
}

func readStack(t *testing.T) stackFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "stack.yml"))
	require.NoError(t, err)
	var s stackFile
	require.NoError(t, yaml.Unmarshal(raw, &s))
	require.NotEmpty(t, s.Functions)
	return s
}

// imports lists the faas-shop packages and selected outside packages that
// the non-test Go files under dir import, by file.
func imports(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			out[path] = append(out[path], strings.Trim(imp.Path.Value, `"`))
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestFunctionsImportOnlyTheirServiceAndThePlatform(t *testing.T) {
	for name, f := range readStack(t).Functions {
		service := f.Labels["faas-shop.service"]
		require.NotEmpty(t, service, "%s needs a faas-shop.service label in stack.yml", name)
		for file, imps := range imports(t, filepath.Join(repoRoot, f.Handler)) {
			for _, imp := range imps {
				if !strings.HasPrefix(imp, module) {
					continue
				}
				rest, _ := strings.CutPrefix(imp, module+"shared/")
				top := strings.SplitN(rest, "/", 2)[0]
				ok := strings.HasPrefix(imp, module+"shared/") && (top == "platform" || top == service)
				assert.True(t, ok, "%s (service %s) imports %s: a function may import only shared/%s and shared/platform", file, service, imp, service)
			}
		}
	}
}

func TestDomainsStayFreeOfTransportAndOfEachOther(t *testing.T) {
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "platform" {
			continue
		}
		service := e.Name()
		for file, imps := range imports(t, service) {
			for _, imp := range imps {
				assert.NotEqual(t, "net/http", imp, "%s: a domain package is free of HTTP", file)
				assert.False(t, strings.HasPrefix(imp, "github.com/nats-io/"), "%s: a domain package is free of NATS", file)
				for _, transport := range []string{"shared/platform/web", "shared/platform/fn"} {
					assert.False(t, strings.HasPrefix(imp, module+transport), "%s imports %s: transport belongs in the function", file, imp)
				}
				if rest, ok := strings.CutPrefix(imp, module+"shared/"); ok {
					other := strings.SplitN(rest, "/", 2)[0]
					assert.True(t, other == service || other == "platform",
						"%s imports %s: services talk over REST and events, not through each other's packages", file, imp)
				}
			}
		}
	}
}

func TestThePlatformImportsNoService(t *testing.T) {
	for file, imps := range imports(t, "platform") {
		for _, imp := range imps {
			if rest, ok := strings.CutPrefix(imp, module+"shared/"); ok {
				assert.True(t, strings.HasPrefix(rest, "platform/"), "%s imports %s", file, imp)
			}
		}
	}
}

func TestGatewayRoutesNameFunctionsOfTheStack(t *testing.T) {
	stack := readStack(t)
	raw, err := os.ReadFile(filepath.Join(repoRoot, "gateway-config", "routes.yml"))
	require.NoError(t, err)
	var cfg struct {
		Routes []struct {
			Method, Path, Function, Auth string
		} `yaml:"routes"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &cfg))
	require.NotEmpty(t, cfg.Routes)
	seen := map[string]bool{}
	for _, r := range cfg.Routes {
		key := r.Method + " " + r.Path
		assert.False(t, seen[key], "route %s is listed twice", key)
		seen[key] = true
		assert.Contains(t, stack.Functions, r.Function, "route %s names a function stack.yml lacks", key)
		assert.Contains(t, []string{"public", "user", "admin"}, r.Auth, "route %s", key)
		assert.True(t, strings.HasPrefix(r.Path, "/"), "route %s", key)
	}
}

func TestStackStaysWithinFaasdLimit(t *testing.T) {
	assert.LessOrEqual(t, len(readStack(t).Functions), 15, "faasd CE refuses more than 15 functions")
}
