// Package httpapi is the bridge's operator endpoint: a small HTTP server,
// on loopback by default, that answers /healthz (the process is alive),
// /readyz (the store is open and every adapter is connected, with a reason
// when not) and /metrics (Prometheus). It also holds the client side of
// /healthz and /readyz, used by `bridge healthcheck [ready]` in a
// container's HEALTHCHECK.
//
// It serves no member-facing API and takes no input beyond the path.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultAddr is where the endpoint listens when CLM_HTTP_ADDR is not set:
// loopback only, so nothing is exposed unless the operator asks.
const DefaultAddr = "127.0.0.1:9464"

// DefaultCheckTimeout bounds each readiness check.
const DefaultCheckTimeout = 2 * time.Second

// Check is one readiness condition, such as "store" or "telegram". Check
// returns nil when ready, else an error whose text says why not (it is
// shown on /readyz, so it must hold no secret or token). It should return
// when ctx ends; one that does not is never run twice at once: while it is
// still running, /readyz waits for that run instead of starting another.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
	// Timeout bounds this check; zero means Config.CheckTimeout.
	Timeout time.Duration
}

// Config configures a [Server].
type Config struct {
	// Addr is host:port to listen on; empty means DefaultAddr.
	Addr string
	// Checks are run, concurrently, on every /readyz request.
	Checks []Check
	// Metrics serves /metrics; nil answers 404 there.
	Metrics http.Handler
	// CheckTimeout bounds each check that sets no Timeout of its own; zero
	// means DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Logger receives server errors; nil discards them.
	Logger *slog.Logger
}

// Server is the operator endpoint, listening from [Listen] until the
// context given to [Server.Serve] ends.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds cfg.Addr now, so a port already in use is reported at start
// rather than later, and returns the server ready to Serve.
func Listen(cfg Config) (*Server, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the HTTP endpoint on %s (set CLM_HTTP_ADDR to a free host:port): %w", addr, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           Handler(cfg),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}, nil
}

// Addr returns the address the server listens on (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers requests until ctx ends, then shuts down, letting requests
// in flight finish for up to five seconds. It returns nil after a clean
// shutdown.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("HTTP endpoint stopped: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(shutCtx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Handler returns the endpoint's routes for cfg (Addr is ignored).
func Handler(cfg Config) http.Handler {
	mux, _ := newHandler(cfg)
	return mux
}

// newHandler is Handler, also returning the readiness state so tests can
// wait for a check run to end.
func newHandler(cfg Config) (http.Handler, *readiness) {
	ready := newReadiness(cfg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /readyz", ready)
	metrics := cfg.Metrics
	if metrics == nil {
		metrics = http.NotFoundHandler()
	}
	mux.Handle("GET /metrics", metrics)
	return mux, ready
}

// readiness answers /readyz. It keeps, per check, the run in flight, so a
// check that ignores its context costs at most one goroutine however often
// /readyz is asked.
type readiness struct {
	runners []*checkRunner
}

func newReadiness(cfg Config) *readiness {
	timeout := cfg.CheckTimeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	r := &readiness{}
	for _, c := range cfg.Checks {
		t := c.Timeout
		if t <= 0 {
			t = timeout
		}
		r.runners = append(r.runners, &checkRunner{check: c, timeout: t})
	}
	return r
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	errs := make([]error, len(rd.runners))
	var wg sync.WaitGroup
	for i, c := range rd.runners {
		wg.Go(func() { errs[i] = c.result(r.Context()) })
	}
	wg.Wait()
	ready := true
	var b strings.Builder
	for i, c := range rd.runners {
		if errs[i] != nil {
			ready = false
			fmt.Fprintf(&b, "%s: not ready: %s\n", c.check.Name, oneLine(errs[i].Error()))
		} else {
			fmt.Fprintf(&b, "%s: ok\n", c.check.Name)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if ready {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ready\n"+b.String())
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, "not ready\n"+b.String())
}

// checkRunner runs one check, at most one run at a time.
type checkRunner struct {
	check   Check
	timeout time.Duration

	mu  sync.Mutex
	cur *checkRun // the run in flight; nil when none is
}

// checkRun is one run of a check.
type checkRun struct {
	started time.Time
	done    chan struct{} // closed once err is set
	err     error
}

// start returns the run in flight, starting one when none is; fresh says
// whether this call started it. The run is bounded by the check's own
// timeout, not by ctx, so a later request that waits for it is not cut
// short by the first request's client going away.
func (c *checkRunner) start(ctx context.Context) (run *checkRun, fresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		return c.cur, false
	}
	run = &checkRun{started: time.Now(), done: make(chan struct{})}
	c.cur = run
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	go func() {
		defer cancel()
		err := safeCheck(cctx, c.check)
		if err != nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			err = c.timedOut()
		}
		c.mu.Lock()
		c.cur = nil
		c.mu.Unlock()
		run.err = err
		close(run.done)
	}()
	return run, true
}

func (c *checkRunner) timedOut() error {
	return fmt.Errorf("check did not answer within %s", c.timeout)
}

// result runs the check (or joins the run already in flight) and waits for
// its answer for at most the check's timeout.
func (c *checkRunner) result(ctx context.Context) error {
	run, fresh := c.start(ctx)
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	if finished, err := awaitRun(ctx, run, timer.C); finished {
		return err
	}
	if fresh {
		return c.timedOut()
	}
	return fmt.Errorf("check still running from an earlier request (for %s; each run may take %s); it is not started again until it returns",
		time.Since(run.started).Round(time.Millisecond), c.timeout)
}

// awaitRun waits for run to finish until expired fires or ctx ends, and
// reports whether it finished and its error. A result that is already
// there wins over an expiry that is also there.
func awaitRun(ctx context.Context, run *checkRun, expired <-chan time.Time) (finished bool, err error) {
	select {
	case <-run.done:
		return true, run.err
	case <-expired:
	case <-ctx.Done():
	}
	select {
	case <-run.done:
		return true, run.err
	default:
		return false, nil
	}
}

// safeCheck runs c, turning a missing function or a panic into "not ready"
// so one broken check cannot take the endpoint down.
func safeCheck(ctx context.Context, c Check) (err error) {
	if c.Check == nil {
		return errors.New("no check function")
	}
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("check panicked")
		}
	}()
	return c.Check(ctx)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Probe GETs http://addr/healthz and returns nil when it answers 200. An
// unspecified host (":9464", "0.0.0.0:9464", "[::]:9464") is probed on
// loopback. It is what `bridge healthcheck` runs.
func Probe(ctx context.Context, addr string) error {
	return probe(ctx, addr, "/healthz")
}

// ProbeReady GETs http://addr/readyz, as Probe does /healthz, and returns
// nil when it answers 200; otherwise the error holds /readyz's first line
// of reasons. It is what `bridge healthcheck ready` runs: a load balancer
// or orchestrator sends work only to a bridge whose checks all pass.
func ProbeReady(ctx context.Context, addr string) error {
	return probe(ctx, addr, "/readyz")
}

func probe(ctx context.Context, addr, path string) error {
	if addr == "" {
		addr = DefaultAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("CLM_HTTP_ADDR %q is not host:port: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health check request: %w", err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("no bridge answers on %s (is it running, and is CLM_HTTP_ADDR the same?): %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		if why := firstReason(string(body)); why != "" {
			return fmt.Errorf("%s answered %s: %s", url, resp.Status, why)
		}
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// firstReason returns the first check /readyz reports not ready ("telegram:
// not ready: …"), or "".
func firstReason(body string) string {
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, ": not ready") {
			return oneLine(line)
		}
	}
	return ""
}
