// Command with-postgres starts a throw-away private PostgreSQL cluster, runs
// a command with the cluster's superuser URL in FAAS_SHOP_TEST_PG_ADMIN_URL,
// then stops the cluster and exits with the command's status. `make test`
// runs the whole test suite under it, so every test package shares one
// cluster and gets its own fresh database (see shared/platform/pgtest).
//
//	with-postgres -- go test ./...
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/faas-shop/faas-shop/shared/platform/pgcluster"
	"github.com/faas-shop/faas-shop/shared/platform/pgtest"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: with-postgres -- command [args...]")
		os.Exit(2)
	}
	os.Exit(run(args))
}

func run(args []string) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "faas-shop-test-pg-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "with-postgres:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "pg"), Ephemeral: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "with-postgres:", err)
		return 1
	}
	defer cluster.Stop(context.Background())
	fmt.Fprintf(os.Stderr, "with-postgres: test cluster on 127.0.0.1:%d\n", cluster.Port())

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), pgtest.AdminURLEnv+"="+cluster.URL("postgres"))
	// Forward Ctrl-C and SIGTERM so the cluster is stopped after the command ends.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "with-postgres:", err)
		return 1
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
		return exitErr.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "with-postgres:", err)
		return 1
	}
	return 0
}
