package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clmbridge/clmbridge/platform"
)

// PollGate returns a gate (see platform.PollGate) that lets exactly one
// live instance of the cluster at a time hold the right called name (such
// as "telegram", for the one instance that long-polls a bot). It is a
// PostgreSQL session-level advisory lock, held on a connection of its own
// (not the pool's): PostgreSQL releases it when that connection ends, so
// an instance that dies or loses the server loses the gate, and another
// one takes it.
//
// Acquire tries the lock every Heartbeat until it gets it, ctx ends or the
// instance leaves the cluster. Its lost channel closes when the gate's
// connection stops answering (it is pinged every Heartbeat) or the
// instance leaves the cluster; release unlocks and closes the connection.
// The lock's key is derived from the cluster's schema and name, so two
// clusters in one database, or two names in one cluster, never share one.
//
// A holder cut off from the server notices within a Heartbeat plus the
// ping's timeout (the TTL), while the server may free the lock sooner (an
// administrator ending the session): for that short while two instances
// may both think they hold the gate. The gate is an election, not a
// fence; Telegram itself ends the older of two long polls.
func (p *Postgres) PollGate(name string) platform.PollGate {
	h := sha256.New()
	h.Write([]byte("clm poll gate\x00"))
	h.Write([]byte(p.prefix))
	h.Write([]byte{0})
	h.Write([]byte(name))
	var sum [sha256.Size]byte
	key := int64(binary.BigEndian.Uint64(h.Sum(sum[:0])))
	return &pollGate{p: p, name: name, key: key}
}

// pollGate is one named gate of one instance.
type pollGate struct {
	p    *Postgres
	name string
	key  int64 // the advisory lock's key (its one-bigint form)
}

// appName is the application_name of the gate's connection, which shows
// in pg_stat_activity who holds or waits for which gate.
func (g *pollGate) appName() string {
	return "clm-cluster " + g.p.id + " gate " + g.name
}

// Acquire blocks until this instance holds the gate, ctx ends, or the
// instance leaves the cluster.
func (g *pollGate) Acquire(ctx context.Context) (<-chan struct{}, func(), error) {
	var conn *pgx.Conn
	warned := false
	t := time.NewTicker(g.p.cfg.Heartbeat)
	defer t.Stop()
	for {
		if err := g.p.stopped(); err != nil {
			g.close(conn)
			return nil, nil, err
		}
		if conn == nil {
			var err error
			if conn, err = g.connect(ctx); err != nil && ctx.Err() == nil && !warned {
				warned = true
				g.p.log.Warn("cannot reach PostgreSQL for a gate; retrying every heartbeat", "gate", g.name, "error", err)
			}
		}
		if conn != nil {
			var ok bool
			err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, g.key).Scan(&ok)
			switch {
			case err == nil && ok:
				return g.hold(conn)
			case err != nil:
				g.close(conn)
				conn = nil
			}
		}
		select {
		case <-ctx.Done():
			g.close(conn)
			return nil, nil, ctx.Err()
		case <-g.p.done:
		case <-t.C:
		}
	}
}

// connect opens the gate's own connection.
func (g *pollGate) connect(ctx context.Context) (*pgx.Conn, error) {
	cc := g.p.connConfig.Copy()
	cc.RuntimeParams["application_name"] = g.appName()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, dbErr("connecting for a gate", err, cc.Password)
	}
	return conn, nil
}

// close closes conn (nil: nothing), which releases any lock it holds.
func (g *pollGate) close(conn *pgx.Conn) {
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.p.cfg.TTL)
	defer cancel()
	_ = conn.Close(ctx)
}

// hold watches the gate's connection while this instance holds the gate.
func (g *pollGate) hold(conn *pgx.Conn) (<-chan struct{}, func(), error) {
	lost := make(chan struct{})
	stop := make(chan struct{})
	done := make(chan struct{})
	g.p.log.Info("holding a gate", "gate", g.name)
	go func() {
		defer close(done)
		t := time.NewTicker(g.p.cfg.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-stop:
				ctx, cancel := context.WithTimeout(context.Background(), g.p.cfg.TTL)
				_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, g.key)
				cancel()
				g.close(conn)
				return
			case <-g.p.done:
				g.p.log.Warn("left the cluster; giving up a gate", "gate", g.name)
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), g.p.cfg.TTL)
				err := conn.Ping(ctx)
				cancel()
				if err == nil {
					continue
				}
				g.p.log.Warn("lost a gate's connection; giving the gate up", "gate", g.name, "error", err)
			}
			close(lost)
			g.close(conn) // the server drops the lock with the session
			return
		}
	}()
	var once sync.Once
	release := func() {
		once.Do(func() { close(stop) })
		<-done
	}
	return lost, release, nil
}
