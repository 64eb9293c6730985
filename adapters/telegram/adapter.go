package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// callTimeout bounds every Bot API call but getUpdates.
const callTimeout = 30 * time.Second

// defaultDrainTimeout is how long Run waits, once its context ends, for
// the updates taken from Telegram to be handled and their answers sent.
const defaultDrainTimeout = 10 * time.Second

// allowedUpdates are the update types the bridge asks Telegram for, in
// getUpdates and setWebhook: every type it has a handler for. Telegram
// sends only the types named (and remembers the list), so a type missing
// here is never seen: edits (a secret edited into a group message) and
// chat_member (a member who left) must be asked for.
func allowedUpdates() []string {
	return []string{"message", "edited_message", "callback_query", "inline_query",
		"chosen_inline_result", "chat_member", "my_chat_member"}
}

// Option adjusts an Adapter.
type Option func(*options)

type options struct {
	metrics  platform.Metrics
	clock    clock
	debounce time.Duration // wait for a member to stop typing an inline query
	drain    time.Duration
	gate     platform.PollGate // nil: poll whenever Run runs
}

// WithMetrics makes the adapter count API errors and report its outbox
// depth in m (nil: nowhere).
func WithMetrics(m platform.Metrics) Option {
	return func(o *options) {
		o.metrics = platform.Host{Metrics: m}.MetricsOf()
	}
}

// WithDrainTimeout sets how long Run waits, after its context ends, for
// the requests in flight to be answered (default 10 s); then it cancels
// them.
func WithDrainTimeout(d time.Duration) Option {
	return func(o *options) { o.drain = d }
}

// WithPollGate makes the adapter, in long-polling mode, poll only while it
// holds g (see platform.PollGate): Run waits for g.Acquire before its first
// getUpdates, stops polling when the gate is lost and then waits to acquire
// it again, and releases it when it stops, after confirming the updates it
// took. Telegram allows one getUpdates per bot at a time (a second one
// ends the first with 409 Conflict), so when several instances serve one
// bot by long polling, they share a gate and exactly one polls. Webhook
// mode ignores the gate: every instance serves the updates the load
// balancer posts to it. nil (the default) polls whenever Run runs.
func WithPollGate(g platform.PollGate) Option {
	return func(o *options) { o.gate = g }
}

// Status is what the adapter knows about its connection to Telegram.
type Status struct {
	// Connected is true once getMe succeeded and while polling (or the
	// webhook registration) works.
	Connected bool
	// Username is the bot's @username (without "@"), once known.
	Username string
	// PrivacyMode is true when the bot cannot read all group messages
	// (can_read_all_group_messages is false): in groups it sees only
	// commands, replies to it and messages sent through it.
	PrivacyMode bool
	// Webhook is true in webhook mode, false for long polling.
	Webhook bool
	// Standby is true in long-polling mode with a poll gate (see
	// WithPollGate) while another instance holds the gate: this one
	// answers requests relayed to it but takes no updates (and
	// LastContact is not refreshed by polling).
	Standby bool
	// LastError is the last connection problem (token redacted), "" when
	// none.
	LastError string
	// LastContact is when Telegram last answered getMe or getUpdates
	// (zero before the first answer): a poll that stalls shows here.
	LastContact time.Time
}

// Adapter connects one Telegram bot to the bridge core.
type Adapter struct {
	cfg  resolved
	core bridge.Core
	log  *slog.Logger
	red  *redactor
	opts options

	// polling ends when Run's context does: no more updates are taken.
	polling     context.Context
	stopPolling context.CancelFunc
	// life ends when Run returns, after the updates taken were handled
	// and answered (or the drain timed out): it cancels handlers and calls.
	life   context.Context
	stop   context.CancelFunc
	bot    *tele.Bot
	out    *outbox
	disp   *dispatcher
	hook   *webhookPoller // nil in polling mode
	inline *inlineLatest
	offers *inlineOffers
	groups *memberGroups // where members were seen, to post for them
	posts  *postTokens   // "Post in <group>" buttons shown
	turn   *pollTurn     // ends the getUpdates of the current turn at the poll gate
	runMu  sync.Mutex
	ran    bool
	mu     sync.Mutex
	status Status

	// refused is set (under mu) once Telegram refused the bot for good.
	refused error

	// plainHTTP reaches the Bot API around telebot (the shutdown's
	// confirming getUpdates).
	plainHTTP *http.Client
}

var _ bridge.Notifier = (*Adapter)(nil)

// New makes an adapter for cfg that hands requests to core and logs to
// logger. It checks the configuration but does not contact Telegram; Run
// does. It registers the adapter as core's notifier for "telegram".
func New(cfg Config, core bridge.Core, logger *slog.Logger, opts ...Option) (*Adapter, error) {
	rc, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if core == nil {
		return nil, errors.New("telegram: no bridge core given")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := options{metrics: platform.NoMetrics{}, clock: realClock{}, debounce: inlineDebounce, drain: defaultDrainTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	a := &Adapter{cfg: rc, core: core, log: logger, red: newRedactor(rc.Token), opts: o}
	a.life, a.stop = context.WithCancel(context.Background())
	a.polling, a.stopPolling = context.WithCancel(a.life)
	a.status.Webhook = rc.WebhookURL != ""
	a.status.Standby = rc.WebhookURL == "" && o.gate != nil
	a.turn = &pollTurn{}

	base := http.DefaultTransport
	a.plainHTTP = &http.Client{Transport: base}
	client := &http.Client{Transport: &transport{
		base: base, life: a.life, polling: a.polling, turn: a.turn, met: o.metrics,
		callTimeout: callTimeout, pollTimeout: rc.PollTimeout + 15*time.Second,
	}}

	var poller tele.Poller
	if rc.WebhookURL != "" {
		a.hook = &webhookPoller{a: a}
		poller = a.hook
	} else {
		poller = &longPoller{a: a}
	}
	a.bot, err = tele.NewBot(tele.Settings{
		URL: rc.APIURL, Token: rc.Token, Poller: poller, Client: client,
		Synchronous: true, // handlers only queue work; order is kept per chat
		Offline:     true, // Run reads getMe, with retries
		OnError: func(err error, _ tele.Context) {
			a.log.Warn("telegram: update handling failed", "error", a.red.err(err))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("telegram: cannot set up the bot: %s", a.red.err(err))
	}
	a.out = newOutbox(a.life, o.clock, logger, a.red,
		pacing{perChat: rc.PerChatInterval, groupPerMinute: rc.GroupPerMinute, globalPerSec: rc.GlobalPerSecond},
		retrying{maxAttempts: rc.MaxAttempts, base: rc.RetryBase, max: rc.RetryMax})
	a.disp = newDispatcher(a.life, logger)
	a.inline = &inlineLatest{m: map[int64]string{}}
	a.offers = newInlineOffers()
	a.groups = newMemberGroups()
	a.posts = newPostTokens()
	o.metrics.SetOutboxDepthFunc(Name, a.out.Backlog)
	a.out.sent = func(took time.Duration) { o.metrics.Delivered(Name, took) }

	a.bot.Handle("/clm", a.onMessage)
	a.bot.Handle("/start", a.onMessage)
	a.bot.Handle("/help", a.onMessage)
	a.bot.Handle(tele.OnText, a.onMessage)
	// An edit, and a photo's or file's caption, are text like a new
	// message's: the same policy applies (a secret is burned, a pointer
	// gets a Receive button, a command is a command).
	a.bot.Handle(tele.OnEdited, a.onMessage)
	a.bot.Handle(tele.OnMedia, a.onMessage)
	a.bot.Handle(tele.OnUserLeft, a.onUserLeft)
	a.bot.Handle(tele.OnChatMember, a.onChatMember)
	a.bot.Handle(tele.OnMyChatMember, a.onChatMember)
	a.bot.Handle("\f"+receiveUnique, a.onReceive)
	a.bot.Handle("\f"+postUnique, a.onPostPress)
	a.bot.Handle(tele.OnCallback, a.onOtherCallback)
	a.bot.Handle(tele.OnQuery, a.onQuery)
	a.bot.Handle(tele.OnInlineResult, a.onChosen)

	core.RegisterNotifier(Name, a)
	return a, nil
}

// Name returns "telegram".
func (a *Adapter) Name() string { return Name }

// Status returns what the adapter knows about its connection.
func (a *Adapter) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

func (a *Adapter) setConnected(ok bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status.Connected = ok
	a.status.LastError = a.red.err(err)
	if ok {
		a.status.LastContact = time.Now()
	}
}

// setStandby records whether another instance holds the poll gate.
func (a *Adapter) setStandby(standby bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status.Standby = standby
}

func (a *Adapter) username() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status.Username
}

// Run connects to Telegram and serves updates until ctx ends. Then it
// stops taking updates, finishes handling the ones it took and sends their
// answers (waiting at most the drain timeout, then cancelling what is
// left), and returns nil. It returns an error when it cannot start (a
// webhook address it cannot listen on), and one wrapping
// platform.ErrRefused, after the same drain, when Telegram refuses the
// token (401, 404): no retry can mend that. Telegram being unreachable is
// not an error: Run keeps retrying with a backoff, and Status says so.
func (a *Adapter) Run(ctx context.Context) error {
	a.runMu.Lock()
	if a.ran {
		a.runMu.Unlock()
		return errors.New("telegram: Run called twice")
	}
	a.ran = true
	a.runMu.Unlock()
	defer a.stop()
	defer context.AfterFunc(ctx, a.stopPolling)()

	if a.hook != nil {
		if err := a.hook.listen(); err != nil {
			return err
		}
	}
	if err := a.hello(a.polling); err != nil {
		a.shutdown(false)
		if errors.Is(err, platform.ErrRefused) {
			return err
		}
		return nil // ctx ended before Telegram answered
	}
	a.setup(a.polling)

	started := make(chan struct{})
	go func() {
		close(started)
		a.bot.Start()
	}()
	<-started
	<-a.polling.Done()
	a.shutdown(true)
	return a.refusal()
}

// refuse records that Telegram refused the bot for good (see
// refusedError) and stops polling, so Run drains and returns it.
func (a *Adapter) refuse(err error) {
	a.mu.Lock()
	if a.refused == nil {
		a.refused = err
	}
	a.mu.Unlock()
	a.stopPolling()
}

func (a *Adapter) refusal() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refused
}

// refusedError returns, for a getMe or getUpdates failure that no retry
// can mend, the error Run ends with; nil for any other. Telegram answers
// 401 Unauthorized for a revoked token and 404 Not Found for a bot that no
// longer exists.
func refusedError(ae *apiError) error {
	if ae.Code != 401 && ae.Code != 404 {
		return nil
	}
	return fmt.Errorf("telegram: %s: %w: %s", ae.Error(), platform.ErrRefused, hintFor(ae))
}

// shutdown stops polling (if it started), then lets the handlers finish
// the updates already taken and the outbox send what they queued, for at
// most the drain timeout, and then cancels whatever is left.
func (a *Adapter) shutdown(started bool) {
	a.stopPolling()
	if started {
		a.bot.Stop() // returns once the poller has stopped
		a.handleTaken()
	}
	if a.hook != nil {
		a.hook.close()
	}
	timer := time.NewTimer(a.opts.drain)
	defer timer.Stop()
	drained := true
	select {
	case <-a.disp.stopTaking():
	case <-timer.C:
		drained = false
	}
	if drained {
		select {
		case <-a.out.idle():
		case <-timer.C:
			drained = false
		}
	}
	if !drained {
		a.log.Warn("telegram: requests or answers still pending at shutdown; cancelling them",
			"drain_timeout", a.opts.drain, "outbox_backlog", a.out.Backlog())
	}
	a.stop()
	<-a.disp.stopTaking()
	a.out.wait()
	a.setConnected(false, nil)
}

// handleTaken hands the updates the poller took but telebot had not yet
// processed (they are confirmed to Telegram, which will not send them
// again) to their handlers, which queue them. Run calls it after the bot
// stopped, so nothing else reads the channel.
func (a *Adapter) handleTaken() {
	for {
		select {
		case u := <-a.bot.Updates:
			a.bot.ProcessUpdate(u)
		default:
			return
		}
	}
}

// hello reads getMe, retrying with a backoff until it works or ctx ends.
func (a *Adapter) hello(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		me, err := a.getMe()
		if err == nil {
			a.bot.Me = me
			a.mu.Lock()
			a.status.Username = me.Username
			a.status.PrivacyMode = !me.CanReadMessages
			a.status.Connected = true
			a.status.LastError = ""
			a.status.LastContact = time.Now()
			a.mu.Unlock()
			a.log.Info("telegram: connected", "bot", me.Username, "privacy_mode", !me.CanReadMessages,
				"webhook", a.hook != nil)
			if !me.CanReadMessages {
				a.log.Info("telegram: privacy mode is on, so in groups the bot sees only commands, replies to its messages and messages sent through it (inline mode); pointers pasted by people get no Receive button. To change it: @BotFather, /setprivacy, Disable")
			}
			return nil
		}
		ae := classify("getMe", err, a.red)
		a.setConnected(false, ae)
		if ae.Kind == kindCanceled || ctx.Err() != nil {
			return ctx.Err()
		}
		if refused := refusedError(ae); refused != nil {
			a.log.Error("telegram: Telegram refused the bot token; stopping", "error", ae.Error(), "hint", hintFor(ae))
			return refused
		}
		wait := backoff(attempt, time.Second, time.Minute)
		if ae.Kind == kindFlood && ae.RetryAfter > 0 {
			wait = ae.RetryAfter
		}
		a.log.Warn("telegram: cannot reach the bot (getMe), retrying", "attempt", attempt,
			"retry_in", wait, "error", ae.Error(), "hint", hintFor(ae))
		if err := a.opts.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// hintFor says what an operator can do about a getMe failure.
func hintFor(e *apiError) string {
	switch {
	case e.Code == 401 || e.Code == 404:
		return "the token is wrong or revoked: get the current one from @BotFather (/token)"
	case e.Kind == kindTransient:
		return "check the network and CLM_TELEGRAM_API_URL"
	}
	return ""
}

func (a *Adapter) getMe() (*tele.User, error) {
	data, err := a.bot.Raw("getMe", nil)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Result *tele.User `json:"result"`
	}
	if err := json.Unmarshal(data, &resp); err != nil || resp.Result == nil || resp.Result.Username == "" {
		return nil, &apiError{Method: "getMe", Kind: kindTransient, msg: "unexpected answer"}
	}
	return resp.Result, nil
}

// setup registers the command menu and, for long polling, removes any
// webhook (getUpdates fails while one is set). Failures are logged: the
// bridge works without a menu.
func (a *Adapter) setup(ctx context.Context) {
	cmds := []tele.Command{
		{Text: "clm", Description: menuDescription(bridge.CommandNames())},
		{Text: "start", Description: "What this bot does"},
		{Text: "help", Description: "How to use CLM here"},
	}
	if err := a.out.do(ctx, delivery{lane: "meta", method: "setMyCommands",
		call: func() error { return a.bot.SetCommands(cmds) }}); err != nil {
		a.log.Warn("telegram: cannot register the command menu", "error", a.red.err(err))
	}
	if a.hook == nil {
		if err := a.out.do(ctx, delivery{lane: "meta", method: "deleteWebhook",
			call: func() error { return a.bot.RemoveWebhook() }}); err != nil {
			a.log.Warn("telegram: cannot remove a webhook; polling may fail until it is removed", "error", a.red.err(err))
		}
	}
}

// NotifyPrivately sends text to m's private chat with the bot.
func (a *Adapter) NotifyPrivately(ctx context.Context, m bridge.Member, text string) error {
	if m.Platform != Name {
		return fmt.Errorf("telegram: cannot notify a %s member", m.Platform)
	}
	id, err := strconv.ParseInt(m.ID, 10, 64)
	if err != nil || id <= 0 {
		return errors.New("telegram: not a Telegram user id")
	}
	if err := a.sendText(ctx, id, text, sendOpts{}); err != nil {
		if unreachablePrivately(err) {
			return bridge.ErrCannotReachPrivately
		}
		return err
	}
	return nil
}

// ---- incoming updates ----------------------------------------------------

// onMessage handles a text message (telebot calls it synchronously; the
// work is queued per chat).
func (a *Adapter) onMessage(c tele.Context) error {
	m := c.Message()
	if m == nil || m.Sender == nil || m.Chat == nil || (m.Sender.IsBot && m.Via == nil) {
		return nil
	}
	if _, ok := placeOf(m.Chat); !ok {
		return nil
	}
	if !m.Sender.IsBot || m.Via != nil {
		// The member and the bot are both in this group: the bot may
		// post there for the member (see postFromPrivate).
		a.groups.see(m.Sender.ID, m.Chat, a.opts.clock.Now())
	}
	msg := *m
	handle := func(ctx context.Context) { a.handleMessage(ctx, &msg) }
	if ct, ok := bridge.ParseCommandText(textOf(m)); ok && m.Chat.ID < 0 && ct.ForBot(a.username()) && ct.MayHoldSecret() {
		// A secret typed in a group must be deleted now, whatever the
		// group's lane holds: it goes through a priority lane, and if even
		// that is full, it is at least deleted.
		if !a.disp.submitPriority(secretLane(m.Chat.ID), handle) {
			a.burnUnhandled(&msg)
		}
		return nil
	}
	a.disp.submit(chatLane(m.Chat.ID), handle)
	return nil
}

// secretLane is the priority lane of the secret-bearing commands of chat.
func secretLane(chat int64) string {
	return "secret:" + strconv.FormatInt(chat, 10)
}

// burnUnhandled deletes a secret-bearing message that cannot be handled
// (too many of them are waiting in its group): the member is not answered,
// but the secret does not stay in the group.
func (a *Adapter) burnUnhandled(m *tele.Message) {
	a.log.Warn("telegram: too many secret-bearing commands waiting in one group; deleting one without handling it")
	err := a.out.post(a.life, []delivery{a.deleteDelivery(m.Chat.ID, m.ID)}, func(err error) {
		if err != nil && !isNotFound(err) && !errors.Is(err, context.Canceled) {
			a.log.Warn("telegram: cannot delete a secret-bearing message", "error", a.red.err(err))
		}
	})
	if err != nil {
		a.log.Warn("telegram: cannot delete a secret-bearing message", "error", a.red.err(err))
	}
}

// handleMessage turns one message into a request for the core (or answers
// /start and /help itself).
func (a *Adapter) handleMessage(ctx context.Context, m *tele.Message) {
	place, _ := placeOf(m.Chat)
	r := &responder{a: a, user: m.Sender, chat: m.Chat.ID, private: place.Kind == bridge.Private, msgID: m.ID}
	req := bridge.Request{
		Member:    memberOf(m.Sender),
		Place:     place,
		MessageID: strconv.Itoa(m.ID),
		Quoted:    textOf(m.ReplyTo),
		Caps:      caps(),
		Reply:     r,
	}
	text := textOf(m)
	ct, isCLM := bridge.ParseCommandText(text)
	cmd, isCmd, forUs := parseCommand(text, a.username())
	switch {
	case isCLM && !ct.ForBot(a.username()), !isCLM && isCmd && !forUs:
		return // "/clm@other_bot"
	case isCLM:
		// Every way of writing /clm (/CLM, a no-break space after it,
		// ／clm…) is a command, so the core's policy on secrets applies.
		req.Command, req.Args = ct.Name, ct.Args
	case isCmd && (cmd.Name == "start" || cmd.Name == "help"):
		text := a.intro()
		if cmd.Name == "help" {
			text += "\n\n" + bridge.HelpText("")
		}
		if err := a.postText(ctx, m.Chat.ID, text, sendOpts{replyTo: replyInGroup(place, m.ID)}); err != nil {
			a.log.Warn("telegram: cannot answer /"+cmd.Name, "error", a.red.err(err))
		}
		return
	default:
		if text == "" {
			return
		}
		req.Post = text
	}
	r.cmd = req.Command
	a.handle(ctx, req)
	a.closeMessage(ctx, r)
}

// closeMessage ends the handling of a message: a member shown pointers to
// post with no group known to post them in is told how to get one.
func (a *Adapter) closeMessage(ctx context.Context, r *responder) {
	if r.pointersWithoutGroup() {
		if err := a.sendText(ctx, r.user.ID, a.noGroupHint(), sendOpts{}); err != nil && ctx.Err() == nil {
			a.log.Warn("telegram: cannot send a private hint", "error", a.red.err(err))
		}
	}
}

func replyInGroup(p bridge.Place, id int) int {
	if p.Kind == bridge.Public {
		return id
	}
	return 0
}

// maxCommandDescription is Telegram's limit on a BotCommand's description.
const maxCommandDescription = 256

// menuDescription is the /clm entry of the command menu: the core's
// commands, as many as fit Telegram's limit.
func menuDescription(names []string) string {
	text := "CLM commands: /clm " + names[0]
	for _, n := range names[1:] {
		if len(text)+len(", "+n)+len(", …") > maxCommandDescription {
			return text + ", …"
		}
		text += ", " + n
	}
	return text
}

// intro explains the bot in two sentences and points to the commands.
func (a *Adapter) intro() string {
	return "CLM Bridge hides messages in CLM pointers: public JSON that only members who know a chat's secret can open, shown to each of them privately. " +
		"Unlock a chat here in private with /clm unlock <chat> <secret>, post with @" + a.username() +
		" <chat>: <message> in any chat, and see every command with /clm help."
}

// handle passes req to the core and logs what the core reports.
func (a *Adapter) handle(ctx context.Context, req bridge.Request) {
	if err := a.core.Handle(ctx, req); err != nil && ctx.Err() == nil {
		a.log.Warn("telegram: handling a request failed", "command", req.LogName(), "error", a.red.err(err))
	}
}

// onReceive handles a press on a Receive button.
func (a *Adapter) onReceive(c tele.Context) error {
	cb := c.Callback()
	if cb == nil || cb.Sender == nil {
		return nil
	}
	if cb.Message == nil || cb.Message.Chat == nil {
		id := cb.ID
		a.disp.submit("cb:"+id, func(ctx context.Context) {
			_ = a.answerCallback(ctx, id, "Open the group to use this button.", false, "")
		})
		return nil
	}
	place, ok := placeOf(cb.Message.Chat)
	if !ok {
		return nil
	}
	a.groups.see(cb.Sender.ID, cb.Message.Chat, a.opts.clock.Now())
	cbc := *cb
	// A press gets its own lane per member, not the group's: it must be
	// answered quickly, and the group's lane may be waiting on pacing.
	a.disp.submit("press:"+strconv.FormatInt(cb.Sender.ID, 10), func(ctx context.Context) {
		r := &callbackResponder{
			responder: responder{a: a, user: cbc.Sender, chat: cbc.Message.Chat.ID,
				private: place.Kind == bridge.Private, msgID: cbc.Message.ID},
			cbID: cbc.ID,
		}
		// The button sits on the bot's reply to the post that holds the
		// pointers: that post is what the press points at.
		req := bridge.Request{
			Member:     memberOf(cbc.Sender),
			Place:      place,
			Command:    "receive",
			ReceiveRef: cbc.Data,
			Caps:       caps(),
			Reply:      r,
		}
		if post := cbc.Message.ReplyTo; post != nil {
			req.Quoted, req.MessageID = textOf(post), strconv.Itoa(post.ID)
		}
		a.handle(ctx, req)
		r.finish(ctx)
	})
	return nil
}

// onOtherCallback answers presses on buttons the bridge does not know (an
// old message), so the member's client stops waiting.
func (a *Adapter) onOtherCallback(c tele.Context) error {
	cb := c.Callback()
	if cb == nil {
		return nil
	}
	id := cb.ID
	a.disp.submit("cb:"+id, func(ctx context.Context) {
		_ = a.answerCallback(ctx, id, "This button no longer works.", false, "")
	})
	return nil
}

// WebhookAddr returns the address the webhook server listens on, once Run
// has started in webhook mode ("" otherwise).
func (a *Adapter) WebhookAddr() string {
	if a.hook == nil {
		return ""
	}
	return a.hook.addr()
}

// listenTCP opens addr, saying what to change when it cannot.
func listenTCP(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("telegram: cannot listen for the webhook on %s (CLM_TELEGRAM_WEBHOOK_LISTEN): %w", addr, err)
	}
	return ln, nil
}
