// Package supervisor runs each function as local processes (replicas), one
// per free 127.0.0.1 port. It restarts a replica that dies, with exponential
// backoff, puts a replica in rotation only while its /_/ready answers 200,
// picks replicas round robin, scales up and down, and stops replicas the way
// a container runtime would: SIGTERM, a drain period, then SIGKILL.
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openfaas/faas-provider/types"
)

// MaxReplicas bounds how many processes one function may run.
const MaxReplicas = 10

// Timing of restarts and readiness probes.
const (
	backoffMin      = 200 * time.Millisecond
	backoffMax      = 10 * time.Second
	backoffReset    = 30 * time.Second
	probeStartEvery = 5 * time.Millisecond
	probeStartMax   = 50 * time.Millisecond
	probeEvery      = 2 * time.Second
	probeRetryEvery = 250 * time.Millisecond
	probeTimeout    = 2 * time.Second
)

// Output gives a replica's stdout and stderr somewhere to go.
type Output interface {
	// Writer receives the lines fn's instance writes to stream.
	Writer(fn, instance, stream string) io.Writer
}

// Spec describes how to run one function.
type Spec struct {
	// Name is the function's name.
	Name string
	// Binary is the executable.
	Binary string
	// Dir is the working directory of its processes.
	Dir string
	// Env is its environment; the supervisor appends upstream_url.
	Env []string
	// StopTimeout is how long a replica may drain after SIGTERM.
	StopTimeout time.Duration
	// Status is what /system/functions reports about the function; the
	// supervisor fills in replicas, available replicas and invocations.
	Status types.FunctionStatus
}

// Options configure a Supervisor.
type Options struct {
	// Output receives the processes' output.
	Output Output
	// Event, when set, is told about starts, exits and readiness changes.
	Event func(fn, instance, level, message string)
}

// Supervisor runs the functions of one faas-local.
type Supervisor struct {
	opts  Options
	ctx   context.Context
	stop  context.CancelFunc
	mu    sync.RWMutex
	funcs map[string]*Function
	names []string
	probe *http.Client
}

// New returns an empty Supervisor.
func New(opts Options) *Supervisor {
	ctx, cancel := context.WithCancel(context.Background())
	if opts.Event == nil {
		opts.Event = func(string, string, string, string) {}
	}
	return &Supervisor{
		opts: opts, ctx: ctx, stop: cancel, funcs: map[string]*Function{},
		probe: &http.Client{
			Timeout: probeTimeout,
			Transport: &http.Transport{
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     time.Minute,
				DisableCompression:  true,
			},
		},
	}
}

// Add registers a function; it runs no process until Scale.
func (s *Supervisor) Add(spec Spec) *Function {
	f := &Function{sup: s, spec: spec, createdAt: time.Now()}
	empty := []string{}
	f.avail.Store(&empty)
	s.mu.Lock()
	s.funcs[spec.Name] = f
	s.names = append(s.names, spec.Name)
	sort.Strings(s.names)
	s.mu.Unlock()
	return f
}

// Lookup returns the function called name.
func (s *Supervisor) Lookup(name string) (*Function, bool) {
	s.mu.RLock()
	f, ok := s.funcs[name]
	s.mu.RUnlock()
	return f, ok
}

// Functions returns every function, sorted by name.
func (s *Supervisor) Functions() []*Function {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Function, 0, len(s.names))
	for _, n := range s.names {
		out = append(out, s.funcs[n])
	}
	return out
}

// Stop stops every replica of every function, each given its drain period,
// all at once, and returns when they have exited or ctx ends.
func (s *Supervisor) Stop(ctx context.Context) {
	var wg sync.WaitGroup
	for _, f := range s.Functions() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.stopAll(ctx)
		}()
	}
	wg.Wait()
	s.stop()
}

// Function is one function's set of replicas.
type Function struct {
	sup         *Supervisor
	spec        Spec
	createdAt   time.Time
	mu          sync.Mutex
	replicas    []*replica
	avail       atomic.Pointer[[]string]
	rr          atomic.Uint64
	invocations atomic.Uint64
}

// Name is the function's name.
func (f *Function) Name() string { return f.spec.Name }

// Pick returns the address (host:port) of the next available replica,
// round robin; ok is false when none is available.
func (f *Function) Pick() (addr string, ok bool) {
	list := *f.avail.Load()
	switch len(list) {
	case 0:
		return "", false
	case 1:
		return list[0], true
	}
	return list[(f.rr.Add(1)-1)%uint64(len(list))], true
}

// CountInvocation counts one call of the function.
func (f *Function) CountInvocation() { f.invocations.Add(1) }

// Status reports the function as OpenFaaS's /system/functions does.
func (f *Function) Status() types.FunctionStatus {
	st := f.spec.Status
	f.mu.Lock()
	st.Replicas = uint64(len(f.replicas))
	f.mu.Unlock()
	st.AvailableReplicas = uint64(len(*f.avail.Load()))
	st.InvocationCount = float64(f.invocations.Load())
	st.CreatedAt = f.createdAt
	return st
}

// Instance describes one replica.
type Instance struct {
	// Name is <function>-<n>.
	Name string
	// PID is the process id of its current process (0 between restarts).
	PID int
	// Addr is the host:port its current process listens on.
	Addr string
	// Ready is whether it is in rotation.
	Ready bool
	// Restarts counts how often its process was started again.
	Restarts int
}

// Instances describes the replicas.
func (f *Function) Instances() []Instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Instance, 0, len(f.replicas))
	for _, r := range f.replicas {
		r.mu.Lock()
		out = append(out, Instance{Name: r.instance, PID: r.pid, Addr: r.addr, Ready: r.ready, Restarts: r.restarts})
		r.mu.Unlock()
	}
	return out
}

// Scale runs n replicas: it starts new ones (not yet in rotation) or stops
// the newest ones (taken out of rotation at once, then drained).
func (f *Function) Scale(n int) error {
	if n < 0 || n > MaxReplicas {
		return fmt.Errorf("faas-local runs 0 to %d replicas of a function, not %d", MaxReplicas, n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sup.ctx.Err() != nil {
		return errors.New("faas-local is stopping")
	}
	for len(f.replicas) < n {
		ctx, cancel := context.WithCancel(f.sup.ctx)
		r := &replica{
			fn: f, instance: f.spec.Name + "-" + strconv.Itoa(len(f.replicas)+1),
			cancel: cancel, done: make(chan struct{}), firstReady: make(chan struct{}),
		}
		f.replicas = append(f.replicas, r)
		go r.run(ctx)
	}
	for len(f.replicas) > n {
		r := f.replicas[len(f.replicas)-1]
		f.replicas = f.replicas[:len(f.replicas)-1]
		r.mu.Lock()
		r.ready = false
		r.mu.Unlock()
		r.cancel()
	}
	f.refreshLocked()
	return nil
}

// WaitReady waits until every current replica has been ready once, and
// returns the longest time one took from its process start to ready.
func (f *Function) WaitReady(ctx context.Context) (time.Duration, error) {
	f.mu.Lock()
	rs := append([]*replica(nil), f.replicas...)
	f.mu.Unlock()
	var longest time.Duration
	for _, r := range rs {
		select {
		case <-r.firstReady:
			r.mu.Lock()
			if r.readyIn > longest {
				longest = r.readyIn
			}
			r.mu.Unlock()
		case <-r.done:
			return longest, fmt.Errorf("%s stopped before it was ready", r.instance)
		case <-ctx.Done():
			return longest, fmt.Errorf("%s is not ready: %w", r.instance, ctx.Err())
		}
	}
	return longest, nil
}

func (f *Function) stopAll(ctx context.Context) {
	f.mu.Lock()
	rs := f.replicas
	f.replicas = nil
	for _, r := range rs {
		r.mu.Lock()
		r.ready = false
		r.mu.Unlock()
		r.cancel()
	}
	f.refreshLocked()
	f.mu.Unlock()
	for _, r := range rs {
		select {
		case <-r.done:
		case <-ctx.Done():
			return
		}
	}
}

// refresh recomputes the rotation from the replicas' readiness.
func (f *Function) refresh() {
	f.mu.Lock()
	f.refreshLocked()
	f.mu.Unlock()
}

func (f *Function) refreshLocked() {
	list := make([]string, 0, len(f.replicas))
	for _, r := range f.replicas {
		r.mu.Lock()
		if r.ready {
			list = append(list, r.addr)
		}
		r.mu.Unlock()
	}
	f.avail.Store(&list)
}

type replica struct {
	fn         *Function
	instance   string
	cancel     context.CancelFunc
	done       chan struct{}
	firstReady chan struct{}
	readyOnce  sync.Once

	mu       sync.Mutex
	addr     string
	pid      int
	ready    bool
	readyIn  time.Duration
	restarts int
}

func (r *replica) event(level, format string, args ...any) {
	r.fn.sup.opts.Event(r.fn.spec.Name, r.instance, level, fmt.Sprintf(format, args...))
}

// run keeps a process of the replica running until ctx ends.
func (r *replica) run(ctx context.Context) {
	defer close(r.done)
	backoff := backoffMin
	for {
		started := time.Now()
		err := r.once(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > backoffReset {
			backoff = backoffMin
		}
		r.event("error", "process exited (%v); restarting in %s", err, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, backoffMax)
		r.mu.Lock()
		r.restarts++
		r.mu.Unlock()
	}
}

// once runs one process until it exits or ctx ends.
func (r *replica) once(ctx context.Context) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	spec := r.fn.spec
	out := r.fn.sup.opts.Output
	cmd := exec.Command(spec.Binary)
	cmd.Dir = spec.Dir
	cmd.Env = append(append([]string(nil), spec.Env...), "upstream_url=http://"+addr)
	cmd.Stdout = out.Writer(spec.Name, r.instance, "stdout")
	cmd.Stderr = out.Writer(spec.Name, r.instance, "stderr")
	// Own process group: a Ctrl-C in the terminal reaches faas-local only,
	// which then drains the functions itself. Should faas-local die, the
	// kernel tells its functions to stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.WaitDelay = time.Second
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	r.mu.Lock()
	r.addr, r.pid = addr, cmd.Process.Pid
	r.mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	probeCtx, stopProbe := context.WithCancel(ctx)
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		r.probe(probeCtx, addr, started)
	}()
	defer func() {
		stopProbe()
		<-probed
		r.setReady(false)
		r.mu.Lock()
		r.pid = 0
		r.mu.Unlock()
	}()

	select {
	case err := <-exited:
		if err == nil {
			err = errors.New("exit status 0")
		}
		return err
	case <-ctx.Done():
		r.setReady(false)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		timeout := spec.StopTimeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		select {
		case <-exited:
		case <-time.After(timeout):
			r.event("warn", "did not stop within %s of SIGTERM; killing it", timeout)
			_ = cmd.Process.Kill()
			<-exited
		}
		return ctx.Err()
	}
}

// probe polls /_/ready: quickly until the first answer, then periodically.
func (r *replica) probe(ctx context.Context, addr string, started time.Time) {
	url := "http://" + addr + "/_/ready"
	every := probeStartEvery
	everReady := false
	for {
		ok := r.check(ctx, url)
		if ctx.Err() != nil {
			return
		}
		switch {
		case ok && !everReady:
			everReady = true
			r.mu.Lock()
			r.readyIn = time.Since(started)
			r.mu.Unlock()
			r.setReady(true)
			r.readyOnce.Do(func() { close(r.firstReady) })
			every = probeEvery
		case ok:
			if r.setReady(true) {
				r.event("info", "ready again; back in rotation")
			}
			every = probeEvery
		case everReady:
			if r.setReady(false) {
				r.event("warn", "readiness check failed; out of rotation")
			}
			every = probeRetryEvery
		default:
			every = min(every*2, probeStartMax)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (r *replica) check(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	res, err := r.fn.sup.probe.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// setReady changes the replica's readiness and reports whether it changed.
func (r *replica) setReady(ready bool) bool {
	r.mu.Lock()
	changed := r.ready != ready
	r.ready = ready
	r.mu.Unlock()
	if changed {
		r.fn.refresh()
	}
	return changed
}

// freeAddr returns a 127.0.0.1 address with a port free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}
