// Package pgtest gives each test package a fresh database in a real,
// private PostgreSQL cluster. `make test` starts one cluster for the whole run
// (cmd/with-postgres) and passes its superuser URL in AdminURLEnv; a package
// tested on its own (go test ./...) starts a cluster of its own instead.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//	func TestX(t *testing.T) { pool := pgtest.Pool(t) ... }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/faas-shop/faas-shop/shared/platform/pgcluster"
)

// AdminURLEnv names the variable holding a superuser URL of a running cluster.
const AdminURLEnv = "FAAS_SHOP_TEST_PG_ADMIN_URL"

var packageURL string

// Main runs the package's tests with a fresh database and exits. Without a
// PostgreSQL server it fails the run: a database test never silently skips.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	adminURL := os.Getenv(AdminURLEnv)
	if adminURL == "" {
		dir, err := os.MkdirTemp("", "pgtest-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "pg"), Ephemeral: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: start PostgreSQL:", err)
			return 1
		}
		defer cluster.Stop(context.Background())
		adminURL = cluster.URL("postgres")
	}
	name, err := CreateDatabase(ctx, adminURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer dropDatabase(adminURL, name)
	packageURL = withDatabase(adminURL, name)
	return m.Run()
}

// CreateDatabase creates an empty database with a unique name and returns
// the name.
func CreateDatabase(ctx context.Context, adminURL string) (string, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "test_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("connect to the test cluster: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return name, nil
}

func dropDatabase(adminURL, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func withDatabase(rawURL, db string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + db
	return u.String()
}

// URL returns the connection URL of the package's database.
func URL(tb testing.TB) string {
	tb.Helper()
	if packageURL == "" {
		tb.Fatal("pgtest: call pgtest.Main from the package's TestMain")
	}
	return packageURL
}

// Pool returns a pool on the package's database, closed when tb ends.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}
