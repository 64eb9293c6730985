// Package httpapi is the bridge's operator endpoint: a small HTTP server,
// on loopback by default, that answers /healthz (the process is alive),
// /readyz (the store is open and every adapter is connected, with a reason
// when not) and /metrics (Prometheus). It also holds the client side of
// /healthz, used by `bridge healthcheck` in a container's HEALTHCHECK.
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
// shown on /readyz, so it must hold no secret or token).
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Config configures a [Server].
type Config struct {
	// Addr is host:port to listen on; empty means DefaultAddr.
	Addr string
	// Checks are run, concurrently, on every /readyz request.
	Checks []Check
	// Metrics serves /metrics; nil answers 404 there.
	Metrics http.Handler
	// CheckTimeout bounds each check; zero means DefaultCheckTimeout.
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

// Close stops the server at once (for a Server that was never served).
func (s *Server) Close() error {
	err := s.srv.Close()
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	return err
}

// Handler returns the endpoint's routes for cfg (Addr is ignored).
func Handler(cfg Config) http.Handler {
	timeout := cfg.CheckTimeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	checks := append([]Check(nil), cfg.Checks...)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		results := runChecks(r.Context(), checks, timeout)
		ready := true
		var b strings.Builder
		for _, res := range results {
			if res.err != nil {
				ready = false
				fmt.Fprintf(&b, "%s: not ready: %s\n", res.name, oneLine(res.err.Error()))
			} else {
				fmt.Fprintf(&b, "%s: ok\n", res.name)
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
	})
	metrics := cfg.Metrics
	if metrics == nil {
		metrics = http.NotFoundHandler()
	}
	mux.Handle("GET /metrics", metrics)
	return mux
}

type checkResult struct {
	name string
	err  error
}

// runChecks runs every check concurrently, each bounded by timeout, and
// returns the results in the checks' order. A check that does not return
// in time counts as not ready.
func runChecks(ctx context.Context, checks []Check, timeout time.Duration) []checkResult {
	results := make([]checkResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		results[i].name = c.Name
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- safeCheck(cctx, c) }()
			select {
			case err := <-done:
				results[i].err = err
			case <-cctx.Done():
				results[i].err = fmt.Errorf("check did not answer within %s", timeout)
			}
		}()
	}
	wg.Wait()
	return results
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
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
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
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
