package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// ErrClosed is returned by Handle and the other Core methods after Close.
var ErrClosed = errors.New("bridge: closed")

// Default option values; see [Options].
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionMaxAge   = 12 * time.Hour
	DefaultRateBurst       = 20
	DefaultRatePerMinute   = 30
	DefaultFreeUnlocks     = 5
	DefaultUnlockBackoff   = 30 * time.Second
	DefaultUnlockMaxWait   = time.Hour
	DefaultConfirmWindow   = 5 * time.Minute
	DefaultHistoryPageSize = 10
	DefaultMaxReceiveRefs  = 1024
	DefaultSweepEvery      = time.Minute
)

// Limits that keep one request bounded.
const (
	// MaxPointersPerRequest is how many pointers one request or post may
	// hold; more are ignored (and the member is told).
	MaxPointersPerRequest = 8
	// MaxSplitParts is how many numbered parts `send --split` makes at most.
	MaxSplitParts = 20
	// MaxChatsPerMember is how many chats one member may keep (created,
	// joined or made from a pointer); /clm forget frees a place.
	MaxChatsPerMember = 100
	// MaxUnconfirmedChats is how many chats a member may have joined with
	// unlock (a name they did not have, so no secret was checked) that no
	// pointer has confirmed yet.
	MaxUnconfirmedChats = 3
	// MinNewSecretRunes is the shortest secret `new` and `rekey` accept.
	// (unlock and the receive prompt accept any secret: the chat may come
	// from a 2.0.2 client with a short one.)
	MinNewSecretRunes = 8
	// maxRefBytes bounds the pointer text kept for Receive buttons.
	maxRefBytes = 8 << 20
	// maxSeenPerChannel bounds the members remembered per channel (watch).
	maxSeenPerChannel = 4096
	// maxChannels bounds the channels remembered (watch).
	maxChannels = 4096
	// searchLimit is how many matches search shows.
	searchLimit = 20
	// offerBudgetFactor is how much larger than the command budget the
	// budget for MakePointer's offers is.
	offerBudgetFactor = 4
	// lateAnswerWindow is how long after a "which secret?" question expired
	// the member's next plain private line is taken as a late answer: removed
	// and not used, never run as a command.
	lateAnswerWindow = 24 * time.Hour
)

// Options configure a Bridge. Zero fields take the defaults above.
type Options struct {
	// SessionIdle locks a chat after this long without use (default 30m).
	SessionIdle time.Duration
	// SessionMaxAge locks a chat this long after it was unlocked, used or
	// not (default 12h).
	SessionMaxAge time.Duration
	// Now is the clock (default time.Now); tests pass a fake one.
	Now func() time.Time
	// RateBurst and RatePerMinute are each member's request budget: a
	// burst, then so many a minute. RatePerMinute < 0 disables the limit.
	// MakePointer (inline offers, made as the member types) has a budget
	// of its own, offerBudgetFactor times larger.
	RateBurst     int
	RatePerMinute int
	// FreeUnlocks is how many wrong secrets a member may give before
	// waiting; then UnlockBackoff, doubling after each further wrong
	// secret up to UnlockMaxWait.
	FreeUnlocks   int
	UnlockBackoff time.Duration
	UnlockMaxWait time.Duration
	// ConfirmWindow is how long a "which secret?" prompt or a clear/forget
	// confirmation waits for the member's answer (default 5m).
	ConfirmWindow time.Duration
	// HistoryPageSize is how many messages a history page shows.
	HistoryPageSize int
	// MaxReceiveRefs is how many Receive buttons the bridge remembers.
	MaxReceiveRefs int
	// SweepEvery is how often expired sessions are wiped in the background
	// (default 1m; negative: never, sessions still expire when touched).
	SweepEvery time.Duration
	// OnEvent, if set, is called after each handled request (for metrics).
	// It must be quick and must not call back into the bridge.
	OnEvent func(Event)
	// IsAdmin reports whether a member is one of the bridge's operators,
	// who may run doctor. nil: nobody is. It must be quick.
	IsAdmin func(Member) bool
	// WatchPerPost is how many messages of one post watch delivers to a
	// member; the rest are told in one line (default DefaultWatchPerPost).
	// WatchPerMinute is each member's watch notifications a minute, and
	// their burst (default DefaultWatchPerMinute); what it holds back is
	// counted and told when there is room again.
	WatchPerPost   int
	WatchPerMinute int
	// MaxKDFWaiting is how many requests may wait for a key derivation
	// (new, unlock, rekey, a secret given for a pointer) behind the
	// store's Argon2id slots; more are told at once when to try again
	// (default DefaultMaxKDFWaiting; negative: no limit, every request
	// waits, holding its adapter's handler slot).
	MaxKDFWaiting int
	// Doctor checks the bridge's setup and returns the report shown to an
	// operator who runs doctor: findings and what to fix, never a token or
	// a secret. It must return soon after ctx is done. nil: doctor is not
	// available.
	Doctor func(ctx context.Context) string
	// Publish, when set, sends a channel post's pointers to every
	// instance of a cluster, this one included (see Published and
	// DeliverPublished), instead of running watch here: each instance
	// then runs watch for the members whose sessions it holds. The
	// Receive button is still made here. When it fails, watch runs here
	// (for this instance's members). nil: one instance, watch runs here.
	Publish func(ctx context.Context, p Published) error
}

// Event describes one handled request, for metrics. It holds no member
// input: Command is a known command name, "post", "secret-answer" or
// "unknown" (see LogName), and Outcome is one of Outcomes.
type Event struct {
	Platform string
	Place    PlaceKind
	Command  string
	Outcome  Outcome
	Took     time.Duration
	// PointersSeen counts the pointers the request held; PointersOpened
	// those an unlocked chat or a given secret opened (tampered included).
	PointersSeen, PointersOpened int
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.SessionIdle, DefaultSessionIdle)
	def(&o.SessionMaxAge, DefaultSessionMaxAge)
	def(&o.UnlockBackoff, DefaultUnlockBackoff)
	def(&o.UnlockMaxWait, DefaultUnlockMaxWait)
	def(&o.ConfirmWindow, DefaultConfirmWindow)
	def(&o.SweepEvery, DefaultSweepEvery)
	defInt(&o.RateBurst, DefaultRateBurst)
	defInt(&o.RatePerMinute, DefaultRatePerMinute)
	defInt(&o.FreeUnlocks, DefaultFreeUnlocks)
	defInt(&o.HistoryPageSize, DefaultHistoryPageSize)
	defInt(&o.MaxReceiveRefs, DefaultMaxReceiveRefs)
	defInt(&o.MaxKDFWaiting, DefaultMaxKDFWaiting)
	defInt(&o.WatchPerPost, DefaultWatchPerPost)
	defInt(&o.WatchPerMinute, DefaultWatchPerMinute)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Bridge is the platform-neutral core. It is safe for concurrent use; one
// member's requests are handled one at a time, in the order they arrive.
type Bridge struct {
	store    *storage.Store
	opts     Options
	log      *slog.Logger
	cmds     map[string]*command
	order    []*command // for help
	sessions *registry
	limiter  *rateLimiter
	offers   *rateLimiter // MakePointer's budget
	unlocks  *unlockGuard
	refs     *refStore
	kdf      *kdfGate
	watch    *watcher

	mu        sync.Mutex // guards the fields below
	closed    bool
	members   map[memberKey]*memberState
	notifiers map[string]Notifier
	seen      map[channelKey]map[memberKey]struct{}

	doctoring sync.Mutex // held while a doctor check runs: one at a time

	inflight  sync.WaitGroup
	closeOnce sync.Once
	stop      chan struct{}
	swept     chan struct{}
}

var _ Core = (*Bridge)(nil)

// memberState is what the bridge remembers about a member between requests
// (in memory only).
type memberState struct {
	mu sync.Mutex // serializes the member's requests

	// Guarded by Bridge.mu.
	refs     int // requests holding the state
	member   Member
	watch    bool
	lastSeen time.Time

	// Guarded by mu.
	id   int64 // storage member id, 0 until known
	nick string
	pend *pending
	// lateUntil is set when a "which secret?" question expired unanswered:
	// until then, the member's next plain private line is a late answer (a
	// secret, maybe one that reads like a command). An explicit command
	// clears it.
	lateUntil time.Time
	// joined holds the names of the chats the member joined with unlock (a
	// name they did not have: no secret was checked) that no pointer has
	// confirmed yet. Unlocking one again does not confirm it. It is kept
	// in memory only, and the member's state is not forgotten while it
	// holds a name.
	joined map[string]bool
	// guessed holds the names of the member's chats whose stored secret
	// is one the member supplied (new with a secret, rekey, join, or a
	// which-secret answer) and no pointer someone else posted has opened:
	// unlocking one makes an unverified session (see session.unverified),
	// whatever the verifier says, as the secret in the store is the
	// member's own guess. Memory only, like joined, and for the same
	// reason the member's state is kept while it holds a name.
	guessed map[string]bool
}

// pendingKind is what a member's next answer means.
type pendingKind int

const (
	pendSecret pendingKind = iota + 1 // the next private line is a secret
	pendClear
	pendForget
)

// pending is a question the bridge asked and waits to have answered.
type pending struct {
	kind     pendingKind
	chat     string         // pendClear, pendForget
	pointers []clm.Pointer  // pendSecret
	source   storage.Source // pendSecret
	// fromOthers (pendSecret) is set when the pointers came from a post
	// someone else made (a Receive button): only such a pointer proves
	// that the secret which opens it is no mere guess.
	fromOthers bool
	expires    time.Time
}

type channelKey struct {
	platform string
	id       string
}

// New returns a bridge over store. Call Close when done: it wipes every
// session. logger may be nil (logs are then discarded).
func New(store *storage.Store, opts Options, logger *slog.Logger) *Bridge {
	opts = opts.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Bridge{
		store:     store,
		opts:      opts,
		log:       logger,
		sessions:  newRegistry(opts.SessionIdle, opts.SessionMaxAge, opts.Now),
		limiter:   newRateLimiter(opts.RateBurst, opts.RatePerMinute),
		offers:    newRateLimiter(opts.RateBurst*offerBudgetFactor, opts.RatePerMinute*offerBudgetFactor),
		unlocks:   newUnlockGuard(opts.FreeUnlocks, opts.UnlockBackoff, opts.UnlockMaxWait),
		refs:      newRefStore(opts.MaxReceiveRefs, maxRefBytes),
		kdf:       newKDFGate(store.MaxConcurrentKDF(), opts.MaxKDFWaiting),
		members:   make(map[memberKey]*memberState),
		notifiers: make(map[string]Notifier),
		seen:      make(map[channelKey]map[memberKey]struct{}),
		stop:      make(chan struct{}),
		swept:     make(chan struct{}),
	}
	b.watch = newWatcher(b, opts.WatchPerPost, opts.WatchPerMinute)
	b.order = commandTable()
	b.cmds = make(map[string]*command, len(b.order))
	for _, c := range b.order {
		b.cmds[c.Name] = c
	}
	if opts.SweepEvery > 0 {
		go b.sweeper(opts.SweepEvery)
	} else {
		close(b.swept)
	}
	return b
}

// Format prints the bridge as redacted for every verb: it holds secrets.
func (b *Bridge) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[bridge]") }

// Close stops taking requests, waits for the ones in flight, stops the
// background watch deliveries (those not sent yet are dropped; the one
// being sent sees its context end), and wipes every session (secrets and
// keys overwritten). It does not close the store. It is safe to call more
// than once.
func (b *Bridge) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		b.inflight.Wait()
		close(b.stop)
		<-b.swept
		b.watch.close()
		b.sessions.closeAll()
		b.mu.Lock()
		for _, st := range b.members {
			st.pend = nil
		}
		b.mu.Unlock()
		b.log.Info("bridge closed; sessions wiped")
	})
	return nil
}

func (b *Bridge) sweeper(every time.Duration) {
	defer close(b.swept)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.Sweep()
		}
	}
}

// Sweep wipes expired sessions, forgets stale per-member state, and tells
// watching members what watch held back, once their budget has room, now.
// It runs in the background every Options.SweepEvery; tests call it
// directly.
func (b *Bridge) Sweep() {
	now := b.opts.Now()
	if n := b.sessions.sweep(); n > 0 {
		b.log.Debug("sessions expired", "count", n)
	}
	b.limiter.prune(now)
	b.offers.prune(now)
	b.unlocks.prune(now)
	b.watch.flush()
	b.mu.Lock()
	defer b.mu.Unlock()
	for mk, st := range b.members {
		// refs == 0 means no request holds st.mu, so st.pend may be read.
		if st.refs == 0 && !st.watch && now.Sub(st.lastSeen) > 24*time.Hour &&
			(st.pend == nil || now.After(st.pend.expires.Add(lateAnswerWindow))) && !now.Before(st.lateUntil) &&
			len(st.joined) == 0 && len(st.guessed) == 0 && len(b.sessions.unlocked(mk)) == 0 {
			delete(b.members, mk)
		}
	}
}

// Stats is a snapshot of the bridge's in-memory state, for status pages
// and metrics. It holds counts only.
type Stats struct {
	Sessions       int // unlocked member chats
	DistinctSecret int // distinct secrets among them
	Members        int // members remembered in memory
	// KDFWaiting is how many requests wait for a key-derivation slot now
	// (at most Options.MaxKDFWaiting; any more are told to retry).
	KDFWaiting int
}

// Stats returns counts of what the bridge holds in memory.
func (b *Bridge) Stats() Stats {
	s, d := b.sessions.count()
	b.mu.Lock()
	defer b.mu.Unlock()
	return Stats{Sessions: s, DistinctSecret: d, Members: len(b.members), KDFWaiting: b.kdf.queued()}
}

// enter registers a request in flight, or reports that the bridge closed.
func (b *Bridge) enter() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.inflight.Add(1)
	return true
}

// acquire returns the member's state, locked for this request.
func (b *Bridge) acquire(m Member) *memberState {
	mk := keyOf(m)
	b.mu.Lock()
	st := b.members[mk]
	if st == nil {
		st = &memberState{}
		b.members[mk] = st
	}
	st.refs++
	st.member = m
	st.lastSeen = b.opts.Now()
	b.mu.Unlock()
	st.mu.Lock()
	return st
}

func (b *Bridge) releaseState(st *memberState) {
	st.mu.Unlock()
	b.mu.Lock()
	st.refs--
	b.mu.Unlock()
}

// RegisterNotifier sets how the core reaches members of platform
// privately outside a request (watch deliveries).
func (b *Bridge) RegisterNotifier(platform string, n Notifier) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notifiers[platform] = n
}

// UnlockedChats lists the names of the member's chats unlocked now.
func (b *Bridge) UnlockedChats(m Member) []string {
	return b.sessions.unlocked(keyOf(m))
}

// ChatNames lists the names of the member's chats; no secret is needed.
func (b *Bridge) ChatNames(ctx context.Context, m Member) ([]string, error) {
	if !b.enter() {
		return nil, ErrClosed
	}
	defer b.inflight.Done()
	st := b.acquire(m)
	defer b.releaseState(st)
	id, err := b.memberID(ctx, st)
	if err != nil {
		return nil, err
	}
	chats, err := b.store.ListChats(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("listing chats: %w", err)
	}
	names := make([]string, len(chats))
	for i, c := range chats {
		names[i] = c.Name
	}
	return names, nil
}

// memberID returns the member's storage id, creating the member (with the
// platform display name as nickname) the first time.
func (b *Bridge) memberID(ctx context.Context, st *memberState) (int64, error) {
	if st.id != 0 {
		return st.id, nil
	}
	b.mu.Lock()
	m := st.member
	b.mu.Unlock()
	sm, err := b.store.EnsureMember(ctx, storage.MemberRef{Platform: m.Platform, UserID: m.ID}, defaultNickname(m))
	if err != nil {
		return 0, fmt.Errorf("loading member: %w", err)
	}
	st.id, st.nick = sm.ID, sm.Nickname
	return st.id, nil
}

// defaultNickname makes a valid CLM nickname from the platform name.
func defaultNickname(m Member) string {
	n := strings.Join(strings.Fields(strings.ReplaceAll(m.DisplayName, clm.Separator, " ")), " ")
	if r := []rune(n); len(r) > MaxNicknameRunes {
		n = string(r[:MaxNicknameRunes])
	}
	if checkName("nickname", n, MaxNicknameRunes) != "" {
		n = "member"
	}
	return n
}

// Handle decides and answers one request through req.Reply.
func (b *Bridge) Handle(ctx context.Context, req Request) error {
	if req.Reply == nil {
		return errors.New("bridge: request without a Responder")
	}
	if req.Member.Platform == "" || req.Member.ID == "" {
		return errors.New("bridge: request without a member platform and id")
	}
	if !b.enter() {
		return ErrClosed
	}
	defer b.inflight.Done()
	start := b.opts.Now()

	if req.Command == "" && req.ReceiveRef == "" && req.Place.Kind == Public {
		// A /clm command an adapter passed on as a post, or a secret
		// command with the /clm forgotten ("/unlock Work s3cret"): the
		// policy for commands applies (a secret in it is burned), never a
		// post's.
		if ct, ok := ParseCommandText(req.Post); ok {
			req.Command, req.Args, req.Post = ct.Name, ct.Args, ""
		} else if ct, ok := ParseBareSecretCommand(req.Post); ok {
			req.Command, req.Args, req.Post = ct.Name, ct.Args, ""
		}
	}
	c := &call{b: b, ctx: ctx, req: req, mk: keyOf(req.Member)}
	if req.Place.Kind == Public {
		b.noteSeen(req)
	}
	if req.Command == "" && req.ReceiveRef == "" && req.Place.Kind == Public {
		// Channel chatter: most of it holds no pointer and gets no answer,
		// and needs no member state.
		if len(clm.Extract(req.Post)) == 0 {
			return nil
		}
	}
	c.st = b.acquire(req.Member)
	defer b.releaseState(c.st)

	name := c.dispatch()
	took := b.opts.Now().Sub(start)
	b.log.LogAttrs(ctx, slog.LevelDebug, "request handled",
		slog.String("platform", req.Member.Platform),
		slog.String("place", req.Place.Kind.String()),
		slog.String("command", name),
		slog.String("outcome", c.outcome.String()),
		slog.Int("pointers", c.seen),
		slog.Int("opened", c.opened),
		slog.Duration("took", took))
	if b.opts.OnEvent != nil {
		b.opts.OnEvent(Event{Platform: req.Member.Platform, Place: req.Place.Kind, Command: name, Outcome: c.outcome,
			Took: took, PointersSeen: c.seen, PointersOpened: c.opened})
	}
	return c.err
}

// noteSeen remembers that the member was in the request's channel, for
// watch deliveries.
func (b *Bridge) noteSeen(req Request) {
	ck := channelKey{platform: req.Member.Platform, id: req.Place.ID}
	mk := keyOf(req.Member)
	b.mu.Lock()
	defer b.mu.Unlock()
	set := b.seen[ck]
	if set == nil {
		if len(b.seen) >= maxChannels {
			for k := range b.seen { // forget an arbitrary channel
				delete(b.seen, k)
				break
			}
		}
		set = make(map[memberKey]struct{})
		b.seen[ck] = set
	}
	if _, ok := set[mk]; !ok && len(set) >= maxSeenPerChannel {
		for k := range set {
			delete(set, k)
			break
		}
	}
	set[mk] = struct{}{}
}

// MemberLeft forgets that m was in the channel placeID of m's platform, so
// watch no longer delivers that channel's pointers to m. Adapters call it
// when the platform says a member left or was removed (Telegram
// left_chat_member or a chat_member update, Discord GUILD_MEMBER_REMOVE).
// For a platform whose "channel" is a server, placeID "" with all set
// forgets m in every channel of that platform.
func (b *Bridge) MemberLeft(m Member, placeID string, all bool) {
	mk := keyOf(m)
	b.mu.Lock()
	defer b.mu.Unlock()
	for ck, set := range b.seen {
		if ck.platform != m.Platform || (!all && ck.id != placeID) {
			continue
		}
		delete(set, mk)
		if len(set) == 0 {
			delete(b.seen, ck)
		}
	}
}

// call is one request being handled.
type call struct {
	b       *Bridge
	ctx     context.Context
	req     Request
	mk      memberKey
	st      *memberState
	err     error   // first Responder error, for the adapter's log
	outcome Outcome // for the log and metrics
	seen    int     // pointers in the request
	opened  int     // pointers opened
}

// dispatch runs the request and returns the command name for the log.
func (c *call) dispatch() string {
	c.outcome = OutcomeOK
	req := c.req
	c.expireQuestion()
	switch {
	case req.Command != "" || req.ReceiveRef != "":
		c.st.lateUntil = time.Time{} // an explicit command: no late answer now
		name := strings.ToLower(strings.TrimSpace(req.Command))
		if name == "" {
			name = "receive"
		}
		if c.mayHoldPublicSecret(name, req.Args) {
			// The secret rule comes before the request budget: a secret
			// typed where others read it is always removed and its owner
			// warned. The request still uses up the budget.
			c.b.limiter.allow(c.mk, c.b.opts.Now())
		} else if !c.allowRateOrTell() {
			return LogName(name)
		}
		c.runCommand(name, req.Args)
		return LogName(name)
	case req.Place.Kind == Private || req.Confidential:
		if !c.allowRateOrTell() {
			return "post"
		}
		return c.privatePost(req.Post)
	default:
		if !c.allowRateOrTell() {
			return "post"
		}
		c.publicPost()
		return "post"
	}
}

// mayHoldPublicSecret reports whether runCommand would refuse name and
// args under the secret rule (see CommandText.MayHoldSecret), typed where
// others can read it.
func (c *call) mayHoldPublicSecret(name, args string) bool {
	return !c.req.InputIsPrivate() && CommandText{Name: name, Args: args}.MayHoldSecret()
}

// allowRateOrTell applies the member's request budget, warning once when it is
// used up. Where answers are ephemeral (a Discord interaction) every refusal
// is said: each request already shows the member a pending reply that only
// an answer closes, and that answer bothers nobody else.
func (c *call) allowRateOrTell() bool {
	ok, wait, warn := c.b.limiter.allow(c.mk, c.b.opts.Now())
	if ok {
		return true
	}
	c.outcome = OutcomeLimited
	if warn || c.req.Caps.Ephemeral {
		c.private(fmt.Sprintf("You are sending me requests too fast. I'll answer again in %s.", human(wait)))
	}
	return false
}

// private answers the member privately; lines are joined with newlines.
func (c *call) private(lines ...string) {
	text := strings.Join(lines, "\n")
	if text == "" {
		return
	}
	if err := c.req.Reply.Private(c.ctx, text); err != nil {
		c.noteErr("private reply", err)
	}
}

// public posts in the request's place. Callers pass only pointers and
// neutral text: never plaintext or a secret.
func (c *call) public(p PublicPost) {
	if err := c.req.Reply.Public(c.ctx, p); err != nil {
		c.noteErr("public post", err)
	}
}

func (c *call) noteErr(what string, err error) {
	if c.err == nil {
		c.err = fmt.Errorf("bridge: %s: %w", what, err)
	}
}

// failAndTell tells the member something went wrong on our side and logs
// the cause (which never holds a secret: storage and clm errors do not). A
// full key-derivation queue is no failure: the member is told when to try
// again.
func (c *call) failAndTell(what string, err error) {
	if text, ok := busyText(err); ok {
		c.outcome = OutcomeLimited
		c.private(text + " Nothing was changed.")
		return
	}
	c.outcome = OutcomeError
	c.b.log.LogAttrs(c.ctx, slog.LevelError, "request failed",
		slog.String("platform", c.req.Member.Platform), slog.String("step", what), slog.String("error", err.Error()))
	switch {
	case errors.Is(err, storage.ErrClosed) || errors.Is(err, context.Canceled):
		c.private("I'm shutting down; nothing was changed. Try again in a minute.")
		return
	case errors.Is(err, storage.ErrLocked):
		c.private("That chat's key is out of date (its secret was changed, or it was locked meanwhile). Unlock it again in a private chat with me: /clm unlock <chat> <secret>")
		return
	}
	c.private(fmt.Sprintf("Sorry, something went wrong while %s; nothing more was changed. Try again, and tell the bot's operator if it keeps happening.", what))
}

// deleteRequest asks the adapter to remove the triggering message (it held
// a secret) and reports whether it is gone.
func (c *call) deleteRequest() bool {
	err := c.req.Reply.DeleteRequest(c.ctx)
	if err != nil && !errors.Is(err, ErrCannotDelete) {
		c.b.log.LogAttrs(c.ctx, slog.LevelWarn, "deleting a message failed",
			slog.String("platform", c.req.Member.Platform), slog.String("error", err.Error()))
	}
	return err == nil
}

// now returns the bridge's clock.
func (c *call) now() time.Time { return c.b.opts.Now() }

// memberIDOrTell returns the member's storage id, answering the member on failure.
func (c *call) memberIDOrTell() (int64, bool) {
	id, err := c.b.memberID(c.ctx, c.st)
	if err != nil {
		c.failAndTell("loading your profile", err)
		return 0, false
	}
	return id, true
}

// sessionOrTell returns the member's unlocked session for chat, held; the caller
// must release it. When the chat is locked it tells the member what to do.
func (c *call) sessionOrTell(chat string) *session {
	s, err := c.b.sessions.use(c.mk, chat)
	if err == nil {
		return s
	}
	c.outcome = OutcomeLocked
	var le *lockedError
	if errors.As(err, &le) && le.expired {
		c.private(fmt.Sprintf("%s was locked after %s without use (or %s after you unlocked it). Unlock it again in a private chat with me: /clm unlock %s <secret>",
			chat, human(c.b.opts.SessionIdle), human(c.b.opts.SessionMaxAge), quoteName(chat)))
		return nil
	}
	if c.answeredNoSuchChatPrivately(chat) {
		return nil
	}
	c.private(fmt.Sprintf("%s is locked. Unlock it in a private chat with me first: /clm unlock %s <secret>", chat, quoteName(chat)))
	return nil
}

func (c *call) release(s *session) { c.b.sessions.release(s) }

// setPending replaces the member's open question.
func (c *call) setPending(p *pending) {
	p.expires = c.now().Add(c.b.opts.ConfirmWindow)
	c.st.pend = p
}

// expireQuestion turns an expired "which secret?" question into the wait
// for a late answer (see memberState.lateUntil).
func (c *call) expireQuestion() {
	if p := c.st.pend; p != nil && p.kind == pendSecret && !c.now().Before(p.expires) {
		c.st.pend = nil
		c.st.lateUntil = p.expires.Add(lateAnswerWindow)
	}
}

// dropLateAnswerAndTell handles text, a plain private line, when it may answer an
// expired "which secret?" question: it is removed and neither used nor run.
// It reports whether it did; a line holding pointers is not an answer.
func (c *call) dropLateAnswerAndTell(text string) bool {
	if c.st.lateUntil.IsZero() {
		return false
	}
	late := c.now().Before(c.st.lateUntil) && len(clm.Extract(text)) == 0
	c.st.lateUntil = time.Time{}
	if !late {
		return false
	}
	c.outcome = OutcomeExpired
	c.deleteRequest()
	c.private(fmt.Sprintf("⌛ My question for a pointer's secret expired (I wait %s), so I took your message as a late answer: I removed it, did not use it, and did not run it as a command.", human(c.b.opts.ConfirmWindow)),
		"To open the pointer, /clm receive it again and answer within the time. If your message was a command, send it again (with /clm in front to be sure).")
	return true
}

// takePending returns and clears the member's open question if it is still
// open and of kind k.
func (c *call) takePending(k pendingKind) *pending {
	p := c.st.pend
	if p == nil || p.kind != k {
		return nil
	}
	c.st.pend = nil
	if !c.now().Before(p.expires) {
		return nil
	}
	return p
}

// tooManyChats tells the member they have as many chats as they may keep.
func tooManyChats() string {
	return fmt.Sprintf("You have %d chats, the most I keep for one member. /clm forget one you no longer need (/clm chats lists them), then try again.", MaxChatsPerMember)
}

// chatsFull reports whether the member has MaxChatsPerMember chats already.
func (c *call) chatsFull() (bool, error) {
	chats, err := c.b.store.ListChats(c.ctx, c.st.id)
	if err != nil {
		return false, err
	}
	return len(chats) >= MaxChatsPerMember, nil
}

// roomForChatOrTell reports whether the member may have one more chat, and
// answers them when not.
func (c *call) roomForChatOrTell(nothing string) bool {
	full, err := c.chatsFull()
	if err != nil {
		c.failAndTell("listing your chats", err)
		return false
	}
	if full {
		c.outcome = OutcomeLimited
		c.private(tooManyChats() + " " + nothing)
		return false
	}
	return true
}

// joinedNames lists the member's joined, unconfirmed chats, sorted.
func (c *call) joinedNames() []string {
	names := make([]string, 0, len(c.st.joined))
	for n := range c.st.joined {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// place identifies the chat or channel of the request on its platform.
func (c *call) place() channelKey {
	return channelKey{platform: c.req.Member.Platform, id: c.req.Place.ID}
}

// guessed records that the member's chat holds a secret the member
// supplied and nothing verified yet.
func (c *call) guessed(chat string) {
	if c.st.guessed == nil {
		c.st.guessed = make(map[string]bool)
	}
	c.st.guessed[chat] = true
}

// verified records that a pointer someone else posted opened with the
// secret of the member's chat held in s: it is no guess, so the member's
// wrong secrets are forgotten too.
func (c *call) verified(s *session) {
	c.b.sessions.verify(s)
	delete(c.st.guessed, s.chat)
	c.b.unlocks.succeeded(c.mk)
}

// source says where the request came from, for stored messages.
func (c *call) source() storage.Source {
	return storage.Source{Platform: c.req.Member.Platform, Channel: c.req.Place.ID, MessageID: c.req.MessageID}
}
