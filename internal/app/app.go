package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/version"
	"github.com/clmbridge/clmbridge/platform"
	"github.com/clmbridge/clmbridge/storage"
)

// DBFileName is the store's file name inside the data directory.
const DBFileName = "bridge.db"

// Adapter is one platform connection (see platform.Adapter): it serves
// requests into the core until ctx is done (then returns nil) or it cannot
// go on (an error). The console adapter also returns nil at the end of its
// input.
type Adapter = platform.Adapter

// Options change how Run builds things, beyond what the environment
// configures. The zero value is production's.
type Options struct {
	// Storage options for the store; tests pass cheap Argon2id parameters
	// (storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}).
	Storage storage.Options
	// Now is the bridge's clock (default time.Now).
	Now func() time.Time
	// OnStart, if set, is called with the core once it is built and before
	// the adapters run (tests use it to look inside; metrics can hook in).
	OnStart func(*bridge.Bridge)
}

// openStore opens the store cfg selects: PostgreSQL when
// CLM_DATABASE_URL is set, else SQLite in CLM_DATA_DIR. Errors show the
// URL without its password.
func openStore(ctx context.Context, cfg Config, opts storage.Options) (*storage.Store, error) {
	if cfg.DatabaseURL != "" {
		s, err := storage.OpenPostgres(ctx, string(cfg.DatabaseURL), opts)
		if err != nil {
			return nil, fmt.Errorf("opening the store in PostgreSQL at %s (CLM_DATABASE_URL): %w", cfg.DatabaseURL, err)
		}
		return s, nil
	}
	dbPath := filepath.Join(cfg.DataDir, DBFileName)
	s, err := storage.Open(ctx, dbPath, opts)
	if err != nil {
		return nil, fmt.Errorf("opening the store %s: %w", dbPath, err)
	}
	return s, nil
}

// Streams are the process's standard streams: the console adapter reads
// Stdin and answers on Stdout; logs and diagnostics go to Stderr.
type Streams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Run runs the bridge configured by cfg until ctx is done or the adapters
// end (the console ends at end of input), then shuts down in order: the
// adapters stop taking requests, requests in flight finish, sessions are
// wiped, the store is closed.
func Run(ctx context.Context, cfg Config, stdin io.Reader, stdout, stderr io.Writer) error {
	return RunWith(ctx, cfg, Options{}, stdin, stdout, stderr)
}

// RunWith is Run with Options.
func RunWith(ctx context.Context, cfg Config, opts Options, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	logger := NewLogger(cfg, stderr)
	build := version.Get()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating the data directory %s (CLM_DATA_DIR): %w", cfg.DataDir, err)
	}
	// One bridge per data directory (see ops.go); released after the store
	// is closed.
	ops, err := startOps(cfg, logger)
	if err != nil {
		return err
	}
	defer ops.close()
	ops.metrics.SetBuildInfo(build.Version, build.Revision, build.GoVersion)
	if err := ops.listen(cfg.HTTPAddr, adapterNames(cfg)); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, opts.Storage)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the store: %w", cerr)
		}
	}()

	ratePerMinute := cfg.RatePerMinute
	if ratePerMinute == 0 {
		ratePerMinute = -1 // 0 in the environment means no limit
	}
	isAdmin, err := isAdminFunc(cfg.Admins)
	if err != nil { // Validate checked it already
		return err
	}
	late := newRouter(cfg, ops.metrics, logger)
	var publish func(context.Context, bridge.Published) error
	if late != nil {
		publish = late.publish
	}
	core := bridge.New(store, bridge.Options{
		SessionIdle:   cfg.SessionIdle,
		SessionMaxAge: cfg.SessionMaxAge,
		RateBurst:     cfg.RateBurst,
		RatePerMinute: ratePerMinute,
		Now:           opts.Now,
		OnEvent:       ops.metrics.OnBridgeEvent,
		IsAdmin:       isAdmin,
		Doctor:        doctorFunc(cfg, DoctorTimeout),
		Publish:       publish,
	}, logger)
	var mem *membership
	if late != nil {
		if mem, err = late.join(ctx, cfg, core, logger); err != nil {
			core.Close()
			return err
		}
	}
	// The bridge's Close waits for requests in flight and wipes every
	// session; it runs after the adapters have stopped (below) and before
	// the instance leaves its cluster and the store closes, so no request
	// reaches a bridge that forgot its sessions while others still send
	// it the members it owns.
	defer func() {
		core.Close()
		mem.leave(logger)
	}()

	adapters, err := buildAdapters(cfg, mem.core(core), mem.pollGate, Streams{Stdin: stdin, Stdout: stdout, Stderr: stderr}, logger, ops.metrics)
	if err != nil { // Validate checked the adapters' settings already
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	mem.serve(adapters, ops.metrics)
	if opts.OnStart != nil {
		opts.OnStart(core)
	}
	ops.started(store, core, adapters)
	logger.Info("bridge running", slog.String("version", build.Version), slog.String("revision", build.Revision),
		slog.String("go_version", build.GoVersion), slog.String("data_dir", cfg.DataDir), slog.Any("adapters", adapterNames(cfg)))
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	left := make(chan struct{})
	go func() {
		select {
		case <-mem.done():
			close(left)
			stopRun()
		case <-runCtx.Done():
		}
	}()
	err = runAdapters(runCtx, adapters, logger)
	select {
	case <-left:
		// Its members are someone else's now: serving them on would split
		// their sessions over two instances.
		err = errors.Join(err, mem.leftError())
		logger.Error("bridge stopping", slog.String("error", mem.leftError().Error()))
	default:
	}
	logger.Info("bridge stopping: wiping sessions and closing the store")
	return err
}

// runAdapters runs every adapter until ctx is done or one of them returns;
// then it stops the others and waits for all. It returns the first error.
func runAdapters(ctx context.Context, adapters []Adapter, logger *slog.Logger) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(adapters))
	for _, a := range adapters {
		go func() {
			err := a.Run(runCtx)
			results <- result{a.Name(), err}
		}()
	}
	var errs []error
	for range adapters {
		r := <-results
		cancel() // one ended: stop the rest
		if r.err != nil && !errors.Is(r.err, context.Canceled) {
			logger.Error("adapter failed", slog.String("adapter", r.name), slog.String("error", r.err.Error()))
			errs = append(errs, fmt.Errorf("%s: %w", r.name, r.err))
		}
	}
	return errors.Join(errs...)
}
