// Package pgcluster runs a private PostgreSQL cluster from the machine's own
// server binaries (initdb, pg_ctl): faas-local keeps one under
// .faas-local/postgres, and the test harness starts one per test run.
//
// PostgreSQL refuses to run as root, so when this process is root the
// cluster's files belong to, and its server runs as, the "postgres" user (or
// "nobody" where there is none). It listens only on 127.0.0.1.
package pgcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faas-shop/faas-shop/shared/platform/localport"
)

// ErrNoServer is returned when the machine has no PostgreSQL server binaries.
var ErrNoServer = errors.New("no PostgreSQL server found: install Debian's postgresql package " +
	"(apt-get install postgresql) or set DATABASE_URL to a PostgreSQL you run")

// Superuser is the cluster's superuser role.
const Superuser = "postgres"

// Options configure a cluster.
type Options struct {
	// Dir holds the cluster: data/, the server log and the port it last used.
	Dir string
	// Ephemeral trades durability for speed (no fsync): for test clusters only.
	Ephemeral bool
	// Log receives the output of initdb and pg_ctl; nil discards it.
	Log io.Writer
}

// Cluster is a running private PostgreSQL cluster.
type Cluster struct {
	dir      string
	bin      string
	port     int
	password string
	cred     *syscall.Credential
	log      io.Writer
}

// FindBinaries returns the folder holding initdb and pg_ctl.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoServer
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start creates the cluster in opts.Dir if it does not exist and starts it.
// A server left running by an earlier process that died is stopped first.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: opts.Dir, bin: bin, log: opts.Log}
	if c.log == nil {
		c.log = io.Discard
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if c.cred, err = unprivilegedUser(); err != nil {
			return nil, err
		}
		// The server's user must be able to reach its folder and write its log there.
		if err := allowTraverse(c.dir); err != nil {
			return nil, err
		}
		if err := c.chown(c.dir); err != nil {
			return nil, err
		}
	}
	if c.password, err = c.superuserPassword(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx, opts.Ephemeral); err != nil {
			return nil, err
		}
	}
	if c.run(ctx, "pg_ctl", "-D", c.dataDir(), "status") == nil {
		_ = c.run(ctx, "pg_ctl", "-D", c.dataDir(), "stop", "-m", "fast", "-w")
	}
	// The same port across restarts keeps connection URLs valid.
	if c.port, err = localport.Sticky(filepath.Join(c.dir, "port")); err != nil {
		return nil, err
	}
	settings := []string{
		"-c listen_addresses=127.0.0.1",
		"-p " + strconv.Itoa(c.port),
		"-c unix_socket_directories=''",
		"-c max_connections=300",
	}
	if opts.Ephemeral {
		settings = append(settings, "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
	}
	if err := c.run(ctx, "pg_ctl", "-D", c.dataDir(), "-l", filepath.Join(c.dir, "postgres.log"),
		"-w", "-t", "60", "-o", strings.Join(settings, " "), "start"); err != nil {
		return nil, fmt.Errorf("start PostgreSQL (see %s): %w", filepath.Join(c.dir, "postgres.log"), err)
	}
	return c, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// Port is the TCP port the server listens on at 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// URL returns the superuser's connection URL for database db.
func (c *Cluster) URL(db string) string {
	return ConnURL(Superuser, c.password, c.port, db)
}

// ConnURL builds a connection URL for a role on 127.0.0.1.
func ConnURL(role, password string, port int, db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(role, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Stop shuts the server down, waiting for it to finish.
func (c *Cluster) Stop(ctx context.Context) error {
	return c.run(ctx, "pg_ctl", "-D", c.dataDir(), "stop", "-m", "fast", "-w", "-t", "60")
}

// EnsureDatabase creates (or updates the password of) role and a database
// of the same name that role owns, and returns the role's URL for it: the
// server and connection parameters of adminURL, which must be a superuser's.
func EnsureDatabase(ctx context.Context, adminURL, name, password string) (string, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("connect as superuser: %w", err)
	}
	defer conn.Close(ctx)
	role := pgx.Identifier{name}.Sanitize()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	// DDL takes no parameters; the password is quoted as a literal by pgx.
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("%s ROLE %s LOGIN PASSWORD %s", verb, role, quoteLiteral(password))); err != nil {
		return "", fmt.Errorf("role %s: %w", name, err)
	}
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s OWNER %s", role, role)); err != nil {
			return "", fmt.Errorf("database %s: %w", name, err)
		}
	}
	return RoleURL(adminURL, name, password)
}

// RoleURL rewrites a server URL for another role and the database of the
// same name, keeping host, port and parameters (sslmode, timeouts).
func RoleURL(serverURL, role, password string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", errors.New("database URL is not valid")
	}
	u.User = url.UserPassword(role, password)
	u.Path, u.RawPath = "/"+role, ""
	return u.String(), nil
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func (c *Cluster) initdb(ctx context.Context, ephemeral bool) error {
	pwfile := filepath.Join(c.dir, "initdb-pw")
	if err := os.WriteFile(pwfile, []byte(c.password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if err := c.chown(pwfile); err != nil {
		return err
	}
	if err := os.MkdirAll(c.dataDir(), 0o700); err != nil {
		return err
	}
	if err := c.chown(c.dataDir()); err != nil {
		return err
	}
	args := []string{"-D", c.dataDir(), "-U", Superuser, "--pwfile", pwfile,
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-instructions"}
	if ephemeral {
		args = append(args, "--no-sync")
	}
	if err := c.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	return nil
}

// superuserPassword reads the password kept beside the cluster, making one
// the first time.
func (c *Cluster) superuserPassword() (string, error) {
	path := filepath.Join(c.dir, "superuser-password")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", err
	}
	return pw, nil
}

func (c *Cluster) run(ctx context.Context, tool string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, tool), args...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = c.log, c.log
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	// pg_ctl start leaves the server running in the background; it must not
	// hold our output open after pg_ctl returns, nor die with our ctx.
	cmd.WaitDelay = time.Second
	return cmd.Run()
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
}

func unprivilegedUser() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as")
}

// allowTraverse makes dir and its parents searchable by other users, which
// PostgreSQL, running as an unprivileged user, needs to reach its data.
func allowTraverse(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := abs; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, st.Mode().Perm()|0o011); err != nil {
				return fmt.Errorf("let PostgreSQL reach %s: %w", p, err)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
