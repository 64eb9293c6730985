package bridge

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// cheapArgon2 keeps tests fast (and -race bearable); production uses the
// storage default.
var cheapArgon2 = storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is a Responder that remembers every answer.
type recorder struct {
	mu        sync.Mutex
	private   []string
	public    []PublicPost
	files     []File
	deletes   int
	deleteErr error   // returned by DeleteRequest
	publicErr []error // returned by the Public calls in turn (nil: posted)
}

func (r *recorder) Private(_ context.Context, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.private = append(r.private, text)
	return nil
}

func (r *recorder) PrivateFile(_ context.Context, f File) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files = append(r.files, f)
	return nil
}

func (r *recorder) Public(_ context.Context, p PublicPost) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.publicErr) > 0 {
		err := r.publicErr[0]
		r.publicErr = r.publicErr[1:]
		if err != nil {
			return err // not posted: nobody saw it
		}
	}
	r.public = append(r.public, p)
	return nil
}

func (r *recorder) DeleteRequest(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deletes++
	return r.deleteErr
}

// text is everything said privately, one string.
func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.private, "\n")
}

// publicText is everything posted publicly, one string.
func (r *recorder) publicText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, p := range r.public {
		b.WriteString(p.Text + " [" + p.ReceiveRef + "]\n")
	}
	return b.String()
}

// notifier records watch deliveries.
type notifier struct {
	mu   sync.Mutex
	sent map[string][]string // member id → texts
}

func (n *notifier) NotifyPrivately(_ context.Context, m Member, text string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sent == nil {
		n.sent = make(map[string][]string)
	}
	n.sent[m.ID] = append(n.sent[m.ID], text)
	return nil
}

func (n *notifier) to(id string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.sent[id], "\n")
}

// env is a bridge over a fresh store with a fake clock, and a log buffer.
type env struct {
	t      testing.TB
	b      *Bridge
	store  *storage.Store
	clock  *fakeClock
	logs   *bytes.Buffer
	dbPath string
	caps   Capabilities
	all    []*recorder // every recorder handed out, for scans
	mu     sync.Mutex
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "bridge.db")
	st, err := storage.Open(context.Background(), path, storage.Options{Argon2: cheapArgon2})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.SweepEvery == 0 {
		opts.SweepEvery = -1
	}
	if opts.RatePerMinute == 0 {
		opts.RatePerMinute = -1
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &env{t: t, b: New(st, opts, logger), store: st, clock: clock, logs: logs, dbPath: path,
		caps: Capabilities{MaxPointerChars: telegramLimit, CanDelete: true, Buttons: true}}
	t.Cleanup(func() {
		_ = e.b.Close()
		_ = st.Close()
	})
	return e
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func member(name string) Member {
	return Member{Platform: "test", ID: "id-" + name, DisplayName: name}
}

var (
	dm      = Place{Kind: Private}
	general = Place{Kind: Public, ID: "c-general", Name: "#general"}
	random  = Place{Kind: Public, ID: "c-random", Name: "#random"}
)

// run hands req to the bridge with a fresh recorder and returns it.
func (e *env) run(req Request) *recorder {
	e.t.Helper()
	r := &recorder{}
	if req.Reply == nil {
		req.Reply = r
	} else {
		r = req.Reply.(*recorder)
	}
	if req.Caps == (Capabilities{}) {
		req.Caps = e.caps
	}
	if err := e.b.Handle(context.Background(), req); err != nil {
		e.t.Fatalf("Handle(%s %q): %v", req.Command, req.Args, err)
	}
	e.b.watch.waitIdle() // watch delivers in the background
	e.mu.Lock()
	e.all = append(e.all, r)
	e.mu.Unlock()
	return r
}

// cmd runs a command for who in place.
func (e *env) cmd(who string, place Place, command, args string) *recorder {
	e.t.Helper()
	return e.run(Request{Member: member(who), Place: place, Command: command, Args: args})
}

// post runs a non-command message.
func (e *env) post(who string, place Place, text string) *recorder {
	e.t.Helper()
	return e.run(Request{Member: member(who), Place: place, Post: text})
}

// newChat makes who a chat with secret and checks it worked.
func (e *env) newChat(who, chat, secret string) {
	e.t.Helper()
	r := e.cmd(who, dm, "new", quoteName(chat)+" "+secret)
	if !strings.Contains(r.text(), "Created") {
		e.t.Fatalf("new %s: %q", chat, r.text())
	}
}

// unlock unlocks who's chat with secret and checks it worked.
func (e *env) unlock(who, chat, secret string) {
	e.t.Helper()
	r := e.cmd(who, dm, "unlock", quoteName(chat)+" "+secret)
	if !strings.Contains(r.text(), "unlocked") {
		e.t.Fatalf("unlock %s: %q", chat, r.text())
	}
}

// send makes a pointer from who's chat in a DM and returns it.
func (e *env) send(who, chat, text string) string {
	e.t.Helper()
	r := e.cmd(who, dm, "send", quoteName(chat)+" "+text)
	ptrs := clm.Extract(r.text())
	if len(ptrs) != 1 {
		e.t.Fatalf("send: want one pointer, got %q", r.text())
	}
	return ptrs[0].String()
}

// history returns who's stored messages of chat (unlocked), newest first.
func (e *env) history(who, chat string) []storage.Message {
	e.t.Helper()
	s, err := e.b.sessions.use(keyOf(member(who)), chat)
	if err != nil {
		e.t.Fatalf("history: %s's %s is locked", who, chat)
	}
	defer e.b.sessions.release(s)
	msgs, err := e.store.History(context.Background(), s.key, storage.Page{Size: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

// chatNames lists who's stored chats.
func (e *env) chatNames(who string) []string {
	e.t.Helper()
	names, err := e.b.ChatNames(context.Background(), member(who))
	if err != nil {
		e.t.Fatal(err)
	}
	return names
}

// mustContain fails unless got holds every want.
func mustContain(t testing.TB, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("want %q in:\n%s", w, got)
		}
	}
}

// mustNotContain fails if got holds any of bad.
func mustNotContain(t testing.TB, got string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if w != "" && strings.Contains(got, w) {
			t.Errorf("must not contain %q:\n%s", w, got)
		}
	}
}

// assertNoPublicLeak checks no recorded public post or log line holds any
// of the secrets or texts.
func (e *env) assertNoPublicLeak(words ...string) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.all {
		mustNotContain(e.t, r.publicText(), words...)
	}
	mustNotContain(e.t, e.logs.String(), words...)
}

// pressReceive has by post ptr in place and who press the post's Receive
// button there, and returns who's answer.
func (e *env) pressReceive(who, by string, place Place, ptr string) *recorder {
	e.t.Helper()
	posted := e.post(by, place, ptr)
	if len(posted.public) == 0 || posted.public[0].ReceiveRef == "" {
		e.t.Fatalf("no Receive button on %s's post: %v", by, posted.public)
	}
	return e.run(Request{Member: member(who), Place: place, Command: "receive", ReceiveRef: posted.public[0].ReceiveRef})
}

// confirmSecret verifies who's secret of chat the way members do: by, who
// holds the same secret, posts a pointer of chat in place, and who opens it
// with its Receive button. It adds the message to both histories.
func (e *env) confirmSecret(who, chat, by string, place Place) {
	e.t.Helper()
	r := e.pressReceive(who, by, place, e.send(by, chat, "confirming "+who))
	mustContain(e.t, r.text(), "📨 "+chat+" · "+by+": confirming "+who)
}

// The message limits of the platforms served today, as plain numbers: the
// core knows no platform (each adapter gives its limit as
// Capabilities.MaxPointerChars).
const (
	telegramLimit = 4096
	discordLimit  = 2000
)
