package telegram

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// Several instances serving one bot: requests relayed to the member's
// owner, one long poller elected with a gate, webhooks behind a load
// balancer. Each instance reaches the one fake Bot API through a proxy of
// its own, which tells whose calls are whose.

// apiProxy forwards one instance's calls to the fake and records them.
type apiProxy struct {
	srv *httptest.Server

	mu    sync.Mutex
	calls []proxiedCall
}

type proxiedCall struct {
	method string
	status int
}

func newAPIProxy(t *testing.T, tg *telegramtest.Server) *apiProxy {
	t.Helper()
	target, err := url.Parse(tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &apiProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = nil
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	rp.ModifyResponse = func(resp *http.Response) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.calls = append(p.calls, proxiedCall{method: path.Base(resp.Request.URL.Path), status: resp.StatusCode})
		return nil
	}
	p.srv = httptest.NewServer(rp)
	t.Cleanup(p.srv.Close)
	return p
}

// count returns how many calls of method were answered, and how many of
// them with status (0: any).
func (p *apiProxy) count(method string, status int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c.method == method && (status == 0 || c.status == status) {
			n++
		}
	}
	return n
}

// instance is one adapter of a cluster test, on a shared fake.
type instance struct {
	a     *Adapter
	core  bridge.Core
	proxy *apiProxy
	stop  context.CancelFunc
	done  chan error
}

// startInstance starts an adapter with core on tg, through a proxy of its
// own.
func startInstance(t *testing.T, tg *telegramtest.Server, core bridge.Core, edit func(*Config), opts ...Option) *instance {
	t.Helper()
	in := &instance{core: core, proxy: newAPIProxy(t, tg), done: make(chan error, 1)}
	cfg := fastConfig(tg)
	cfg.APIURL = in.proxy.srv.URL
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg, core, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	in.a = a
	ctx, cancel := context.WithCancel(context.Background())
	in.stop = cancel
	go func() { in.done <- a.Run(ctx) }()
	t.Cleanup(func() { in.shutdown(t) })
	tg.Await(t, waitLimit, "the instance to connect", func() bool { return a.username() != "" })
	return in
}

// shutdown stops the instance and waits for Run (again: no-op).
func (in *instance) shutdown(t *testing.T) {
	t.Helper()
	in.stop()
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
		in.done <- err
	case <-t.Context().Done():
	}
}

// memGate is an in-memory poll gate shared by the instances of a test;
// side gives each its handle.
type memGate struct{ lock chan struct{} }

func newMemGate() *memGate { return &memGate{lock: make(chan struct{}, 1)} }

// gateSide is one instance's handle on a memGate.
type gateSide struct {
	g        *memGate
	mu       sync.Mutex
	lost     chan struct{}
	held     bool
	broken   bool          // killed: acquires nothing more, like an instance cut off from the database
	acquired chan struct{} // closed at the first Acquire that succeeds
}

func (g *memGate) side() *gateSide { return &gateSide{g: g, acquired: make(chan struct{})} }

func (s *gateSide) Acquire(ctx context.Context) (<-chan struct{}, func(), error) {
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	if broken {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	select {
	case s.g.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held, s.lost = true, make(chan struct{})
	select {
	case <-s.acquired:
	default:
		close(s.acquired)
	}
	return s.lost, s.giveUp, nil
}

// giveUp releases the gate if this side holds it.
func (s *gateSide) giveUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		s.held = false
		<-s.g.lock
	}
}

// kill makes the holder lose the gate, as a broken database connection
// does: lost closes and the gate is free for another.
func (s *gateSide) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken = true
	if s.held {
		s.held = false
		close(s.lost)
		<-s.g.lock
	}
}

func (s *gateSide) holds() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

var _ platform.PollGate = (*gateSide)(nil)

// relayingCore is the receiving instance's core: it hands every request
// to the owner's adapter (ServeRelayed, with the owner's core) and marks
// it relayed, as the host does for a member another instance owns.
type relayingCore struct {
	*fakeCore
	owner     *Adapter
	ownerCore bridge.Core

	mu     sync.Mutex
	errs   []error
	states [][]byte
}

func (c *relayingCore) Handle(ctx context.Context, req bridge.Request) error {
	rel, ok := req.Reply.(platform.Relayable)
	if !ok {
		return errors.New("the responder is not relayable")
	}
	state, err := rel.RelayState()
	if err != nil {
		return err
	}
	fwd := req
	fwd.Reply = nil
	err = c.owner.ServeRelayed(ctx, c.ownerCore.Handle, fwd, state)
	rel.Relayed()
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.states = append(c.states, state)
	c.mu.Unlock()
	return c.fakeCore.Handle(ctx, req) // record it; its on func is unset
}

func (c *relayingCore) relayStates() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.states...)
}

func (c *relayingCore) relayErrs() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.errs...)
}

// relayPair starts A (polling, holding the gate: it receives every update)
// whose core relays everything to B (polling mode, on standby), whose core
// is ownerCore.
func relayPair(t *testing.T, tg *telegramtest.Server) (a, b *instance, recv *relayingCore, ownerCore *fakeCore) {
	t.Helper()
	gate := newMemGate()
	ownerCore = newFakeCore()
	sideA := gate.side()
	recv = &relayingCore{fakeCore: newFakeCore(), ownerCore: ownerCore}
	a = startInstance(t, tg, recv, nil, WithPollGate(sideA))
	tg.Await(t, waitLimit, "A to poll", func() bool { return tg.Holding() > 0 })
	b = startInstance(t, tg, ownerCore, nil, WithPollGate(gate.side()))
	recv.owner = b.a
	if !sideA.holds() || !b.a.Status().Standby || a.a.Status().Standby {
		t.Fatalf("A should poll and B stand by: A holds %v, A %+v, B %+v", sideA.holds(), a.a.Status(), b.a.Status())
	}
	return a, b, recv, ownerCore
}

func TestARelayedCommandIsAnsweredOnceByTheOwner(t *testing.T) {
	tg := telegramtest.New(t, telegramtest.Options{})
	a, b, recv, owner := relayPair(t, tg)
	owner.setOn(func(ctx context.Context, req bridge.Request) error {
		if req.Command != "hello" || req.Args != "words-only-the-owner-reads" || req.Member.ID != strconv.FormatInt(alice.ID, 10) || req.Member.DisplayName != "Alice" {
			return errors.New("unexpected request")
		}
		if err := req.Reply.Private(ctx, "just for you"); err != nil {
			return err
		}
		return req.Reply.Public(ctx, bridge.PublicPost{Text: "for everyone"})
	})
	msg := tg.SendText(alice, team, "/clm hello words-only-the-owner-reads")
	recv.awaitRequests(t, 1)
	owner.awaitRequests(t, 1)
	tg.Await(t, waitLimit, "the public answer", func() bool { return len(tg.BotMessages(team.ID)) > 0 })
	// Stopping drains both outboxes: anything more either would send is
	// sent by now.
	a.shutdown(t)
	b.shutdown(t)

	if errs := recv.relayErrs(); len(errs) != 1 || errs[0] != nil {
		t.Fatalf("ServeRelayed returned %v", errs)
	}
	// The state is addressing only: what the member typed travels in the
	// request (sealed by the cluster), never in the state.
	if st := recv.relayStates()[0]; strings.Contains(string(st), "words") {
		t.Errorf("the relay state holds what the member typed: %s", st)
	}
	dm, group := tg.BotMessages(alice.ID), tg.BotMessages(team.ID)
	if len(dm) != 1 || dm[0].Text != "just for you" {
		t.Errorf("alice's private chat got %+v, want one answer", dm)
	}
	if len(group) != 1 || group[0].Text != "for everyone" || group[0].ReplyTo == nil || group[0].ReplyTo.MessageID != msg.MessageID {
		t.Errorf("the group got %+v, want one answer replying to the command", group)
	}
	if n := a.proxy.count("sendMessage", 0); n != 0 {
		t.Errorf("the receiving instance sent %d messages itself", n)
	}
	if n := b.proxy.count("sendMessage", http.StatusOK); n != 2 {
		t.Errorf("the owner sent %d messages, want 2", n)
	}
}

func TestARelayedReceivePressIsAnsweredOnceByTheOwner(t *testing.T) {
	const ref = "r1"
	short, long := "Work · alice: nine", strings.Repeat("a long opened message ", 20)
	tests := []struct {
		name      string
		who       telegramtest.User
		text      string
		wantAlert bool
	}{
		{"short text as the press's alert", bob, short, true},
		{"long text privately, the press acknowledged", carol, long, false},
	}
	tg := telegramtest.New(t, telegramtest.Options{})
	a, b, recv, owner := relayPair(t, tg)
	owner.setOn(func(ctx context.Context, req bridge.Request) error {
		switch {
		case req.Post != "":
			return req.Reply.Public(ctx, bridge.PublicPost{Text: "A CLM pointer: tap Receive to open it.", ReceiveRef: ref})
		case req.ReceiveRef == ref && req.Member.ID == strconv.FormatInt(bob.ID, 10):
			return req.Reply.Private(ctx, short)
		case req.ReceiveRef == ref && req.Member.ID == strconv.FormatInt(carol.ID, 10):
			return req.Reply.Private(ctx, long)
		}
		return errors.New("unexpected request")
	})
	tg.SendText(alice, team, `{"e": 1, "n": "x", "d": "ab"}`)
	tg.Await(t, waitLimit, "the Receive post", func() bool { return len(tg.BotMessages(team.ID)) == 1 })
	post := tg.BotMessages(team.ID)[0]
	if len(post.Buttons()) != 1 {
		t.Fatalf("the owner's post has no Receive button: %+v", post)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tg.PressButton(tt.who, post, post.Buttons()[0].CallbackData)
			owner.awaitRequests(t, 2+i)
			recv.awaitRequests(t, 2+i)
			var answers []telegramtest.Call
			tg.Await(t, waitLimit, "the press's answer", func() bool {
				answers = answers[:0]
				for _, c := range tg.Calls("answerCallbackQuery") {
					if c.Params["callback_query_id"] == id {
						answers = append(answers, c)
					}
				}
				return len(answers) > 0
			})
			if tt.wantAlert && (answers[0].Params["text"] != tt.text || answers[0].Params["show_alert"] != "true") {
				t.Errorf("answer = %+v, want the text as an alert", answers[0].Params)
			}
			if !tt.wantAlert {
				if strings.Contains(answers[0].Params["text"], "opened") {
					t.Errorf("the long text leaked into the press's answer: %+v", answers[0].Params)
				}
				tg.Await(t, waitLimit, "the private text", func() bool { return len(tg.BotMessages(tt.who.ID)) > 0 })
			}
		})
	}
	a.shutdown(t)
	b.shutdown(t)
	if errs := recv.relayErrs(); len(errs) != 3 || errors.Join(errs...) != nil {
		t.Fatalf("ServeRelayed returned %v", errs)
	}
	// Exactly one answer per press, all of them the owner's.
	if n := len(tg.Calls("answerCallbackQuery")); n != len(tests) {
		t.Errorf("%d answerCallbackQuery calls for %d presses", n, len(tests))
	}
	if n := a.proxy.count("answerCallbackQuery", 0) + a.proxy.count("sendMessage", 0); n != 0 {
		t.Errorf("the receiving instance answered %d times itself", n)
	}
	if n := b.proxy.count("answerCallbackQuery", http.StatusOK); n != len(tests) {
		t.Errorf("the owner answered %d presses, want %d", n, len(tests))
	}
	var dm []string
	for _, m := range tg.BotMessages(carol.ID) {
		dm = append(dm, m.Text)
	}
	if strings.Join(dm, "") != long {
		t.Errorf("carol's private chat got %q, want the long text once", dm)
	}
}

func TestServeRelayedRefusesABadState(t *testing.T) {
	tg := telegramtest.New(t, telegramtest.Options{})
	core := newFakeCore()
	in := startInstance(t, tg, core, nil)
	aliceID := strconv.FormatInt(alice.ID, 10)
	inGroup := bridge.Request{Member: bridge.Member{Platform: Name, ID: aliceID, DisplayName: "Alice"},
		Place: bridge.Place{Kind: bridge.Public, ID: strconv.FormatInt(team.ID, 10)}, Command: "hello"}
	good := `{"v":1,"u":` + aliceID + `,"f":"Alice","c":` + strconv.FormatInt(team.ID, 10) + `,"m":7,"k":"hello"}`
	tests := []struct {
		name  string
		req   bridge.Request
		state string
	}{
		{"empty", inGroup, ``},
		{"not JSON", inGroup, `hello`},
		{"two values", inGroup, good + good},
		{"another version", inGroup, strings.Replace(good, `"v":1`, `"v":2`, 1)},
		{"an unknown field", inGroup, strings.Replace(good, `"v":1`, `"v":1,"text":"hi"`, 1)},
		{"no user", inGroup, strings.Replace(good, `"u":`+aliceID, `"u":0`, 1)},
		{"a private chat of another user", bridge.Request{Member: inGroup.Member,
			Place: bridge.Place{Kind: bridge.Private, ID: "1002"}}, `{"v":1,"u":` + aliceID + `,"c":1002,"p":true}`},
		{"a group with a positive id", inGroup, strings.Replace(good, strconv.FormatInt(team.ID, 10), "500", 1)},
		{"another member than the request's", bridge.Request{Member: bridge.Member{Platform: Name, ID: "1002"},
			Place: inGroup.Place}, good},
		{"another chat than the request's", bridge.Request{Member: inGroup.Member,
			Place: bridge.Place{Kind: bridge.Public, ID: "-7"}}, good},
		{"another platform's member", bridge.Request{Member: bridge.Member{Platform: "discord", ID: aliceID},
			Place: inGroup.Place}, good},
		{"too large", inGroup, strings.Replace(good, `"f":"Alice"`, `"f":"`+strings.Repeat("A", 3000)+`"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			err := in.a.ServeRelayed(t.Context(), func(context.Context, bridge.Request) error {
				called = true
				return nil
			}, tt.req, []byte(tt.state))
			if !errors.Is(err, errBadRelayState) || called {
				t.Errorf("ServeRelayed = %v (handled: %v), want errBadRelayState and nothing handled", err, called)
			}
		})
	}
	// The good state is served, so the cases above fail for their flaw.
	if err := in.a.ServeRelayed(t.Context(), func(ctx context.Context, req bridge.Request) error {
		return req.Reply.Private(ctx, "ok")
	}, inGroup, []byte(good)); err != nil {
		t.Fatalf("the good state: %v", err)
	}
	in.shutdown(t)
	if n := in.proxy.count("sendMessage", 0); n != 1 {
		t.Errorf("%d messages sent, want only the good state's one", n)
	}
}

func TestOnlyTheGateHolderPolls(t *testing.T) {
	tests := []struct {
		name    string
		handOff func(t *testing.T, a *instance, sideA *gateSide)
		// clean: the holder stops polling before it lets go, so the next
		// one's long polls never meet its own. A holder that loses the
		// gate may have a getUpdates in flight, which can end the next
		// holder's first long poll (409; it retries).
		clean bool
	}{
		{"the holder stops", func(t *testing.T, a *instance, _ *gateSide) { a.shutdown(t) }, true},
		{"the holder loses its gate", func(_ *testing.T, _ *instance, sideA *gateSide) { sideA.kill() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := telegramtest.New(t, telegramtest.Options{})
			gate := newMemGate()
			sideA, sideB := gate.side(), gate.side()
			coreA, coreB := newFakeCore(), newFakeCore()
			a := startInstance(t, tg, coreA, nil, WithPollGate(sideA))
			<-sideA.acquired
			b := startInstance(t, tg, coreB, nil, WithPollGate(sideB))

			tg.SendText(alice, alice.PrivateChat(), "/clm one")
			coreA.awaitRequests(t, 1)
			if n := b.proxy.count("getUpdates", 0); n != 0 || tg.Conflicts() != 0 {
				t.Fatalf("the standby instance polled %d times; %d conflicts", n, tg.Conflicts())
			}
			if !b.a.Status().Standby || a.a.Status().Standby {
				t.Errorf("Standby: A %v, B %v; want A polling, B standing by", a.a.Status().Standby, b.a.Status().Standby)
			}

			// Telegram forgets an update once the next getUpdates asks
			// past it. An update taken but not yet confirmed when the
			// holder loses the gate abruptly may reach the next holder
			// again (at least once); here the first is confirmed.
			tg.Await(t, waitLimit, "the first update to be confirmed", func() bool { return tg.Pending() == 0 && tg.Holding() > 0 })
			tt.handOff(t, a, sideA)
			<-sideB.acquired
			tg.SendText(alice, alice.PrivateChat(), "/clm two")
			reqs := coreB.awaitRequests(t, 1)
			if reqs[0].Command != "two" {
				t.Errorf("B handled %q", reqs[0].Command)
			}
			b.shutdown(t)
			a.shutdown(t)
			if got, _ := coreA.requests(); len(got) != 1 {
				t.Errorf("A handled %d requests, want only the first", len(got))
			}
			if got, _ := coreB.requests(); len(got) != 1 {
				t.Errorf("B handled %d requests, want only the second", len(got))
			}
			if n := b.proxy.count("getUpdates", http.StatusConflict); tt.clean && n != 0 {
				t.Errorf("B's long polls were ended %d times by a conflict", n)
			}
		})
	}
}

func TestWebhookInstancesBehindALoadBalancer(t *testing.T) {
	tg := telegramtest.New(t, telegramtest.Options{})
	const secret = "shared_secret-of-the-cluster"
	hook := func(c *Config) {
		c.WebhookURL = "https://bridge.example.org/telegram"
		c.WebhookListen = "127.0.0.1:0"
		c.WebhookSecret = secret
	}
	gate := newMemGate() // ignored in webhook mode: both serve
	var ins []*instance
	var cores []*fakeCore
	for i := range 2 {
		core := newFakeCore()
		core.setOn(func(ctx context.Context, req bridge.Request) error {
			return req.Reply.Private(ctx, "answer to "+req.Command)
		})
		in := startInstance(t, tg, core, hook, WithPollGate(gate.side()))
		tg.Await(t, waitLimit, "setWebhook", func() bool { return len(tg.Calls("setWebhook")) > i })
		ins, cores = append(ins, in), append(cores, core)
	}
	for i, cmd := range []string{"first", "second"} {
		tg.SendText(alice, alice.PrivateChat(), "/clm "+cmd)
		ups := tg.TakeUpdates()
		if len(ups) != 1 {
			t.Fatalf("%d updates pending", len(ups))
		}
		// The load balancer picks instance i.
		status, err := telegramtest.PostUpdate(t.Context(), "http://"+ins[i].a.WebhookAddr()+"/telegram", secret, ups[0])
		if err != nil || status != http.StatusOK {
			t.Fatalf("posting to instance %d: %d, %v", i, status, err)
		}
		if reqs := cores[i].awaitRequests(t, 1); reqs[0].Command != cmd {
			t.Errorf("instance %d handled %q", i, reqs[0].Command)
		}
	}
	tg.Await(t, waitLimit, "both answers", func() bool { return len(tg.BotMessages(alice.ID)) == 2 })
	for i, in := range ins {
		if in.a.Status().Standby {
			t.Errorf("instance %d stands by in webhook mode", i)
		}
		in.shutdown(t)
		// Stopping one instance must leave the webhook to the others.
		if n := in.proxy.count("getUpdates", 0) + in.proxy.count("deleteWebhook", 0); n != 0 {
			t.Errorf("instance %d polled or deleted the webhook (%d calls)", i, n)
		}
	}
	if url, _ := tg.Webhook(); url == "" {
		t.Errorf("the webhook was removed when the instances stopped")
	}
}
