package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/cluster"
	"github.com/clmbridge/clmbridge/internal/metrics"
	"github.com/clmbridge/clmbridge/internal/relay"
	"github.com/clmbridge/clmbridge/platform"
)

// clustered reports whether cfg makes this instance one of a cluster:
// every instance whose store is in PostgreSQL joins the cluster of its
// database schema (alone, it is a cluster of one).
func (c Config) clustered() bool { return c.DatabaseURL != "" }

// membership is this instance's membership of a cluster: the cluster and the
// Router the adapters use as their core. Both are nil on SQLite, where
// the adapters use the bridge itself.
type membership struct {
	cl     *cluster.Postgres
	router *relay.Router
}

// newRouter returns the Router that will stand in front of the bridge
// when cfg makes a cluster, or nil. It is made before the bridge, whose
// Options.Publish it serves; attach gives it the bridge.
func newRouter(cfg Config, met *metrics.Metrics, logger *slog.Logger) *lateRouter {
	if !cfg.clustered() {
		return nil
	}
	return &lateRouter{opts: relay.Options{
		OnForward:  met.Forwarded,
		OnTakeOver: met.TakenOver,
		RetryWait:  retryWait(cfg),
		Logger:     logger,
	}}
}

// retryWait is how long a request whose owner timed out waits for the
// owner's members to move: a little over the TTL.
func retryWait(cfg Config) time.Duration {
	_, ttl := cfg.clusterTiming()
	return ttl + 2*time.Second
}

// lateRouter holds the Router's options until the bridge exists, and
// publishes through the Router once it does.
type lateRouter struct {
	opts   relay.Options
	router *relay.Router
}

// publish is the bridge's Options.Publish; the bridge publishes only
// while serving, after attach.
func (l *lateRouter) publish(ctx context.Context, p bridge.Published) error {
	if l.router == nil {
		return errors.New("the cluster is not joined yet")
	}
	return l.router.Publish(ctx, p)
}

// join makes the Router in front of core, opens this instance's
// membership of the cluster with it, and logs the instance's id.
func (l *lateRouter) join(ctx context.Context, cfg Config, core *bridge.Bridge, logger *slog.Logger) (*membership, error) {
	l.router = relay.New(core, l.opts)
	heartbeat, ttl := cfg.clusterTiming()
	cl, err := cluster.Open(ctx, cluster.Config{
		URL:       string(cfg.DatabaseURL),
		Heartbeat: heartbeat,
		TTL:       ttl,
		Platforms: adapterNames(cfg),
		Handle:    l.router.HandleForwarded,
		OnPointer: l.router.HandlePublished,
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("joining the cluster of the instances on CLM_DATABASE_URL: %w", err)
	}
	l.router.SetCluster(cl)
	logger.Info("cluster: joined", slog.String("instance", cl.Self()),
		slog.Duration("heartbeat", heartbeat), slog.Duration("ttl", ttl))
	return &membership{cl: cl, router: l.router}, nil
}

// core is what the adapters serve into: the Router when clustered, else
// the bridge.
func (m *membership) core(local *bridge.Bridge) bridge.Core {
	if m == nil {
		return local
	}
	return m.router
}

// pollGate is the gate of the adapters that must receive on exactly one
// instance; nil when not clustered.
func (m *membership) pollGate(name string) platform.PollGate {
	if m == nil || m.cl == nil {
		return nil
	}
	return m.cl.PollGate(name)
}

// serve tells the Router which adapters can answer a request another
// instance received, and points the live-instances gauge at the cluster.
func (m *membership) serve(adapters []Adapter, met *metrics.Metrics) {
	if m == nil {
		return
	}
	for _, a := range adapters {
		if rl, ok := a.(platform.Relay); ok {
			m.router.SetRelay(a.Name(), rl)
		}
	}
	met.SetClusterInstancesFunc(func() int {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		live, err := m.cl.Live(ctx)
		if err != nil {
			return 0
		}
		return len(live)
	})
}

// done is closed when this instance left the cluster (nil channel, never
// closed, when not clustered).
func (m *membership) done() <-chan struct{} {
	if m == nil {
		return nil
	}
	return m.cl.Done()
}

// leftError says why the instance stopped serving after it left the
// cluster without being asked to.
func (m *membership) leftError() error {
	return fmt.Errorf("this instance left the cluster (%w): its members were handed to the other instances; restart it", m.cl.Err())
}

// leave deregisters the instance, after the bridge wiped its sessions:
// its members move to the other instances, and nothing of theirs is
// handed over (their secrets die with this process's memory).
func (m *membership) leave(logger *slog.Logger) {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.cl.Close(ctx); err != nil {
		logger.Warn("leaving the cluster", slog.String("error", err.Error()))
		return
	}
	logger.Info("cluster: left; this instance's members move to the others")
}
