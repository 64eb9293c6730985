package app

// What the bridge runs for its operator beside the adapters: the data
// directory's lock, the metrics, and the HTTP endpoint (/healthz, /readyz,
// /metrics); and the operator subcommands healthcheck, doctor and backup.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/doctor"
	"github.com/clmbridge/clmbridge/internal/httpapi"
	"github.com/clmbridge/clmbridge/internal/instancelock"
	"github.com/clmbridge/clmbridge/internal/metrics"
	"github.com/clmbridge/clmbridge/internal/ops"
	"github.com/clmbridge/clmbridge/platform"
	"github.com/clmbridge/clmbridge/storage"
)

// HTTPAddrOff turns the HTTP endpoint off when CLM_HTTP_ADDR is set to it
// (or set empty).
const HTTPAddrOff = "off"

// opsRuntime holds the operator's side of a running bridge.
type opsRuntime struct {
	lock    *instancelock.Lock
	metrics *metrics.Metrics
	log     *slog.Logger

	// ready holds the readiness checks once the store and the adapters
	// exist; until then /readyz answers "starting".
	ready    atomic.Pointer[[]httpapi.Check]
	stopHTTP func()
	httpDone chan error
}

// startOps takes the data directory's lock (a second bridge on the same
// directory stops here, told which process holds it) and makes the
// metrics. Call close when the bridge has stopped.
func startOps(cfg Config, logger *slog.Logger) (*opsRuntime, error) {
	lock, err := instancelock.Acquire(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	return &opsRuntime{lock: lock, metrics: metrics.New(metricsPlatforms()...), log: logger}, nil
}

// metricsPlatforms are the platform label's values: every platform, each
// but the fallback (the console, on the standard streams) reached
// through an API.
func metricsPlatforms() []metrics.Platform {
	var out []metrics.Platform
	for _, p := range platforms() {
		_, local := p.(platform.Fallback)
		out = append(out, metrics.Platform{Name: p.Name(), Remote: !local})
	}
	return out
}

// listen starts the HTTP endpoint on addr before anything else starts: a
// port in use is a configuration error that stops the bridge (exit 2),
// rather than a bridge running without its health check, whose
// `bridge healthcheck` might then ask another process. /readyz reports
// the checks of [opsRuntime.started], named by names (the store, then
// each adapter), and "starting" before it.
func (o *opsRuntime) listen(addr string, names []string) error {
	if httpOff(addr) {
		o.log.Info("HTTP endpoint off (CLM_HTTP_ADDR)")
		return nil
	}
	var checks []httpapi.Check
	for _, name := range append([]string{"store"}, names...) {
		checks = append(checks, httpapi.Check{Name: name, Check: func(ctx context.Context) error {
			ready := o.ready.Load()
			if ready == nil {
				return errors.New("starting")
			}
			for _, c := range *ready {
				if c.Name == name {
					return c.Check(ctx)
				}
			}
			return nil
		}})
	}
	srv, err := httpapi.Listen(httpapi.Config{
		Addr:    addr,
		Checks:  checks,
		Metrics: o.metrics.Handler(),
		Logger:  o.log,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	o.log.Info("HTTP endpoint listening", slog.String("addr", srv.Addr().String()),
		slog.String("paths", "/healthz /readyz /metrics"))
	ctx, cancel := context.WithCancel(context.Background())
	o.stopHTTP, o.httpDone = cancel, make(chan error, 1)
	go func() { o.httpDone <- srv.Serve(ctx) }()
	return nil
}

// started points readiness and the metrics at the running store, core
// and adapters.
func (o *opsRuntime) started(store *storage.Store, core *bridge.Bridge, adapters []Adapter) {
	o.metrics.SetSessionsFunc(func() int { return core.Stats().Sessions })
	o.metrics.SetKDFWaitingFunc(func() int { return core.Stats().KDFWaiting })
	for _, a := range adapters {
		if c, ok := a.(platform.Connected); ok {
			o.metrics.SetPlatformFunc(a.Name(), func() metrics.PlatformState {
				st := c.Connection()
				return metrics.PlatformState{Up: st.Up, LastContact: st.LastContact}
			})
		}
	}
	checks := readinessChecks(store, adapters)
	o.ready.Store(&checks)
}

// close stops the HTTP endpoint and releases the lock.
func (o *opsRuntime) close() {
	if o.stopHTTP != nil {
		o.stopHTTP()
		if err := <-o.httpDone; err != nil {
			o.log.Warn("stopping the HTTP endpoint", slog.String("error", err.Error()))
		}
	}
	if err := o.lock.Release(); err != nil {
		o.log.Warn("releasing the data directory lock", slog.String("error", err.Error()))
	}
}

func httpOff(addr string) bool {
	a := strings.TrimSpace(addr)
	return a == "" || strings.EqualFold(a, HTTPAddrOff)
}

// readinessChecks: the store answers, and each adapter is connected (the
// console is ready while it runs).
func readinessChecks(store *storage.Store, adapters []Adapter) []httpapi.Check {
	checks := []httpapi.Check{{Name: "store", Check: func(ctx context.Context) error {
		if _, err := store.Stats(ctx); err != nil {
			return errors.New("the store does not answer: " + err.Error())
		}
		return nil
	}}}
	for _, a := range adapters {
		check := func(context.Context) error { return nil }
		if c, ok := a.(platform.Connected); ok {
			check = func(context.Context) error {
				if st := c.Connection(); !st.Up {
					return errors.New(st.Problem)
				}
				return nil
			}
		}
		checks = append(checks, httpapi.Check{Name: a.Name(), Check: check})
	}
	return checks
}

// OpsCommand runs an operator subcommand of cmd/bridge if args names one:
//
//	healthcheck   GET /healthz on CLM_HTTP_ADDR; exit 0 when alive
//	healthcheck ready  GET /readyz; exit 0 when ready
//	doctor        check the configuration, store and platforms; say what to fix
//	backup PATH   write a consistent copy of the store to PATH, online
//	restore FILE  replace the store with a checked backup, bridge stopped
//
// It returns the exit status and true, or false when args[0] is not one of
// them. They read the same CLM_* variables as the bridge.
func OpsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) (int, bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case "healthcheck":
		addr, set := os.LookupEnv("CLM_HTTP_ADDR")
		if !set {
			addr = httpapi.DefaultAddr
		}
		if httpOff(addr) {
			fmt.Fprintln(stderr, "healthcheck: the HTTP endpoint is off (CLM_HTTP_ADDR is empty or off); set CLM_HTTP_ADDR to use the health check")
			return ops.ExitFail, true
		}
		switch {
		case len(args) == 1:
			return ops.Healthcheck(ctx, addr, stderr), true
		case len(args) == 2 && args[1] == "ready":
			return ops.Readycheck(ctx, addr, stderr), true
		}
		fmt.Fprintln(stderr, "usage: bridge healthcheck [ready]   (ready: ask /readyz instead of /healthz)")
		return ops.ExitUsage, true
	case "doctor":
		return ops.Doctor(ctx, doctorChecks(), stdout), true
	case "backup":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: bridge backup PATH   (PATH: a new file for the copy of the store)")
			return ops.ExitUsage, true
		}
		dir, err := dataDirFromEnv()
		if err != nil {
			fmt.Fprintf(stderr, "backup: invalid configuration: %v\n", err)
			return ops.ExitUsage, true
		}
		if os.Getenv("CLM_DATABASE_URL") != "" {
			fmt.Fprintf(stderr, "backup: the store is in PostgreSQL (CLM_DATABASE_URL), which the server's own tools back up while the bridge runs:\n"+
				"  pg_dump --format=custom --file=%s \"$CLM_DATABASE_URL\"\n"+
				"(restore with pg_restore). bridge backup copies only an SQLite store in CLM_DATA_DIR.\n", args[1])
			return ops.ExitFail, true
		}
		return ops.Backup(ctx, filepath.Join(dir, DBFileName), args[1], stdout, stderr), true
	case "restore":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: bridge restore BACKUP   (BACKUP: a file written by bridge backup; stop the bridge first)")
			return ops.ExitUsage, true
		}
		if os.Getenv("CLM_DATABASE_URL") != "" {
			fmt.Fprintln(stderr, "restore: the store is in PostgreSQL (CLM_DATABASE_URL): restore a pg_dump with pg_restore. bridge restore replaces only an SQLite store in CLM_DATA_DIR.")
			return ops.ExitFail, true
		}
		dir, err := dataDirFromEnv()
		if err != nil {
			fmt.Fprintf(stderr, "restore: invalid configuration: %v\n", err)
			return ops.ExitUsage, true
		}
		return ops.Restore(ctx, dir, filepath.Join(dir, DBFileName), args[1], time.Now(), stdout, stderr), true
	}
	return 0, false
}

// dataDirFromEnv reads CLM_DATA_DIR (and its default) alone: backup and
// restore need nothing else, and run where the platforms' token files may
// not be (a one-off container on the data volume).
func dataDirFromEnv() (string, error) {
	var cfg Config
	if err := envconfig.Process(EnvPrefix, &cfg); err != nil {
		return "", fmt.Errorf("reading the environment: %w", err)
	}
	if strings.TrimSpace(cfg.DataDir) == "" {
		return "", errors.New("CLM_DATA_DIR is empty: set it to the directory of the store, such as ./data")
	}
	return cfg.DataDir, nil
}

// doctorChecks reads the configuration and returns the checks for it.
func doctorChecks() []doctor.Check {
	cfg, err := LoadConfig()
	if err != nil {
		return []doctor.Check{{Area: "config", Run: func(context.Context) []doctor.Finding {
			return []doctor.Finding{{Level: doctor.Fail, What: "the configuration is invalid: " + err.Error(),
				Fix: "see config.example.env for every variable and its default"}}
		}}}
	}
	return doctorChecksFor(cfg)
}

// doctorChecksFor returns the checks of a valid configuration: what
// `bridge doctor` runs, and what /clm doctor runs inside the bridge. The
// platforms are asked at their configured API URLs.
func doctorChecksFor(cfg Config) []doctor.Check {
	checks := []doctor.Check{
		{Area: "config", Run: func(context.Context) []doctor.Finding { return configFindings(cfg) }},
		{Area: "store", Run: doctor.Store{DataDir: cfg.DataDir, Path: filepath.Join(cfg.DataDir, DBFileName)}.Check},
	}
	if cfg.DatabaseURL != "" {
		checks[1].Run = doctor.Postgres{URL: string(cfg.DatabaseURL)}.Check
	}
	for _, p := range cfg.enabled() {
		if d, ok := p.cfg.(platform.Doctor); ok {
			checks = append(checks, doctor.Check{Area: p.Name(), Run: d.Doctor})
		}
	}
	return checks
}

// configFindings describes a valid configuration: what will run, and
// settings an operator may want to reconsider.
func configFindings(cfg Config) []doctor.Finding {
	fs := []doctor.Finding{{Level: doctor.OK, What: "the configuration is valid"}}
	if cfg.ConsoleMode() {
		fs = append(fs, doctor.Finding{Level: doctor.Info, What: "no platform token is set: the bridge runs in console mode (stdin/stdout)",
			Fix: "set a platform's bot token, CLM_<PLATFORM>_TOKEN or (better) CLM_<PLATFORM>_TOKEN_FILE, to serve a community on it: " + platformNames()})
	} else {
		fs = append(fs, doctor.Finding{Level: doctor.OK, What: "platforms enabled: " + strings.Join(adapterNames(cfg), ", ")})
	}
	switch addr := cfg.HTTPAddr; {
	case httpOff(addr):
		fs = append(fs, doctor.Finding{Level: doctor.Warn, What: "the HTTP endpoint is off: no /healthz, /readyz or /metrics, and `bridge healthcheck` fails",
			Fix: "set CLM_HTTP_ADDR=127.0.0.1:9464"})
	default:
		host, _, err := net.SplitHostPort(addr)
		ip := net.ParseIP(host)
		switch {
		case err != nil:
			fs = append(fs, doctor.Finding{Level: doctor.Fail, What: "CLM_HTTP_ADDR " + addr + " is not host:port", Fix: "set CLM_HTTP_ADDR=127.0.0.1:9464"})
		case host == "localhost" || (ip != nil && ip.IsLoopback()):
			fs = append(fs, doctor.Finding{Level: doctor.OK, What: "the HTTP endpoint listens on loopback (" + addr + ")"})
		default:
			fs = append(fs, doctor.Finding{Level: doctor.Info, What: "the HTTP endpoint listens on " + addr + ", beyond loopback, without authentication (it shows counts and readiness, nothing private)",
				Fix: "publish it only to your monitoring network"})
		}
	}
	if admins, err := parseAdmins(cfg.Admins); err == nil && len(admins) == 0 {
		fs = append(fs, doctor.Finding{Level: doctor.Info, What: "no operator is named in CLM_ADMINS: /clm doctor in chat is refused to everyone",
			Fix: "to run it in chat, set CLM_ADMINS=<platform>:<your id>, the platform one of " + platformNames() + "; /clm whoami shows the entry"})
	} else if err == nil {
		fs = append(fs, doctor.Finding{Level: doctor.OK, What: fmt.Sprintf("%d operator(s) named in CLM_ADMINS may run /clm doctor in chat", len(admins))})
	}
	if cfg.SessionMaxAge > 24*time.Hour {
		fs = append(fs, doctor.Finding{Level: doctor.Info, What: "unlocked chats stay unlocked for up to " + cfg.SessionMaxAge.String() + " (CLM_SESSION_MAX_AGE)",
			Fix: "a shorter maximum age keeps fewer secrets in memory"})
	}
	return fs
}
