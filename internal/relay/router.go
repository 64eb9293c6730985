package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/cluster"
	"github.com/clmbridge/clmbridge/platform"
)

// Defaults for Options' zero values.
const (
	// DefaultRetryWait is how long, after a forwarded request first timed
	// out, the Router waits for the member to get a live owner: a little
	// over the cluster's default TTL, after which a dead owner's members
	// have moved.
	DefaultRetryWait = cluster.DefaultTTL + 2*time.Second
	// DefaultCallTimeout bounds the Core calls that take no context
	// (UnlockedChats, MemberLeft).
	DefaultCallTimeout = DefaultRetryWait + 2*cluster.DefaultForwardTimeout
)

const (
	// maxUnknownRetries is how many times a Router asks Owner again after
	// the owner it was given turned out not to be live, or no longer the
	// member's owner.
	maxUnknownRetries = 3
	// ownerPoll is how often a Router asks Owner again while it waits for
	// a member whose owner timed out to move.
	ownerPoll = 100 * time.Millisecond
	// maxSeenNotes bounds the (member, channel) pairs a Router remembers
	// for seen notes.
	maxSeenNotes = 1 << 16
	// seenRefresh is how long a seen note stands before the member's next
	// chatter there sends it again (their owner may have heard meanwhile,
	// on another instance, that they left).
	seenRefresh = time.Hour
	// seenRecheck is how long after a member's chatter in a channel their
	// next chatter there is taken as already noted, without asking who
	// owns them: chatter is the busiest path, and an owner that changed
	// meanwhile (a take-over) learns at the member's next chatter after it.
	seenRecheck = time.Minute
	// maxOfferTextBytes is what MakePointer says fits when the member's
	// text is too large to forward (it must fit in one notification).
	maxOfferTextBytes = 4000
)

// Words for the member.
const (
	// unlockAgainText tells a member whose owner died that their sessions
	// were lost.
	unlockAgainText = "⚠️ The bridge instance that held your unlocked chats stopped, so they are locked now. Unlock them again in a private chat with me: /clm unlock <chat> <secret>"
	// unreachableText tells a member their request could not be passed on.
	unreachableText = "I could not reach the part of the bridge that holds your chats, so nothing was done. Try again in a minute."
	// tooLargeText tells a member their secret-bearing request is too long.
	tooLargeText = "That is too long for me to pass on safely (what you type privately travels only in small pieces), so nothing was done. Shorten it and try again."
	// notOwnerText is the refusal of an instance that no longer owns the
	// member; the sender asks Owner again (the request did not run).
	notOwnerText = "relay: this instance does not own the member (any more); ask Owner again"
	// notRunMark ends the error of an owner that could not run a request
	// at all (malformed, or no adapter for its platform): the sender tells
	// the member, as nobody else will.
	notRunMark = " (the request did not run)"
)

// errNotOwner is returned by HandleForwarded for a member this instance
// does not own; it reaches the sender as cluster.ErrRemote with its text.
var errNotOwner = errors.New(notOwnerText)

// The results of a forwarded request, as Options.OnForward gets them (the
// values of the metrics' result label).
const (
	ForwardOK       = "ok"        // the owner handled it
	ForwardTimeout  = "timeout"   // the owner did not answer in time, even after retries
	ForwardNoOwner  = "no_owner"  // no live instance could take the member
	ForwardTooLarge = "too_large" // a request holding a secret did not fit one notification
	ForwardFailed   = "failed"    // anything else
)

// Options configure a Router. Zero fields take the defaults.
type Options struct {
	// OnForward, if set, is called after each request Handle forwarded
	// to another instance, with one of the Forward* results and the
	// round trip, retries included (for metrics). It must be quick.
	OnForward func(result string, took time.Duration)
	// OnTakeOver, if set, is called when this instance tells a member it
	// took over that their chats were locked (for metrics).
	OnTakeOver func()
	// RetryWait bounds how long, after a forwarded request timed out, the
	// Router waits for the member's owner to change (default
	// DefaultRetryWait; use a little over the cluster's TTL).
	RetryWait time.Duration
	// CallTimeout bounds UnlockedChats and MemberLeft, which get no
	// context (default DefaultCallTimeout).
	CallTimeout time.Duration
	// Logger gets failures (never a payload); nil discards them.
	Logger *slog.Logger
}

// Router is the bridge.Core of one instance of a cluster: it handles
// locally what the local bridge can answer and forwards the rest to the
// member's owner. Set it up in two phases: New, then SetCluster once the
// cluster is opened with the Router's HandleForwarded and HandlePublished,
// and SetRelay for each adapter that implements platform.Relay, all
// before serving. Until SetCluster, everything is handled locally.
type Router struct {
	local *bridge.Bridge
	opts  Options
	log   *slog.Logger

	mu     sync.Mutex // guards cl and relays
	cl     cluster.Cluster
	relays map[string]platform.Relay

	seenMu    sync.Mutex
	seen      map[seenKey]seenNote
	seenOrder []seenKey
}

var _ bridge.Core = (*Router)(nil)

// seenKey is a member in a channel, for seen notes.
type seenKey struct{ member, place string }

// seenNote is what a Router remembers of a member's chatter in a channel:
// when it last looked their owner up, and which owner it told and when
// ("" when none: the member has no owner, or it is this instance).
type seenNote struct {
	checked time.Time
	owner   string
	sent    time.Time
}

// New returns a Router in front of local.
func New(local *bridge.Bridge, opts Options) *Router {
	if opts.RetryWait <= 0 {
		opts.RetryWait = DefaultRetryWait
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{local: local, opts: opts, log: log, relays: make(map[string]platform.Relay), seen: make(map[seenKey]seenNote)}
}

// SetCluster gives the Router its cluster (opened with HandleForwarded and
// HandlePublished). Call it before serving.
func (r *Router) SetCluster(c cluster.Cluster) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cl = c
}

// SetRelay sets the adapter that answers forwarded requests of platform
// name (its requests are forwarded only when one is set). Call it before
// serving.
func (r *Router) SetRelay(name string, rl platform.Relay) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.relays[name] = rl
}

func (r *Router) cluster() cluster.Cluster {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cl
}

func (r *Router) relay(name string) platform.Relay {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.relays[name]
}

// key is the member's key for cluster.Owner.
func key(m bridge.Member) string { return m.Platform + ":" + m.ID }

// Handle routes one request: channel chatter is handled here (and the
// member's owner told they were seen), everything else by the member's
// owner, which answers through the platform (see platform.Relay). A
// request whose Responder or adapter cannot be relayed is handled here.
func (r *Router) Handle(ctx context.Context, req bridge.Request) error {
	cl := r.cluster()
	if cl == nil || req.Reply == nil || req.Member.Platform == "" || req.Member.ID == "" {
		return r.local.Handle(ctx, req)
	}
	if isChatter(req) {
		r.noteSeen(ctx, cl, req)
		return r.local.Handle(ctx, req)
	}
	rel, ok := req.Reply.(platform.Relayable)
	rl := r.relay(req.Member.Platform)
	if !ok || rl == nil {
		// Not relayable (the console, or an adapter without Relay): it is
		// handled here, owner or not.
		if owner, err := cl.Owner(ctx, key(req.Member)); err == nil && owner == cl.Self() {
			return r.handleOwned(ctx, cl, req)
		}
		return r.local.Handle(ctx, req)
	}
	state, err := rel.RelayState()
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "a request cannot be relayed; handling it here",
			slog.String("platform", req.Member.Platform), slog.String("error", err.Error()))
		return r.local.Handle(ctx, req)
	}
	body, err := json.Marshal(toWire(req, state))
	if err != nil {
		return fmt.Errorf("relay: encoding a request: %w", err)
	}
	msg := cluster.Message{Kind: kindRequest, Body: body, Secret: mayHoldSecret(req)}
	start := time.Now()
	_, self, err := r.forward(ctx, cl, key(req.Member), msg)
	clear(body)
	if !self && r.opts.OnForward != nil {
		r.opts.OnForward(forwardResult(err), time.Since(start))
	}
	switch {
	case self:
		return r.handleOwned(ctx, cl, req)
	case err == nil:
		rel.Relayed()
		return nil
	case errors.Is(err, cluster.ErrSecretTooLarge):
		return replyPrivately(ctx, req, tooLargeText)
	case errors.Is(err, cluster.ErrRemote) && strings.Contains(err.Error(), notRunMark):
		// The owner could not run it: nobody answered the member.
	case errors.Is(err, cluster.ErrRemote):
		// The owner ran the request and answered the member what it could;
		// its error is for the log.
		rel.Relayed()
		return fmt.Errorf("relay: the owner instance handled the request with an error: %w", err)
	}
	if ctx.Err() == nil {
		_ = replyPrivately(ctx, req, unreachableText)
	}
	return fmt.Errorf("relay: forwarding a %s request to the member's owner failed: %w", req.LogName(), err)
}

func replyPrivately(ctx context.Context, req bridge.Request, text string) error {
	if err := req.Reply.Private(ctx, text); err != nil {
		return fmt.Errorf("relay: private reply: %w", err)
	}
	return nil
}

// isChatter reports whether req is channel chatter: a public post that is
// not a command (nor one with the /clm forgotten), as the bridge reads it.
func isChatter(req bridge.Request) bool {
	if req.Command != "" || req.ReceiveRef != "" || req.Place.Kind != bridge.Public || req.Confidential {
		return false
	}
	if _, ok := bridge.ParseCommandText(req.Post); ok {
		return false
	}
	_, ok := bridge.ParseBareSecretCommand(req.Post)
	return !ok
}

// mayHoldSecret reports whether req may carry a secret (or text only the
// bot saw): anything typed in private or confidentially, and any command
// that may hold one.
func mayHoldSecret(req bridge.Request) bool {
	if req.InputIsPrivate() {
		return true
	}
	ct := bridge.CommandText{Name: strings.ToLower(strings.TrimSpace(req.Command)), Args: req.Args}
	if ct.Name == "" && req.ReceiveRef == "" {
		var ok bool
		if ct, ok = bridge.ParseCommandText(req.Post); !ok {
			if ct, ok = bridge.ParseBareSecretCommand(req.Post); !ok {
				return false
			}
		}
	}
	if ct.Name == "" {
		return false // a Receive button
	}
	return ct.MayHoldSecret()
}

// handleOwned handles req here, as the member's owner (or because it
// cannot be relayed), telling the member first, once, when this instance
// took them over from one that stopped.
func (r *Router) handleOwned(ctx context.Context, cl cluster.Cluster, req bridge.Request) error {
	r.tellIfMoved(ctx, cl, req)
	r.awaitReceiveRef(ctx, req)
	return r.local.Handle(ctx, req)
}

// tellIfMoved tells the member, once, that their sessions were lost
// with the instance that held them, when this instance took them over.
func (r *Router) tellIfMoved(ctx context.Context, cl cluster.Cluster, req bridge.Request) {
	moved, err := cl.OwnerChanged(ctx, key(req.Member))
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "could not check whether a member moved here",
			slog.String("platform", req.Member.Platform), slog.String("error", err.Error()))
		return
	}
	if moved {
		if r.opts.OnTakeOver != nil {
			r.opts.OnTakeOver()
		}
		if err := req.Reply.Private(ctx, unlockAgainText); err != nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "telling a member to unlock again failed",
				slog.String("platform", req.Member.Platform), slog.String("error", err.Error()))
		}
	}
}

// forward sends msg to the owner of member and returns its answer, or
// self when this instance is the owner (the caller then handles it). It
// asks Owner again when the owner it was given is not live or refuses
// (at most maxUnknownRetries times), and, when the owner timed out, waits
// up to RetryWait for the member to move to a live instance. It never
// retries once the owner may have run the request (cluster.ErrRemote).
func (r *Router) forward(ctx context.Context, cl cluster.Cluster, member string, msg cluster.Message) (ans []byte, self bool, err error) {
	var (
		timedOut   string // the owner that last timed out
		timedOutAt time.Time
		unknown    int
	)
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		owner, err := cl.Owner(ctx, member)
		if err != nil {
			return nil, false, err
		}
		if owner == cl.Self() {
			return nil, true, nil
		}
		if owner == timedOut {
			if time.Since(timedOutAt) >= r.opts.RetryWait {
				return nil, false, cluster.ErrTimeout
			}
			if err := pause(ctx, ownerPoll); err != nil {
				return nil, false, err
			}
			continue
		}
		ans, err = cl.Forward(ctx, owner, msg)
		switch {
		case err == nil:
			return ans, false, nil
		case errors.Is(err, cluster.ErrUnknownInstance) || refused(err):
			unknown++
			if unknown > maxUnknownRetries {
				return nil, false, err
			}
		case errors.Is(err, cluster.ErrTimeout):
			if timedOutAt.IsZero() {
				timedOutAt = time.Now()
			} else if time.Since(timedOutAt) >= r.opts.RetryWait {
				return nil, false, err
			}
			timedOut = owner
		default:
			return nil, false, err
		}
	}
}

// refused reports whether err is an owner's refusal of a member it does
// not own: its handler did not run the request.
func refused(err error) bool {
	return errors.Is(err, cluster.ErrRemote) && strings.Contains(err.Error(), notOwnerText)
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// noteSeen tells the owner of req's member, when it is another instance,
// that the member was seen in req's channel (for watch), once per member,
// channel and owner (again after seenRefresh). Chatter is every message
// in every channel, so it is cheap: within seenRecheck of the member's
// last chatter there nothing is looked up, and a member with no owner yet
// (who never made a request, so holds no session anywhere) gets none: the
// lookup only reads. A failure is logged and tried again next time.
func (r *Router) noteSeen(ctx context.Context, cl cluster.Cluster, req bridge.Request) {
	mk := key(req.Member)
	sk := seenKey{member: mk, place: req.Place.ID}
	now := time.Now()
	r.seenMu.Lock()
	note, known := r.seen[sk]
	r.seenMu.Unlock()
	if known && now.Sub(note.checked) < seenRecheck {
		return
	}
	owner, err := cl.LiveOwner(ctx, mk)
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "could not find a member's owner for a seen note",
			slog.String("platform", req.Member.Platform), slog.String("error", err.Error()))
		return
	}
	note.checked = now
	if owner == cl.Self() {
		owner = "" // the local bridge notes it
	}
	if owner != "" && (owner != note.owner || now.Sub(note.sent) >= seenRefresh) {
		body, err := json.Marshal(wireSeen{Member: req.Member, Place: req.Place})
		if err != nil {
			return
		}
		if _, err := cl.Forward(ctx, owner, cluster.Message{Kind: kindSeen, Body: body}); err != nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "a seen note did not reach the member's owner",
				slog.String("platform", req.Member.Platform), slog.String("error", err.Error()))
			return
		}
		note.owner, note.sent = owner, now
	}
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	if _, ok := r.seen[sk]; !ok {
		for len(r.seenOrder) > 0 && len(r.seen) >= maxSeenNotes {
			delete(r.seen, r.seenOrder[0])
			r.seenOrder = r.seenOrder[1:]
		}
		r.seenOrder = append(r.seenOrder, sk)
	}
	r.seen[sk] = note
}

// Publish sends a channel post's pointers to every instance (this one
// included); use it as bridge.Options.Publish.
func (r *Router) Publish(ctx context.Context, p bridge.Published) error {
	cl := r.cluster()
	if cl == nil {
		return errors.New("relay: no cluster yet; watch runs on this instance only")
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("relay: encoding a published post: %w", err)
	}
	if len(body) > MaxPublishedBytes {
		return errors.New("relay: the post's pointers are too large to publish; watch runs on this instance only")
	}
	return cl.Publish(ctx, body)
}

// HandlePublished receives a post published by any instance and runs
// watch for the members this one owns (use it as
// cluster.Config.OnPointer). A malformed one is logged and ignored.
func (r *Router) HandlePublished(ctx context.Context, from string, body []byte) {
	var p bridge.Published
	if err := decode(body, MaxPublishedBytes, &p); err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "a published post was ignored", slog.String("from", from), slog.String("error", err.Error()))
		return
	}
	r.local.DeliverPublished(ctx, p)
}

// HandleForwarded answers a message another instance forwarded to this
// one, the member's owner (use it as cluster.Config.Handle). A request is
// answered to the member through the platform's Relay; the answer to the
// sender holds no text the member typed. A member this instance does not
// own is refused, and the sender asks Owner again.
func (r *Router) HandleForwarded(ctx context.Context, from string, m cluster.Message) ([]byte, error) {
	cl := r.cluster()
	if cl == nil {
		return nil, errors.New("relay: this instance is not set up for forwarded requests yet; retry")
	}
	switch m.Kind {
	case kindRequest:
		var w wireRequest
		if err := decode(m.Body, MaxRequestBytes, &w); err != nil {
			return nil, errors.New(err.Error() + notRunMark)
		}
		if err := w.check(); err != nil {
			return nil, errors.New(err.Error() + notRunMark)
		}
		if err := r.ownOrRefuse(ctx, cl, w.Member); err != nil {
			return nil, err
		}
		rl := r.relay(w.Member.Platform)
		if rl == nil {
			return nil, errors.New("relay: this instance serves no " + w.Member.Platform + " adapter; run the same platforms on every instance" + notRunMark)
		}
		var ran atomic.Bool
		handle := func(ctx context.Context, req bridge.Request) error {
			if req.Reply == nil {
				return errors.New("relay: the adapter rebuilt no Responder")
			}
			ran.Store(true)
			return r.handleOwned(ctx, cl, req)
		}
		state := w.State
		w.State = nil
		err := rl.ServeRelayed(ctx, handle, w.request(), state)
		if err != nil && !ran.Load() {
			// The adapter refused the state (another version on the
			// sending instance?): nobody answered the member.
			return nil, errors.New(err.Error() + notRunMark)
		}
		return nil, err
	case kindSeen, kindLeft:
		var w wireSeen
		if err := decode(m.Body, MaxRequestBytes, &w); err != nil {
			return nil, err
		}
		if err := checkMember(w.Member); err != nil {
			return nil, err
		}
		if m.Kind == kindLeft {
			r.local.MemberLeft(w.Member, w.PlaceID, w.All)
			return nil, nil
		}
		if err := checkPlace(w.Place); err != nil || w.Place.Kind != bridge.Public {
			return nil, errMalformed
		}
		if err := r.ownOrRefuse(ctx, cl, w.Member); err != nil {
			return nil, err
		}
		r.local.NoteSeen(w.Member, w.Place)
		return nil, nil
	case kindMake, kindSent:
		var w wireMake
		if err := decode(m.Body, MaxRequestBytes, &w); err != nil {
			return nil, err
		}
		if err := r.ownedHere(ctx, cl, w.Member); err != nil {
			return nil, err
		}
		if m.Kind == kindSent {
			return nil, r.local.RecordSent(ctx, w.Member, w.Text)
		}
		ptr, err := r.local.MakePointer(ctx, w.Member, w.Chat, w.Text, w.MaxChars)
		var pe *bridge.PointerError
		switch {
		case errors.As(err, &pe):
			enc, merr := pe.MarshalBinary()
			if merr != nil {
				return nil, merr
			}
			return json.Marshal(wireMade{Err: enc})
		case err != nil:
			return nil, err
		}
		return json.Marshal(wireMade{Pointer: ptr})
	case kindUnlocked:
		var w wireSeen
		if err := decode(m.Body, MaxRequestBytes, &w); err != nil {
			return nil, err
		}
		if err := r.ownedHere(ctx, cl, w.Member); err != nil {
			return nil, err
		}
		names := r.local.UnlockedChats(w.Member)
		if names == nil {
			names = []string{}
		}
		return json.Marshal(names)
	}
	return nil, errors.New("relay: unknown forwarded message kind; run the same version on every instance")
}

// refWait bounds how long an owner waits for the publish of a post whose
// Receive button was pressed (and forwarded) before the publish arrived:
// the press and the publish travel separately, and a member can press
// within milliseconds of the button appearing.
const (
	refWait     = 2 * time.Second
	refWaitPoll = 20 * time.Millisecond
)

// awaitReceiveRef waits (bounded by refWait) until the local bridge knows
// req's Receive button, when req is a press; a button it never learns is
// then answered as forgotten, as on one instance.
func (r *Router) awaitReceiveRef(ctx context.Context, req bridge.Request) {
	if req.ReceiveRef == "" {
		return
	}
	deadline := time.Now().Add(refWait)
	for !r.local.KnowsReceiveRef(req.ReceiveRef, req.Member, req.Place) && time.Now().Before(deadline) {
		if pause(ctx, refWaitPoll) != nil {
			return
		}
	}
}

// ownedHere checks that a forwarded member is well formed and owned by
// this instance.
func (r *Router) ownedHere(ctx context.Context, cl cluster.Cluster, m bridge.Member) error {
	if err := checkMember(m); err != nil {
		return err
	}
	return r.ownOrRefuse(ctx, cl, m)
}

// ownOrRefuse returns errNotOwner unless this instance owns m.
func (r *Router) ownOrRefuse(ctx context.Context, cl cluster.Cluster, m bridge.Member) error {
	owner, err := cl.Owner(ctx, key(m))
	if err != nil {
		return fmt.Errorf("relay: finding the member's owner: %w", err)
	}
	if owner != cl.Self() {
		return errNotOwner
	}
	return nil
}

// MakePointer makes a pointer with the member's session, on their owner.
func (r *Router) MakePointer(ctx context.Context, m bridge.Member, chat, text string, maxChars int) (string, error) {
	cl := r.cluster()
	if cl == nil {
		return r.local.MakePointer(ctx, m, chat, text, maxChars)
	}
	body, err := json.Marshal(wireMake{Member: m, Chat: chat, Text: text, MaxChars: maxChars})
	if err != nil {
		return "", fmt.Errorf("relay: encoding an offer: %w", err)
	}
	// The text is what the member is typing: it travels only in a NOTIFY.
	ans, self, err := r.forward(ctx, cl, key(m), cluster.Message{Kind: kindMake, Body: body, Secret: true})
	clear(body)
	switch {
	case self:
		return r.local.MakePointer(ctx, m, chat, text, maxChars)
	case errors.Is(err, cluster.ErrSecretTooLarge):
		return "", &bridge.PointerError{Kind: bridge.PointerTooLong, Chat: chat, Max: min(len(text)-1, maxOfferTextBytes), Limit: maxChars}
	case err != nil:
		return "", fmt.Errorf("relay: making a pointer on the member's owner: %w", err)
	}
	var made wireMade
	if err := decode(ans, maxAnswerBytes, &made); err != nil {
		return "", err
	}
	if len(made.Err) > 0 {
		pe := new(bridge.PointerError)
		if err := pe.UnmarshalBinary(made.Err); err != nil {
			return "", err
		}
		return "", pe
	}
	return made.Pointer, nil
}

// RecordSent saves a sent pointer in the member's history, on their
// owner (it checks the pointer with the member's session).
func (r *Router) RecordSent(ctx context.Context, m bridge.Member, pointer string) error {
	cl := r.cluster()
	if cl == nil {
		return r.local.RecordSent(ctx, m, pointer)
	}
	body, err := json.Marshal(wireMake{Member: m, Text: pointer})
	if err != nil {
		return fmt.Errorf("relay: encoding a sent pointer: %w", err)
	}
	_, self, err := r.forward(ctx, cl, key(m), cluster.Message{Kind: kindSent, Body: body})
	switch {
	case self:
		return r.local.RecordSent(ctx, m, pointer)
	case err != nil:
		return fmt.Errorf("relay: recording a sent pointer on the member's owner: %w", err)
	}
	return nil
}

// ChatNames lists the member's chats; it needs no session, so it is
// answered here.
func (r *Router) ChatNames(ctx context.Context, m bridge.Member) ([]string, error) {
	return r.local.ChatNames(ctx, m)
}

// UnlockedChats lists the member's unlocked chats, as their owner holds
// them; nil when the owner cannot be reached within CallTimeout.
func (r *Router) UnlockedChats(m bridge.Member) []string {
	cl := r.cluster()
	if cl == nil {
		return r.local.UnlockedChats(m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.CallTimeout)
	defer cancel()
	body, err := json.Marshal(wireSeen{Member: m})
	if err != nil {
		return nil
	}
	ans, self, err := r.forward(ctx, cl, key(m), cluster.Message{Kind: kindUnlocked, Body: body})
	switch {
	case self:
		return r.local.UnlockedChats(m)
	case err != nil:
		r.log.LogAttrs(ctx, slog.LevelWarn, "could not ask a member's owner for their unlocked chats",
			slog.String("platform", m.Platform), slog.String("error", err.Error()))
		return nil
	}
	var names []string
	if err := decode(ans, maxAnswerBytes, &names); err != nil {
		return nil
	}
	return names
}

// MemberLeft forgets the member in the channel here and on their owner
// (where watch runs for them), within CallTimeout.
func (r *Router) MemberLeft(m bridge.Member, placeID string, all bool) {
	r.local.MemberLeft(m, placeID, all)
	r.forgetSeen(m, placeID, all)
	cl := r.cluster()
	if cl == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.CallTimeout)
	defer cancel()
	body, err := json.Marshal(wireSeen{Member: m, PlaceID: placeID, All: all})
	if err != nil {
		return
	}
	if _, _, err := r.forward(ctx, cl, key(m), cluster.Message{Kind: kindLeft, Body: body}); err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "could not tell a member's owner they left a channel",
			slog.String("platform", m.Platform), slog.String("error", err.Error()))
	}
}

// RegisterNotifier registers n with the local bridge.
func (r *Router) RegisterNotifier(platform string, n bridge.Notifier) {
	r.local.RegisterNotifier(platform, n)
}

// forgetSeen forgets the seen notes sent for m in placeID (or, with all,
// in every channel), so that their next chatter there is noted again.
func (r *Router) forgetSeen(m bridge.Member, placeID string, all bool) {
	mk := key(m)
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	kept := r.seenOrder[:0]
	for _, sk := range r.seenOrder {
		if sk.member == mk && (all || sk.place == placeID) {
			delete(r.seen, sk)
			continue
		}
		kept = append(kept, sk)
	}
	r.seenOrder = kept
}

// forwardResult names how a forward ended, for Options.OnForward.
func forwardResult(err error) string {
	switch {
	case err == nil:
		return ForwardOK
	case errors.Is(err, cluster.ErrTimeout):
		return ForwardTimeout
	case errors.Is(err, cluster.ErrNoLiveInstance) || errors.Is(err, cluster.ErrUnknownInstance) || refused(err):
		return ForwardNoOwner
	case errors.Is(err, cluster.ErrSecretTooLarge):
		return ForwardTooLarge
	}
	return ForwardFailed
}
