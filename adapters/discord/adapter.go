package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// Name is the platform's name: the Member.Platform of Discord members.
const Name = "discord"

// Defaults for the adapter's own bounds.
const (
	// defaultDrainTimeout is how long Run waits, after ctx is done, for
	// requests in flight to finish.
	defaultDrainTimeout = 10 * time.Second
	// jobTimeout bounds one request end to end. Interaction tokens live 15
	// minutes; nothing a member waits for should take longer than this.
	jobTimeout = 5 * time.Minute
)

// Adapter connects one Discord bot to the bridge core. Create it with
// [New] and start it with [Adapter.Run].
type Adapter struct {
	cfg    Config
	core   bridge.Core
	log    *slog.Logger
	red    redactor
	rest   restCaller
	sess   *discordgo.Session
	drain  time.Duration
	intent discordgo.Intent

	seen     *seenSet
	pointers *pointerMemory
	channels *guildChannels
	order    *serializer
	dms      sync.Map // user id -> DM channel id
	tidied   sync.Map // guild id -> struct{}: guild commands checked (global registration)
	jobs     sync.WaitGroup
	workMu   sync.Mutex
	work     context.Context // requests' base context, cancelled after draining
	stopping bool            // Run is shutting down: take no new work

	connected  atomic.Bool
	botID      atomic.Value // string
	appID      atomic.Value // string
	registered atomic.Value // string: "" or why registration failed
	lastErr    atomic.Value // string: the last connection problem, redacted
	// dropped wakes Run when the gateway connection is lost: Run
	// reconnects itself (not discordgo, whose loop retries a revoked
	// token forever and silently), so a refusal ends the adapter.
	dropped chan struct{}
}

// Option changes how New builds the adapter (mostly for tests).
type Option func(*options)

type options struct {
	metrics      platform.Metrics
	apiBase      string
	callTimeout  time.Duration
	maxAttempts  int
	maxRetryWait time.Duration
	drain        time.Duration
}

// WithMetrics counts the adapter's failed REST calls in m (nil: nowhere),
// each by its class (see restClass).
func WithMetrics(m platform.Metrics) Option { return func(o *options) { o.metrics = m } }

// WithAPIBase sends every REST call to base (such as a fake Discord's
// http://127.0.0.1:port), keeping the /api/v9/... paths. The gateway URL is
// then whatever that server announces.
func WithAPIBase(base string) Option { return func(o *options) { o.apiBase = base } }

// WithRESTBounds sets the bounds on REST calls: a timeout per attempt, the
// most attempts when Discord answers 429, and the longest wait for one 429
// (a longer one fails the call at once).
func WithRESTBounds(callTimeout time.Duration, maxAttempts int, maxRetryWait time.Duration) Option {
	return func(o *options) {
		o.callTimeout, o.maxAttempts, o.maxRetryWait = callTimeout, maxAttempts, maxRetryWait
	}
}

// WithDrainTimeout sets how long Run waits for requests in flight after its
// context is done.
func WithDrainTimeout(d time.Duration) Option { return func(o *options) { o.drain = d } }

// New makes an adapter for the bot in cfg, logging to logger (which the
// host tags with the adapter's name). It reads the token (from
// CLM_DISCORD_TOKEN_FILE if needed) but does not connect: see [Adapter.Run].
func New(cfg Config, core bridge.Core, logger *slog.Logger, opts ...Option) (*Adapter, error) {
	if core == nil {
		return nil, errors.New("discord: no bridge core given")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := options{callTimeout: defaultCallTimeout, maxAttempts: defaultMaxAttempts, maxRetryWait: defaultMaxRetryWait, drain: defaultDrainTimeout,
		apiBase: cfg.APIURL}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxAttempts < 1 {
		o.maxAttempts = 1
	}
	token, err := cfg.LoadToken()
	if err != nil {
		return nil, err
	}
	if err := cfg.checkShards(); err != nil {
		return nil, err
	}
	red := redactor{token: token}
	sess, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, red.Err(fmt.Errorf("discord: %w", err))
	}

	rt := platform.CountCalls(http.DefaultTransport, o.metrics, Name, restClass)
	if o.apiBase != "" {
		u, err := url.Parse(o.apiBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("discord: CLM_DISCORD_API_URL %q is not an http(s) URL such as https://discord.com", o.apiBase)
		}
		rt = rewriteTransport{base: u, next: rt}
	}
	rt = clampTransport{max: o.maxRetryWait, next: rt}
	sess.Client = &http.Client{Transport: rt, Timeout: o.callTimeout + time.Second}
	sess.Dialer = &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: o.callTimeout}
	sess.ShouldRetryOnRateLimit = false
	sess.MaxRestRetries = 1
	// discordgo logs through the standard log package, outside slog and
	// its redaction: silence it and log its events ourselves.
	sess.LogLevel = discordgo.LogError - 1
	// Handlers run on the gateway goroutine, in order; each one only
	// records the event and starts a goroutine of ours (see onInteraction),
	// so that shutdown can wait for them and dedupe sees events in order.
	sess.SyncEvents = true
	sess.StateEnabled = false
	intents := discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages
	if cfg.MessageContent {
		intents |= discordgo.IntentMessageContent
	}
	if cfg.GuildMembers {
		intents |= discordgo.IntentGuildMembers
	}
	sess.Identify.Intents = intents
	// discordgo sends shard [id, count] in IDENTIFY when count > 1.
	sess.ShardID, sess.ShardCount = cfg.Shards()

	a := &Adapter{
		cfg: cfg, core: core, log: logger, red: red, sess: sess, drain: o.drain, intent: intents,
		seen: newSeenSet(4096), pointers: newPointerMemory(maxRememberedMessages), channels: newGuildChannels(),
		order: newSerializer(), work: context.Background(),
		dropped: make(chan struct{}, 1),
	}
	sess.ShouldReconnectOnError = false // Run reconnects; see dropped
	a.rest = restCaller{red: red, callTimeout: o.callTimeout, maxAttempts: o.maxAttempts, maxRetryWait: o.maxRetryWait,
		onRateLimit: func(wait time.Duration) { a.log.Warn("Discord rate limit; retrying", "wait", wait) }}
	a.botID.Store("")
	a.appID.Store(cfg.AppID)
	a.registered.Store("not yet")
	a.lastErr.Store("")
	sess.AddHandler(a.onReady)
	sess.AddHandler(a.onConnect)
	sess.AddHandler(a.onDisconnect)
	sess.AddHandler(a.onResumed)
	sess.AddHandler(a.onInteraction)
	sess.AddHandler(a.onMessage)
	sess.AddHandler(a.onMessageUpdate)
	sess.AddHandler(a.onMemberRemove)
	sess.AddHandler(a.onGuildCreate)
	return a, nil
}

// Name is the adapter's name, "discord".
func (a *Adapter) Name() string { return Name }

// Status is what the adapter reports about itself (for health checks and
// the bridge's status).
type Status struct {
	// Connected is true while the gateway connection is up.
	Connected bool
	// Detail says, in words for an operator, what the bot can see and
	// whether its commands are registered.
	Detail string
	// LastError is the last problem connecting to Discord (token
	// redacted), "" when none since the last connection.
	LastError string
	// LastContact is when the gateway last acknowledged a heartbeat (zero
	// before the first connection): a connection that stalls shows here.
	LastContact time.Time
}

// Status reports the adapter's connection and what it can see.
func (a *Adapter) Status() Status {
	st := Status{Connected: a.connected.Load(), LastError: a.lastErr.Load().(string)}
	// discordgo records heartbeat acks under its session lock, which it
	// also holds while connecting (and while calling onConnect): never
	// wait for it here.
	if st.Connected && a.sess.TryRLock() {
		st.LastContact = a.sess.LastHeartbeatAck
		a.sess.RUnlock()
	}
	d := "disconnected"
	if st.Connected {
		d = "connected"
	}
	if id, n := a.cfg.Shards(); n > 1 {
		d += fmt.Sprintf(" as shard %d of %d (shards 0 to %d)", id, n, n-1)
		if id != 0 {
			d += "; DMs reach shard 0's instance only"
		}
	}
	if id, _ := a.cfg.Shards(); id != 0 {
		d += "; commands registered by shard 0"
	} else if reg := a.registered.Load().(string); reg != "" {
		d += "; commands not registered: " + reg
	} else if a.cfg.GuildID != "" {
		d += "; /clm registered in guild " + a.cfg.GuildID
	} else {
		d += "; /clm registered globally (may take up to an hour to appear)"
	}
	if a.cfg.MessageContent {
		d += "; Message Content intent on: pointers posted in channels get a Receive button"
	} else {
		d += "; Message Content intent off: sees only /clm commands, buttons, the \"" + ContextMenuName + "\" context menu and DMs"
	}
	if a.cfg.GuildMembers {
		d += "; Server Members intent on: a member who leaves a server gets no more watch deliveries from its channels"
	} else {
		d += "; Server Members intent off: the bot is not told when a member leaves a server, so watch keeps delivering that server's pointers to them (set CLM_DISCORD_GUILD_MEMBERS=true and enable the intent to stop it)"
	}
	st.Detail = d
	return st
}

// Run connects to Discord, registers the commands, serves members until ctx
// is done, then disconnects and waits (a bounded time) for requests in
// flight. It returns an error wrapping platform.ErrRefused when Discord
// refuses the bot for good, at the first connection or a later one: a
// revoked token (4004, 401) or a privileged intent not granted (4014).
func (a *Adapter) Run(ctx context.Context) error {
	a.core.RegisterNotifier(Name, a)
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	a.workMu.Lock()
	a.work = work
	a.workMu.Unlock()

	if err := a.open(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	// ctx may be done already (stopped while connecting): then Run shuts
	// down below and returns nil, as a stop at any other time does.
	if ctx.Err() == nil {
		if id, n := a.cfg.Shards(); id == 0 {
			a.register(ctx)
		} else {
			// Every shard overwriting the commands at once would race;
			// shard 0's instance registers them for all.
			a.log.Info("not registering the commands: shard 0's instance does", "shard", id, "shards", n)
		}
		a.log.Info("Discord adapter running", "status", a.Status().Detail)
	}

	var refused error
	for refused == nil && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-a.dropped:
			// open returns nil, ctx's error, or a refusal.
			if err := a.open(ctx); err != nil && ctx.Err() == nil {
				refused = err
			}
		}
	}
	// Take no new work from here on.
	a.workMu.Lock()
	a.stopping = true
	a.workMu.Unlock()
	if err := a.sess.Close(); err != nil {
		a.log.Warn("closing the Discord gateway", "error", a.red.Err(err))
	}
	done := make(chan struct{})
	go func() { a.jobs.Wait(); close(done) }()
	t := time.NewTimer(a.drain)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		a.log.Warn("requests still in flight at shutdown; cancelling them")
		cancelWork()
		<-done
	}
	return refused
}

// open connects the gateway, retrying with backoff until ctx is done. A
// refused token ends it with an error at once.
func (a *Adapter) open(ctx context.Context) error {
	backoff := time.Second
	for {
		errc := make(chan error, 1)
		go func() { errc <- a.sess.Open() }()
		var err error
		select {
		case err = <-errc:
		case <-ctx.Done():
			// Open has no context; close the session once it returns.
			go func() {
				if <-errc == nil {
					_ = a.sess.Close()
				}
			}()
			return ctx.Err()
		}
		if err == nil || errors.Is(err, discordgo.ErrWSAlreadyOpen) {
			return nil
		}
		a.lastErr.Store(a.red.Redact(err.Error()))
		if refused := refusal(err); refused != nil {
			refused = fmt.Errorf("%w (%v)", refused, a.red.Err(err))
			a.log.Error("Discord refused the bot; stopping", "error", refused)
			return refused
		}
		a.log.Warn("cannot connect to Discord; retrying", "error", a.red.Err(err), "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// refusal returns, for a connection error no retry can mend, the error
// Run ends with (wrapping platform.ErrRefused and saying what to fix);
// nil for any other.
func refusal(err error) error {
	var hint string
	var ce *websocket.CloseError
	_, status := apiCode(err)
	switch {
	case status == http.StatusUnauthorized, errors.As(err, &ce) && ce.Code == 4004:
		hint = "Discord refused the bot token: reset it in the developer portal (Bot, Reset Token) and set CLM_DISCORD_TOKEN"
	case errors.As(err, &ce) && ce.Code == 4014:
		hint = "Discord refused an intent the bot asked for: turn on Message Content in the developer portal (Bot, Privileged Gateway Intents), or set CLM_DISCORD_MESSAGE_CONTENT=false"
	case errors.As(err, &ce) && ce.Code == 4013:
		hint = "Discord says the intents the bot asked for are invalid"
	case errors.As(err, &ce) && ce.Code == 4010, errors.Is(err, discordgo.ErrWSShardBounds):
		hint = "Discord refused the shard: set CLM_DISCORD_SHARD_ID from 0 to CLM_DISCORD_SHARD_COUNT-1, with the same CLM_DISCORD_SHARD_COUNT on every instance"
	case errors.As(err, &ce) && ce.Code == 4011:
		hint = "Discord says the bot is in too many servers for one connection: run several instances with CLM_DISCORD_SHARD_COUNT (the same on each) and CLM_DISCORD_SHARD_ID 0, 1, … (one each), sharing CLM_DATABASE_URL"
	default:
		return nil
	}
	return fmt.Errorf("discord: %w: %s", platform.ErrRefused, hint)
}

// register bulk-overwrites the commands (in the guild, or globally). A
// failure is logged and reported in Status; the bot keeps serving whatever
// commands Discord already has.
func (a *Adapter) register(ctx context.Context) {
	app := a.appID.Load().(string)
	if app == "" {
		a.registered.Store("no application id (set CLM_DISCORD_APP_ID)")
		a.log.Error("cannot register commands: no application id; set CLM_DISCORD_APP_ID")
		return
	}
	cmds := applicationCommands()
	err := a.rest.do(ctx, func(opts ...discordgo.RequestOption) error {
		_, err := a.sess.ApplicationCommandBulkOverwrite(app, a.cfg.GuildID, cmds, opts...)
		return err
	})
	if err != nil {
		a.registered.Store(err.Error())
		a.log.Error("cannot register the /clm commands", "error", err)
		return
	}
	a.registered.Store("")
}

// onGuildCreate is called for each guild the bot is in (after READY) and
// for each guild it joins. With global registration, copies of the
// commands registered earlier in that guild (when CLM_DISCORD_GUILD_ID
// named it) are still there, and Discord shows members both: /clm twice.
// They are removed, once per guild per run.
func (a *Adapter) onGuildCreate(_ *discordgo.Session, ev *discordgo.GuildCreate) {
	if a.cfg.GuildID != "" || ev.Guild == nil || ev.ID == "" {
		return
	}
	if _, done := a.tidied.LoadOrStore(ev.ID, struct{}{}); done {
		return
	}
	guildID := ev.ID
	a.spawn(func(ctx context.Context) { a.removeGuildCommands(ctx, guildID) })
}

// removeGuildCommands overwrites the bot's commands in guildID with none,
// when it has any there.
func (a *Adapter) removeGuildCommands(ctx context.Context, guildID string) {
	app := a.appID.Load().(string)
	if app == "" {
		return
	}
	var cmds []*discordgo.ApplicationCommand
	err := a.rest.do(ctx, func(opts ...discordgo.RequestOption) error {
		var err error
		cmds, err = a.sess.ApplicationCommands(app, guildID, opts...)
		return err
	})
	if err == nil && len(cmds) == 0 {
		return
	}
	if err == nil {
		err = a.rest.do(ctx, func(opts ...discordgo.RequestOption) error {
			// An empty list, not null: Discord replaces the guild's commands with it.
			_, err := a.sess.ApplicationCommandBulkOverwrite(app, guildID, []*discordgo.ApplicationCommand{}, opts...)
			return err
		})
	}
	if err != nil {
		a.tidied.Delete(guildID) // try again when the guild comes back
		a.log.Warn("cannot remove the commands left registered in a server from an earlier CLM_DISCORD_GUILD_ID; its members may see /clm twice (restart the bridge to try again)",
			"guild", guildID, "error", err)
		return
	}
	a.log.Info("removed the commands left registered in a server from an earlier CLM_DISCORD_GUILD_ID (they are global now)", "guild", guildID, "commands", len(cmds))
}

func (a *Adapter) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	if r.User != nil {
		a.botID.Store(r.User.ID)
	}
	if r.Application != nil && r.Application.ID != "" && a.appID.Load().(string) == "" {
		a.appID.Store(r.Application.ID)
	}
}

func (a *Adapter) onConnect(*discordgo.Session, *discordgo.Connect) {
	a.connected.Store(true)
	a.lastErr.Store("")
	a.log.Info("connected to the Discord gateway")
}

func (a *Adapter) onDisconnect(*discordgo.Session, *discordgo.Disconnect) {
	a.connected.Store(false)
	a.log.Info("disconnected from the Discord gateway")
	select {
	case a.dropped <- struct{}{}:
	default: // Run is already told
	}
}

func (a *Adapter) onResumed(*discordgo.Session, *discordgo.Resumed) {
	a.log.Info("resumed the Discord gateway session")
}

// spawn runs job on its own goroutine with the adapter's work context,
// counted for shutdown. Once Run is shutting down, it drops the job (the
// member's interaction then expires unanswered, as with a bot that is
// offline) and reports false.
func (a *Adapter) spawn(job func(ctx context.Context)) bool {
	a.workMu.Lock()
	if a.stopping {
		a.workMu.Unlock()
		return false
	}
	work := a.work
	a.jobs.Add(1)
	a.workMu.Unlock()
	go func() {
		defer a.jobs.Done()
		ctx, cancel := context.WithTimeout(work, jobTimeout)
		defer cancel()
		job(ctx)
	}()
	return true
}

// seenSet remembers the last n event ids, so that an event the gateway
// replays (after a resume) is handled once.
type seenSet struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string
	next int
}

func newSeenSet(n int) *seenSet {
	return &seenSet{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

// first records id and reports whether it was new.
func (s *seenSet) first(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.next = (s.next + 1) % len(s.ring)
	s.ids[id] = struct{}{}
	return true
}

// serializer hands out turns per key in arrival order, so that one
// member's requests reach the core in the order they were made even though
// each runs on its own goroutine.
type serializer struct {
	mu   sync.Mutex
	last map[string]chan struct{}
}

func newSerializer() *serializer { return &serializer{last: map[string]chan struct{}{}} }

// reserve takes the next turn for key. Call it in arrival order; wait on
// the returned channel before acting, and call done when finished.
func (s *serializer) reserve(key string) (wait <-chan struct{}, done func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.last[key]
	if prev == nil {
		c := make(chan struct{})
		close(c)
		prev = c
	}
	mine := make(chan struct{})
	s.last[key] = mine
	return prev, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		close(mine)
		if s.last[key] == mine {
			delete(s.last, key)
		}
	}
}
