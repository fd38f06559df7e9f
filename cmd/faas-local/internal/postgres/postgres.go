// Package postgres gives each faas-shop service its own PostgreSQL role and
// database: on the server named by DATABASE_URL (a superuser's URL), or on a
// private, durable cluster that faas-local keeps under <state>/postgres.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"

	"github.com/faas-shop/faas-shop/shared/platform/pgcluster"
)

// Server is a PostgreSQL server faas-local uses.
type Server struct {
	// AdminURL is a superuser's URL for the postgres database.
	AdminURL string
	cluster  *pgcluster.Cluster
}

// Options say which server to use.
type Options struct {
	// DatabaseURL, when set, is the superuser URL of a server the user runs.
	DatabaseURL string
	// Dir holds the private cluster when DatabaseURL is empty.
	Dir string
	// Log receives initdb and pg_ctl output.
	Log io.Writer
}

// ErrNoServer explains what to install or set when there is no server.
var ErrNoServer = errors.New("faas-local needs PostgreSQL for the functions' databases, and this machine has no " +
	"PostgreSQL server binaries (initdb, pg_ctl): install them (Debian/Ubuntu: apt-get install postgresql; " +
	"macOS: brew install postgresql), or set DATABASE_URL to a superuser URL of a PostgreSQL you run, " +
	"e.g. DATABASE_URL=postgres://postgres:secret@127.0.0.1:5432/postgres")

// Start uses DATABASE_URL when given, else starts (creating on first use)
// the private cluster. Stop the returned Server when done.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.DatabaseURL != "" {
		if _, err := url.Parse(opts.DatabaseURL); err != nil {
			return nil, fmt.Errorf("DATABASE_URL is not a URL: %w", err)
		}
		return &Server{AdminURL: opts.DatabaseURL}, nil
	}
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: opts.Dir, Log: opts.Log})
	if errors.Is(err, pgcluster.ErrNoServer) {
		return nil, ErrNoServer
	}
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	return &Server{AdminURL: c.URL("postgres"), cluster: c}, nil
}

// Private reports whether faas-local runs the server itself.
func (s *Server) Private() bool { return s.cluster != nil }

// Stop stops the private cluster (pg_ctl stop); a DATABASE_URL server is
// left alone.
func (s *Server) Stop(ctx context.Context) error {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.Stop(ctx)
}

// EnsureDatabase creates (or updates) the role and database called name,
// owned by that role, and returns the role's URL on the same server and
// with the same connection parameters as AdminURL.
func (s *Server) EnsureDatabase(ctx context.Context, name, password string) (string, error) {
	url, err := pgcluster.EnsureDatabase(ctx, s.AdminURL, name, password)
	if err != nil {
		return "", fmt.Errorf("database %s: %w", name, err)
	}
	return url, nil
}

// Services returns the services with a database, sorted: those of every
// <service>-database-url secret that databaseService recognises.
func Services(secretNames []string, databaseService func(string) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range secretNames {
		if svc := databaseService(n); svc != "" && !seen[svc] {
			seen[svc] = true
			out = append(out, svc)
		}
	}
	sort.Strings(out)
	return out
}
