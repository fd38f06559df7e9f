package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/types"

	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/build"
	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/gateway"
	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/logs"
	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/natsd"
	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/postgres"
	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/secrets"
	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/stackfile"
	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/supervisor"
)

// version is reported by /system/info.
var version = "dev"

type upConfig struct {
	stackFile  string
	state      string
	port       int
	natsPort   int
	noNATS     bool
	noPostgres bool
	buildDir   string
	jobs       int
	accessLog  bool
	readyWait  time.Duration
}

// runUp implements `faas-local up`.
func runUp(args []string) int {
	var cfg upConfig
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.StringVar(&cfg.stackFile, "f", "stack.yml", "the stack file")
	fs.StringVar(&cfg.state, "state", ".faas-local", "where faas-local keeps binaries, secrets, logs, NATS and PostgreSQL data")
	fs.IntVar(&cfg.port, "port", 8080, "the gateway's port on 127.0.0.1 (0: any free port)")
	fs.IntVar(&cfg.natsPort, "nats-port", 0, "the embedded NATS server's port on 127.0.0.1 (0: the last one used, else a free one)")
	fs.BoolVar(&cfg.noNATS, "no-nats", false, "run no NATS server and give functions no nats_url (NATS_URL, when set, is passed on instead)")
	fs.BoolVar(&cfg.noPostgres, "no-postgres", false, "start no PostgreSQL even when functions list <service>-database-url secrets (they must then exist in <state>/secrets)")
	fs.StringVar(&cfg.buildDir, "build-dir", "", "where build contexts go (default: build/ beside the stack file)")
	fs.IntVar(&cfg.jobs, "jobs", 2, "how many functions to build at once")
	fs.BoolVar(&cfg.accessLog, "access-log", false, "print a console line for every gateway request (they always go to <state>/logs/gateway.ndjson)")
	fs.DurationVar(&cfg.readyWait, "ready-timeout", 60*time.Second, "how long to wait for functions to become ready before printing the summary")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: faas-local [up] [-f stack.yml] [--state .faas-local] [--port 8080]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "faas-local: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := up(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "faas-local:", err)
		return 1
	}
	return 0
}

// cleanup runs deferred shutdown steps in reverse order.
type cleanup []func()

func (c *cleanup) add(f func()) { *c = append(*c, f) }
func (c cleanup) run() {
	for i := len(c) - 1; i >= 0; i-- {
		c[i]()
	}
}

func up(ctx context.Context, cfg upConfig) (err error) {
	started := time.Now()
	st, err := stackfile.Load(cfg.stackFile)
	if err != nil {
		return err
	}
	state, err := filepath.Abs(cfg.state)
	if err != nil {
		return err
	}
	for _, d := range []string{"bin", "logs", "functions"} {
		if err := os.MkdirAll(filepath.Join(state, d), 0o755); err != nil {
			return err
		}
	}
	store := secrets.Store{Dir: filepath.Join(state, "secrets")}
	if err := store.EnsureBase(); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	if err := checkSecrets(st, store, cfg.noPostgres); err != nil {
		return err
	}

	// Take the gateway's port first: a clash should fail before any build.
	listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.port)))
	if err != nil {
		return fmt.Errorf("gateway: %w (is another faas-local or OpenFaaS running? pass --port)", err)
	}
	gatewayURL := "http://" + listener.Addr().String()
	var done cleanup
	defer func() {
		if err != nil {
			done.run()
		}
	}()
	done.add(func() { listener.Close() })

	hub, err := logs.NewHub(filepath.Join(state, "logs"), os.Stdout)
	if err != nil {
		return err
	}
	done.add(func() { _ = hub.Close() })

	// Infrastructure starts while the functions build.
	var (
		infraWG  sync.WaitGroup
		natsURL  string
		natsSrv  *natsd.Server
		pg       *postgres.Server
		natsErr  error
		pgErr    error
		services = postgres.Services(allSecrets(st), secrets.DatabaseService)
	)
	if !cfg.noNATS {
		if env := os.Getenv("NATS_URL"); env != "" {
			natsURL = env
		} else {
			infraWG.Add(1)
			go func() {
				defer infraWG.Done()
				natsSrv, natsErr = natsd.Start(filepath.Join(state, "nats"), cfg.natsPort)
				if natsErr == nil {
					natsURL = natsSrv.URL()
				}
			}()
		}
	}
	if len(services) > 0 && !cfg.noPostgres {
		infraWG.Add(1)
		go func() {
			defer infraWG.Done()
			pgLog, err := os.OpenFile(filepath.Join(state, "logs", "postgres-ctl.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				pgErr = err
				return
			}
			defer pgLog.Close()
			pg, pgErr = postgres.Start(ctx, postgres.Options{
				DatabaseURL: os.Getenv("DATABASE_URL"), Dir: filepath.Join(state, "postgres"), Log: pgLog,
			})
		}()
	}

	builder, err := build.New(build.Options{
		Stack: st, BuildDir: cfg.buildDir,
		BinDir: filepath.Join(state, "bin"), HashDir: filepath.Join(state, "build"),
	})
	if err != nil {
		return err
	}
	binaries, buildErr := buildAll(ctx, builder, st, cfg.jobs)
	infraWG.Wait()
	if natsSrv != nil {
		done.add(natsSrv.Stop)
	}
	if pg != nil && pg.Private() {
		done.add(func() {
			sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := pg.Stop(sctx); err != nil {
				fmt.Fprintln(os.Stderr, "faas-local: stop PostgreSQL:", err)
			}
		})
	}
	if err := errors.Join(buildErr, natsErr, pgErr); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}

	if pg != nil {
		for _, svc := range services {
			password, err := store.Ensure(svc+secrets.DatabasePasswordSuffix, func() (string, error) { return randomPassword() })
			if err != nil {
				return err
			}
			dbURL, err := pg.EnsureDatabase(ctx, svc, password)
			if err != nil {
				return err
			}
			if err := store.Write(svc+secrets.DatabaseURLSuffix, dbURL); err != nil {
				return err
			}
		}
	}

	creds, err := (&auth.ReadBasicAuthFromDisk{SecretMountPath: store.Dir}).Read()
	if err != nil {
		return err
	}

	sup := supervisor.New(supervisor.Options{Output: hub, Event: func(fn, instance, level, msg string) {
		hub.Add(fn, instance, "faas-local", eventLine(level, msg), time.Now(), true)
	}})
	for _, fn := range st.Functions {
		mount := filepath.Join(state, "functions", fn.Name, "secrets")
		if err := store.Mount(mount, fn.Secrets); err != nil {
			return fmt.Errorf("function %s: %w", fn.Name, err)
		}
		sup.Add(supervisor.Spec{
			Name:        fn.Name,
			Binary:      binaries[fn.Name],
			Dir:         filepath.Join(state, "functions", fn.Name),
			Env:         functionEnv(fn, mount, gatewayURL, natsURL),
			StopTimeout: stopTimeout(fn.Environment),
			Status:      status(fn),
		})
	}

	gw := gateway.New(gateway.Options{
		Registry:    registry{sup},
		Logs:        gatewayLogs{hub: hub, console: cfg.accessLog},
		Credentials: creds,
		Version:     version,
	})
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 5 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()

	// From here on, everything stops the same way.
	stopAll := func() {
		fmt.Println("faas-local: stopping")
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
		sctx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
		sup.Stop(sctx)
		cancel()
		gw.CloseIdleConnections()
		done.run()
		fmt.Println("faas-local: stopped")
	}

	startFunctions(ctx, sup, st, cfg.readyWait)
	printSummary(st, state, gatewayURL, natsURL, pg, time.Since(started))

	select {
	case <-ctx.Done():
	case err := <-served:
		stopAll()
		return fmt.Errorf("gateway: %w", err)
	}
	stopAll()
	return nil
}

// checkSecrets fails, naming them all, when functions list secrets that
// faas-local can neither find nor make.
func checkSecrets(st *stackfile.Stack, store secrets.Store, noPostgres bool) error {
	var missing []string
	for _, fn := range st.Functions {
		for _, s := range fn.Secrets {
			if _, err := os.Stat(store.Path(s)); err == nil {
				continue
			}
			if secrets.Producible(s) && (!noPostgres || secrets.DatabaseService(s) == "") {
				continue
			}
			missing = append(missing, fmt.Sprintf("%s (listed by %s)", s, fn.Name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("faas-local cannot produce these secrets: %s; put each in a file of that name in %s",
			strings.Join(missing, ", "), store.Dir)
	}
	return nil
}

func allSecrets(st *stackfile.Stack) []string {
	var out []string
	for _, fn := range st.Functions {
		out = append(out, fn.Secrets...)
	}
	return out
}

// buildAll builds every function, jobs at a time, printing progress, and
// returns the binaries by function name.
func buildAll(ctx context.Context, b *build.Builder, st *stackfile.Stack, jobs int) (map[string]string, error) {
	n := len(st.Functions)
	jobs = max(1, jobs)
	var (
		mu       sync.Mutex
		errs     []error
		binaries = map[string]string{}
		sem      = make(chan struct{}, jobs)
		wg       sync.WaitGroup
	)
	for i, fn := range st.Functions {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			res, err := b.Build(ctx, fn, func() {
				mu.Lock()
				fmt.Printf("[%d/%d] building %s ...\n", i+1, n, fn.Name)
				mu.Unlock()
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				fmt.Printf("[%d/%d] %s failed\n", i+1, n, fn.Name)
				errs = append(errs, err)
			case res.Unchanged:
				fmt.Printf("[%d/%d] %s unchanged\n", i+1, n, fn.Name)
			default:
				fmt.Printf("[%d/%d] %s built in %.1fs\n", i+1, n, fn.Name, res.Duration.Seconds())
			}
			binaries[fn.Name] = res.Binary
		}()
	}
	wg.Wait()
	return binaries, errors.Join(errs...)
}

// startFunctions starts each function's minimum replicas and reports when
// each is ready.
func startFunctions(ctx context.Context, sup *supervisor.Supervisor, st *stackfile.Stack, wait time.Duration) {
	n := len(st.Functions)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, spec := range st.Functions {
		f, _ := sup.Lookup(spec.Name)
		if err := f.Scale(spec.MinReplicas); err != nil {
			fmt.Printf("[%d/%d] %s: %v\n", i+1, n, spec.Name, err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			took, err := f.WaitReady(wctx)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case spec.MinReplicas == 0:
				fmt.Printf("[%d/%d] %s scaled to zero\n", i+1, n, spec.Name)
			case err != nil:
				fmt.Printf("[%d/%d] %s not ready yet (%v); see its log lines above\n", i+1, n, spec.Name, err)
			default:
				fmt.Printf("[%d/%d] %s ready in %dms\n", i+1, n, spec.Name, took.Milliseconds())
			}
		}()
	}
	wg.Wait()
}

func printSummary(st *stackfile.Stack, state, gatewayURL, natsURL string, pg *postgres.Server, took time.Duration) {
	rel := func(p string) string {
		if wd, err := os.Getwd(); err == nil {
			if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
				return r
			}
		}
		return p
	}
	sec := filepath.Join(state, "secrets")
	fmt.Printf("\nfaas-local is up in %.1fs: %d functions from %s\n", took.Seconds(), len(st.Functions), rel(st.File))
	fmt.Printf("  gateway         %s   (functions at %s/function/<name>)\n", gatewayURL, gatewayURL)
	fmt.Printf("  admin user      %s / %s\n", rel(filepath.Join(sec, secrets.AdminEmail)), rel(filepath.Join(sec, secrets.AdminPassword)))
	fmt.Printf("  gateway auth    user admin, password in %s\n", rel(filepath.Join(sec, secrets.BasicAuthPassword)))
	if natsURL != "" {
		fmt.Printf("  NATS            %s\n", natsURL)
	}
	if pg != nil {
		where := "DATABASE_URL"
		if pg.Private() {
			where = rel(filepath.Join(state, "postgres"))
		}
		fmt.Printf("  PostgreSQL      %s (database URLs in %s/*-database-url)\n", where, rel(sec))
	}
	fmt.Printf("  logs            %s/*.ndjson; faas-local logs --call-id <X-Call-Id>\n", rel(filepath.Join(state, "logs")))
	fmt.Printf("  try             curl -u admin:$(cat %s) %s/system/functions\n",
		rel(filepath.Join(sec, secrets.BasicAuthPassword)), gatewayURL)
	fmt.Println("Ctrl-C stops everything; data is kept for the next start.")
}

// functionEnv is a function process's environment (upstream_url is added
// per process by the supervisor).
func functionEnv(fn stackfile.Function, secretDir, gatewayURL, natsURL string) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range fn.Environment {
		switch k {
		case "upstream_url", "secret_mount_path", "gateway_url", "nats_url":
			continue // faas-local's own values win, as faasd's DNS would
		}
		env = append(env, k+"="+v)
	}
	env = append(env, "secret_mount_path="+secretDir, "gateway_url="+gatewayURL)
	if natsURL != "" {
		env = append(env, "nats_url="+natsURL)
	}
	return env
}

// stopTimeout is how long a function may drain: its write_timeout (as the
// watchdog reads it) plus a second, 10s by default.
func stopTimeout(env map[string]string) time.Duration {
	d := 10 * time.Second
	if v := env["write_timeout"]; v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			d = time.Duration(n) * time.Second
		} else if p, err := time.ParseDuration(v); err == nil {
			d = p
		}
	}
	return d + time.Second
}

func status(fn stackfile.Function) types.FunctionStatus {
	labels, annotations := fn.Labels, fn.Annotations
	fprocess := fn.FProcess
	if fprocess == "" {
		fprocess = "./handler"
	}
	return types.FunctionStatus{
		Name:        fn.Name,
		Image:       fn.Image,
		Namespace:   logs.Namespace,
		EnvProcess:  fprocess,
		EnvVars:     fn.Environment,
		Labels:      &labels,
		Annotations: &annotations,
		Secrets:     fn.Secrets,
	}
}

// registry adapts the supervisor to the gateway.
type registry struct{ sup *supervisor.Supervisor }

func (r registry) Lookup(name string) (gateway.Function, bool) {
	f, ok := r.sup.Lookup(name)
	if !ok {
		return nil, false
	}
	return f, true
}

func (r registry) List() []gateway.Function {
	fns := r.sup.Functions()
	out := make([]gateway.Function, len(fns))
	for i, f := range fns {
		out[i] = f
	}
	return out
}

// gatewayLogs adapts the log hub to the gateway.
type gatewayLogs struct {
	hub     *logs.Hub
	console bool
}

func (l gatewayLogs) Messages(fn string, since time.Time, tail int) ([]providerMessage, error) {
	_ = l.hub.Flush()
	return logs.Messages(l.hub.Dir(), fn, since, tail)
}

func (l gatewayLogs) Subscribe(fn string) (<-chan providerMessage, func()) {
	return l.hub.Subscribe(fn)
}

func (l gatewayLogs) Request(r gateway.RequestLog) {
	level := "info"
	if r.Status >= 500 {
		level = "error"
	}
	line := make([]byte, 0, 256)
	line = append(line, `{"level":"`...)
	line = append(line, level...)
	line = append(line, `","message":"request","function":`...)
	line = logs.AppendString(line, r.Function)
	line = append(line, `,"call_id":`...)
	line = logs.AppendString(line, r.CallID)
	line = append(line, `,"method":`...)
	line = logs.AppendString(line, r.Method)
	line = append(line, `,"path":`...)
	line = logs.AppendString(line, r.Path)
	line = append(line, `,"status":`...)
	line = strconv.AppendInt(line, int64(r.Status), 10)
	line = append(line, `,"duration_ms":`...)
	line = strconv.AppendFloat(line, float64(r.Duration.Microseconds())/1000, 'f', 3, 64)
	line = append(line, '}')
	l.hub.Add("gateway", "gateway", "gateway", line, r.Start, l.console || r.Status >= 500)
}

// eventLine is a JSON log line of faas-local's own about a function.
func eventLine(level, msg string) []byte {
	line := []byte(`{"level":"` + level + `","message":`)
	line = logs.AppendString(line, msg)
	line = append(line, `,"source":"faas-local"}`...)
	return line
}

func randomPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := randRead(b); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", b), nil
}
