package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/nacl/box"
)

// Defaults for Config's zero values.
const (
	DefaultHeartbeat      = time.Second
	DefaultTTL            = 5 * time.Second
	DefaultForwardTimeout = 5 * time.Second
)

// notifyMax is the largest NOTIFY payload we send. PostgreSQL refuses
// payloads of 8000 bytes or more (NOTIFY, "Notes"); anything larger goes
// in a cluster_payloads row and the notification carries its id.
const notifyMax = 7900

// payloadTTL is how long an unread payload row (a request whose target
// died, a published pointer every instance has read) is kept.
const payloadTTL = time.Minute

// migrateLock is the first key of the advisory lock held while migrating
// the cluster's tables ("CLMc"); the store's is "CLMb", so the two never
// wait for each other.
const migrateLock = 0x434c4d63

//go:embed migrations/*.sql
var migrationFS embed.FS

// Config is how an instance joins the cluster.
type Config struct {
	// URL is the PostgreSQL database (CLM_DATABASE_URL); its search_path
	// selects the schema, and one schema is one cluster.
	URL string
	// Heartbeat is how often the instance says it is alive, and TTL how
	// long after its last heartbeat it still counts as live. TTL must be
	// at least twice Heartbeat.
	Heartbeat, TTL time.Duration
	// ForwardTimeout bounds a forwarded request's round trip.
	ForwardTimeout time.Duration
	// Platforms names the platforms this instance serves (its adapters).
	// A member ("<platform>:<id>") is owned only by an instance serving
	// their platform, since the owner answers them through it. Empty: all.
	Platforms []string
	// Handle answers requests forwarded to this instance; OnPointer
	// receives every published pointer. Either may be nil (requests are
	// then refused, pointers ignored).
	Handle    Handler
	OnPointer PointerHandler
	// Logger gets the instance's life events (never a payload).
	Logger *slog.Logger
}

// Postgres is one instance's membership of the cluster, on PostgreSQL:
// a heartbeat row, ownership rows, and a dedicated connection that
// LISTENs for the requests sent to it and the pointers published to all.
type Postgres struct {
	cfg    Config
	id     string
	log    *slog.Logger
	pool   *pgxpool.Pool
	listen *pgx.Conn
	// connConfig opens the connections of gates (see PollGate).
	connConfig *pgx.ConnConfig
	prefix     string // notification channel prefix, one per schema
	pub        *[32]byte
	priv       *[32]byte

	ctx    context.Context // cancelled when the instance leaves
	cancel context.CancelFunc
	wg     sync.WaitGroup // the loops and the requests being served

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	waiting map[string]chan envelope
	keys    map[string]*[32]byte // peers' box keys, by instance id
	err     error
	done    chan struct{}
}

var _ Cluster = (*Postgres)(nil)

// envelope is a notification's payload, JSON-encoded.
type envelope struct {
	T      string `json:"t"`           // "req", "ans" or "ptr"
	ID     string `json:"i,omitempty"` // request id, echoed in the answer
	From   string `json:"f"`           // sending instance
	Secret bool   `json:"s,omitempty"` // the request carries a secret
	Body   []byte `json:"b,omitempty"` // sealed request, answer or pointer
	Row    int64  `json:"r,omitempty"` // cluster_payloads id holding Body
	Err    string `json:"e,omitempty"` // the handler's failure
}

// Open joins the cluster: it migrates the cluster's tables, starts
// listening, registers this instance under a fresh random id with a fresh
// key pair, and starts its heartbeat. Close leaves.
func Open(ctx context.Context, cfg Config) (*Postgres, error) {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.ForwardTimeout <= 0 {
		cfg.ForwardTimeout = DefaultForwardTimeout
	}
	if cfg.TTL < 2*cfg.Heartbeat {
		return nil, fmt.Errorf("cluster: the time-to-live (%s) must be at least twice the heartbeat (%s); raise it", cfg.TTL, cfg.Heartbeat)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("cluster: drawing an instance id: %w", err)
	}
	id := hex.EncodeToString(rnd[:])
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, errors.New("cluster: the database URL does not parse; check its form (postgres://user:password@host:5432/database)")
	}
	// The application name lets an operator (and the tests) see which
	// connections are whose in pg_stat_activity.
	pcfg.ConnConfig.RuntimeParams["application_name"] = "clm-cluster " + id
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cluster: generating this run's key: %w", err)
	}
	p := &Postgres{
		cfg: cfg, id: id, log: cfg.Logger.With("instance", id), pub: pub, priv: priv,
		waiting: map[string]chan envelope{}, keys: map[string]*[32]byte{},
		done: make(chan struct{}), connConfig: pcfg.ConnConfig.Copy(),
	}
	if p.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return nil, dbErr("connecting", err, pcfg.ConnConfig.Password)
	}
	if err := p.setUp(ctx, pcfg.ConnConfig); err != nil {
		p.pool.Close()
		if p.listen != nil {
			_ = p.listen.Close(context.WithoutCancel(ctx))
		}
		return nil, dbErr("joining the cluster", err, pcfg.ConnConfig.Password)
	}
	p.ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	p.wg.Add(2)
	go p.listenLoop()
	go p.heartbeatLoop()
	p.log.Info("joined the cluster")
	return p, nil
}

// setUp migrates, listens and registers, in that order, so no request
// sent to this instance is missed.
func (p *Postgres) setUp(ctx context.Context, cc *pgx.ConnConfig) error {
	if err := migrate(ctx, p.pool); err != nil {
		return err
	}
	var schema string
	if err := p.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	// NOTIFY channels are database-wide; prefixing them with a hash of
	// the schema keeps clusters (and parallel tests) in one database apart.
	h := sha256.Sum256([]byte(schema))
	p.prefix = "clm_" + hex.EncodeToString(h[:6])
	var err error
	if p.listen, err = pgx.ConnectConfig(ctx, cc); err != nil {
		return err
	}
	for _, ch := range []string{p.channel(p.id), p.broadcast()} {
		if _, err := p.listen.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	platforms := p.cfg.Platforms
	if platforms == nil {
		platforms = []string{}
	}
	_, err = p.pool.Exec(ctx, `INSERT INTO cluster_instances (id, box_key, platforms) VALUES ($1, $2, $3)`, p.id, p.pub[:], platforms)
	return err
}

// migrate applies the embedded migrations newer than cluster_schema_version,
// each in one transaction, under an advisory lock so instances starting
// together migrate once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, migrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS cluster_schema_version (version integer NOT NULL)`); err != nil {
			return fmt.Errorf("creating cluster_schema_version (may this user create tables?): %w", err)
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM cluster_schema_version`).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO cluster_schema_version (version) VALUES (0)`)
		}
		if err != nil {
			return err
		}
		for _, name := range names {
			n, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(name, "migrations/"), "_", 2)[0])
			if err != nil {
				return fmt.Errorf("migration %s has no version number", name)
			}
			if n <= v {
				continue
			}
			sql, err := migrationFS.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return fmt.Errorf("applying %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE cluster_schema_version SET version = $1`, n); err != nil {
				return err
			}
			v = n
		}
		return nil
	})
}

// dbErr wraps a database error, cutting the password out should the
// driver echo it.
func dbErr(what string, err error, password string) error {
	msg := err.Error()
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "xxxxx")
	}
	return fmt.Errorf("cluster: %s: %s; check CLM_DATABASE_URL and that the server is up", what, msg)
}

func (p *Postgres) channel(id string) string { return p.prefix + "_i_" + id }
func (p *Postgres) broadcast() string        { return p.prefix + "_all" }

// ttlSecs is the time-to-live as the live-instance queries take it.
func (p *Postgres) ttlSecs() float64 { return p.cfg.TTL.Seconds() }

// Self returns this instance's id.
func (p *Postgres) Self() string { return p.id }

// Done is closed when this instance has left the cluster.
func (p *Postgres) Done() <-chan struct{} { return p.done }

// Err says why the instance left the cluster; nil while it is in.
func (p *Postgres) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// leave marks the instance as out of the cluster (once) with why.
func (p *Postgres) leave(why error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	p.err = why
	close(p.done)
	if p.cancel != nil {
		p.cancel()
	}
}

// abandon leaves the cluster after a failure and, when the server can
// still be reached, deletes this instance's row at once, so its members
// move now rather than when its heartbeat expires. It runs on one of the
// loops, before Close closes the pool.
func (p *Postgres) abandon(why error) {
	p.leave(why)
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.TTL)
	defer cancel()
	if _, err := p.pool.Exec(ctx, `DELETE FROM cluster_instances WHERE id = $1`, p.id); err != nil {
		p.log.Warn("could not deregister; others take over when the heartbeat expires", "error", err)
	}
}

// Close deregisters the instance (its members are taken over, and told to
// unlock again, by the live ones) and closes its connections. Nothing
// secret is handed to anyone.
// Closing twice returns the first call's result.
func (p *Postgres) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.leave(fmt.Errorf("%w: closed", ErrStopped))
		p.wg.Wait()
		p.closeErr = p.listen.Close(ctx)
		if _, err := p.pool.Exec(ctx, `DELETE FROM cluster_instances WHERE id = $1`, p.id); err != nil && p.closeErr == nil {
			p.closeErr = dbErr("deregistering", err, "")
		}
		p.pool.Close()
		p.log.Info("left the cluster")
	})
	return p.closeErr
}

func (p *Postgres) stopped() error {
	select {
	case <-p.done:
		return p.Err()
	default:
		return nil
	}
}

// heartbeatLoop refreshes last_seen every Heartbeat. An instance whose
// row is no longer fresh when it comes to refresh it (it stalled past the
// TTL) may already have lost its members, so it leaves rather than serve
// them twice; so does one that cannot reach the server for a whole TTL.
// Each beat also sweeps instances long dead and stale payload rows.
func (p *Postgres) heartbeatLoop() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.Heartbeat)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(p.ctx, p.cfg.TTL)
		tag, err := p.pool.Exec(ctx, `UPDATE cluster_instances SET last_seen = now()
			WHERE id = $1 AND last_seen > now() - make_interval(secs => $2::float8)`, p.id, p.ttlSecs())
		if err == nil && tag.RowsAffected() == 0 {
			cancel()
			p.log.Warn("heartbeat expired; leaving the cluster")
			p.abandon(fmt.Errorf("%w: its heartbeat expired (was it paused?)", ErrStopped))
			return
		}
		if err == nil {
			lastOK = time.Now()
			_, _ = p.pool.Exec(ctx, `DELETE FROM cluster_instances WHERE last_seen < now() - make_interval(secs => $1::float8)`, 10*p.ttlSecs())
			_, _ = p.pool.Exec(ctx, `DELETE FROM cluster_payloads WHERE created < now() - make_interval(secs => $1::float8)`, payloadTTL.Seconds())
		}
		cancel()
		if err != nil && p.ctx.Err() == nil && time.Since(lastOK) >= p.cfg.TTL {
			p.log.Warn("no heartbeat for a whole time-to-live; leaving the cluster", "error", err)
			p.abandon(fmt.Errorf("%w: it could not reach PostgreSQL for %s", ErrStopped, p.cfg.TTL))
			return
		}
	}
}

// listenLoop reads this instance's notifications. When its connection is
// lost it leaves the cluster: it may have missed requests, and its heartbeat
// stops, so its members move to a live instance.
func (p *Postgres) listenLoop() {
	defer p.wg.Done()
	for {
		n, err := p.listen.WaitForNotification(p.ctx)
		if err != nil {
			if p.ctx.Err() == nil {
				p.log.Warn("lost the listening connection; leaving the cluster", "error", err)
				p.abandon(fmt.Errorf("%w: it lost its connection to PostgreSQL", ErrStopped))
			}
			return
		}
		var env envelope
		if err := json.Unmarshal([]byte(n.Payload), &env); err != nil {
			p.log.Warn("ignored a notification that does not parse", "channel", n.Channel)
			continue
		}
		switch env.T {
		case "ans":
			p.mu.Lock()
			ch := p.waiting[env.ID]
			delete(p.waiting, env.ID)
			p.mu.Unlock()
			if ch != nil {
				ch <- env // buffered: never blocks
			}
		case "req":
			p.wg.Add(1)
			go p.serve(env)
		case "ptr":
			p.wg.Add(1)
			go p.receivePointer(env)
		}
	}
}

// serves is true for an instance i that may own a member of a platform:
// live, and serving that platform ("" matches every instance). $1 is the
// TTL in seconds, $2 the platform.
const serves = `i.last_seen > now() - make_interval(secs => $1::float8)
	AND ($2::text = '' OR cardinality(i.platforms) = 0 OR $2::text = ANY(i.platforms))`

// Live returns the ids of the live instances, sorted.
func (p *Postgres) Live(ctx context.Context) ([]string, error) {
	return p.serving(ctx, "")
}

// serving returns the ids of the live instances that serve platform
// ("": all), sorted.
func (p *Postgres) serving(ctx context.Context, platform string) ([]string, error) {
	rows, err := p.pool.Query(ctx, `SELECT i.id FROM cluster_instances i WHERE `+serves+` ORDER BY i.id`, p.ttlSecs(), platform)
	if err != nil {
		return nil, dbErr("listing live instances", err, "")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, dbErr("listing live instances", err, "")
	}
	return ids, nil
}

// Owner returns member's owner. A recorded owner that is live and serves
// the member's platform stays the owner (so an instance joining takes
// over nobody); otherwise the member goes to the rendezvous winner among
// the live instances serving their platform, recorded in one statement
// that only replaces an owner that is not such an instance, so two
// instances deciding at once agree.
func (p *Postgres) Owner(ctx context.Context, member string) (string, error) {
	if err := p.stopped(); err != nil {
		return "", err
	}
	platform, _, _ := strings.Cut(member, ":")
	for range 3 {
		owner, live, err := p.recordedOwner(ctx, member, platform)
		if err != nil {
			return "", err
		}
		if live {
			return owner, nil
		}
		ids, err := p.serving(ctx, platform)
		if err != nil {
			return "", err
		}
		winner := rendezvous(ids, member)
		if winner == "" {
			return "", ErrNoLiveInstance
		}
		err = p.pool.QueryRow(ctx, `INSERT INTO cluster_owners AS o (member, instance) VALUES ($3, $4)
			ON CONFLICT (member) DO UPDATE SET instance = excluded.instance, moved = true, since = now()
			WHERE NOT EXISTS (SELECT 1 FROM cluster_instances i WHERE i.id = o.instance AND `+serves+`)
			RETURNING instance`, p.ttlSecs(), platform, member, winner).Scan(&owner)
		if err == nil {
			return owner, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return "", dbErr("recording a member's owner", err, "")
		}
		// Another instance recorded a live owner meanwhile: read it.
	}
	return "", errors.New("cluster: the member's owner kept changing; retry")
}

// LiveOwner returns member's recorded owner if it is live and serves
// their platform, else "".
func (p *Postgres) LiveOwner(ctx context.Context, member string) (string, error) {
	if err := p.stopped(); err != nil {
		return "", err
	}
	platform, _, _ := strings.Cut(member, ":")
	owner, live, err := p.recordedOwner(ctx, member, platform)
	if err != nil || !live {
		return "", err
	}
	return owner, nil
}

// recordedOwner returns member's recorded owner and whether it is live
// and serves platform; "" and false when none is recorded.
func (p *Postgres) recordedOwner(ctx context.Context, member, platform string) (owner string, live bool, err error) {
	err = p.pool.QueryRow(ctx, `SELECT o.instance, coalesce(`+serves+`, false)
		FROM cluster_owners o LEFT JOIN cluster_instances i ON i.id = o.instance WHERE o.member = $3`,
		p.ttlSecs(), platform, member).Scan(&owner, &live)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", false, dbErr("finding a member's owner", err, "")
	}
	return owner, live, nil
}

// OwnerChanged reports true once after this instance took member over
// from an instance that died or stopped.
func (p *Postgres) OwnerChanged(ctx context.Context, member string) (bool, error) {
	tag, err := p.pool.Exec(ctx, `UPDATE cluster_owners SET moved = false
		WHERE member = $1 AND instance = $2 AND moved`, member, p.id)
	if err != nil {
		return false, dbErr("reading whether a member moved", err, "")
	}
	return tag.RowsAffected() == 1, nil
}

// peerKey returns instance to's key for this run, if it is live.
func (p *Postgres) peerKey(ctx context.Context, to string) (*[32]byte, error) {
	p.mu.Lock()
	k := p.keys[to]
	p.mu.Unlock()
	if k != nil {
		return k, nil
	}
	var raw []byte
	err := p.pool.QueryRow(ctx, `SELECT box_key FROM cluster_instances
		WHERE id = $1 AND last_seen > now() - make_interval(secs => $2::float8)`, to, p.ttlSecs()).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && len(raw) != 32) {
		return nil, ErrUnknownInstance
	}
	if err != nil {
		return nil, dbErr("finding an instance's key", err, "")
	}
	k = new([32]byte)
	copy(k[:], raw)
	p.mu.Lock()
	p.keys[to] = k
	p.mu.Unlock()
	return k, nil
}

// Forward sends m to instance to and waits for the answer. The request
// (kind and body) is sealed to to's key for this run, whose private half
// lives only in to's memory: what passes through PostgreSQL cannot be
// read there. A request that does not fit in one NOTIFY goes in a
// payload row, deleted as it is read; a secret-bearing one never does.
func (p *Postgres) Forward(ctx context.Context, to string, m Message) ([]byte, error) {
	if err := p.stopped(); err != nil {
		return nil, err
	}
	key, err := p.peerKey(ctx, to)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, 0, len(m.Kind)+1+len(m.Body))
	plain = append(append(append(plain, m.Kind...), 0), m.Body...)
	sealed, err := box.SealAnonymous(nil, plain, key, rand.Reader)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("cluster: sealing a request: %w", err)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("cluster: drawing a request id: %w", err)
	}
	env := envelope{T: "req", ID: hex.EncodeToString(rnd[:]), From: p.id, Secret: m.Secret, Body: sealed}
	payload, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	if len(payload) > notifyMax {
		if m.Secret {
			return nil, ErrSecretTooLarge
		}
		if err := p.pool.QueryRow(ctx, `INSERT INTO cluster_payloads (body) VALUES ($1) RETURNING id`, sealed).Scan(&env.Row); err != nil {
			return nil, dbErr("storing a large request", err, "")
		}
		env.Body = nil
		if payload, err = json.Marshal(env); err != nil {
			return nil, err
		}
	}
	ch := make(chan envelope, 1)
	p.mu.Lock()
	p.waiting[env.ID] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiting, env.ID)
		p.mu.Unlock()
	}()
	wctx, cancel := context.WithTimeout(ctx, p.cfg.ForwardTimeout)
	defer cancel()
	if _, err := p.pool.Exec(wctx, `SELECT pg_notify($1, $2)`, p.channel(to), string(payload)); err != nil {
		return nil, dbErr("sending a request", err, "")
	}
	select {
	case ans := <-ch:
		if ans.Err != "" {
			return nil, fmt.Errorf("%w: %s", ErrRemote, ans.Err)
		}
		return ans.Body, nil
	case <-p.done:
		return nil, p.Err()
	case <-wctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The owner may have died: look its key (and liveness) up afresh
		// next time.
		p.mu.Lock()
		delete(p.keys, to)
		p.mu.Unlock()
		return nil, ErrTimeout
	}
}

// serve opens a request sent to this instance, hands it to Handle and
// sends back the answer. The opened request is wiped once handled.
func (p *Postgres) serve(env envelope) {
	defer p.wg.Done()
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.ForwardTimeout)
	defer cancel()
	ans := envelope{T: "ans", ID: env.ID, From: p.id}
	body, err := p.requestBody(ctx, env)
	switch {
	case err != nil:
		ans.Err = err.Error()
	case p.cfg.Handle == nil:
		ans.Err = "this instance takes no requests"
	default:
		plain, ok := box.OpenAnonymous(nil, body, p.pub, p.priv)
		kind, rest, found := bytes.Cut(plain, []byte{0})
		if !ok || !found {
			ans.Err = "the request does not open with this instance's key (sent to an earlier run?)"
			break
		}
		out, herr := p.cfg.Handle(ctx, env.From, Message{Kind: string(kind), Body: rest, Secret: env.Secret})
		clear(plain)
		if herr != nil {
			ans.Err = herr.Error()
		} else {
			ans.Body = out
		}
	}
	payload, err := json.Marshal(ans)
	if err == nil && len(payload) > notifyMax {
		ans.Body = nil
		ans.Err = "the answer is too large to send back; answer the member through the platform instead"
		payload, err = json.Marshal(ans)
	}
	if err != nil {
		return
	}
	if _, err := p.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, p.channel(env.From), string(payload)); err != nil {
		p.log.Warn("could not answer a forwarded request", "to", env.From, "error", err)
	}
}

// requestBody returns env's sealed body, taking it out of its payload
// row (deleted as it is read) when it was too large for the notification.
func (p *Postgres) requestBody(ctx context.Context, env envelope) ([]byte, error) {
	if env.Row == 0 {
		return env.Body, nil
	}
	var body []byte
	err := p.pool.QueryRow(ctx, `DELETE FROM cluster_payloads WHERE id = $1 RETURNING body`, env.Row).Scan(&body)
	if err != nil {
		return nil, errors.New("the request's payload row is gone (expired?)")
	}
	return body, nil
}

// Publish sends pointer to every live instance, this one included. A
// pointer is public, so one too large for a notification waits in a
// payload row that every instance reads, swept after a minute.
func (p *Postgres) Publish(ctx context.Context, pointer []byte) error {
	if err := p.stopped(); err != nil {
		return err
	}
	env := envelope{T: "ptr", From: p.id, Body: pointer}
	payload, err := json.Marshal(env)
	if err != nil {
		return err
	}
	if len(payload) > notifyMax {
		if err := p.pool.QueryRow(ctx, `INSERT INTO cluster_payloads (body) VALUES ($1) RETURNING id`, pointer).Scan(&env.Row); err != nil {
			return dbErr("storing a large pointer", err, "")
		}
		env.Body = nil
		if payload, err = json.Marshal(env); err != nil {
			return err
		}
	}
	if _, err := p.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, p.broadcast(), string(payload)); err != nil {
		return dbErr("publishing a pointer", err, "")
	}
	return nil
}

// receivePointer hands a published pointer to OnPointer.
func (p *Postgres) receivePointer(env envelope) {
	defer p.wg.Done()
	if p.cfg.OnPointer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.ForwardTimeout)
	defer cancel()
	body := env.Body
	if env.Row != 0 {
		if err := p.pool.QueryRow(ctx, `SELECT body FROM cluster_payloads WHERE id = $1`, env.Row).Scan(&body); err != nil {
			p.log.Warn("a published pointer's payload row is gone", "error", err)
			return
		}
	}
	p.cfg.OnPointer(ctx, env.From, body)
}
