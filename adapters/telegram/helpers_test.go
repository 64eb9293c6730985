package telegram

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
)

// waitLimit bounds every wait of these tests; it is a safety net for a
// broken adapter, never a timing assertion.
const waitLimit = 10 * time.Second

// fakeCore is a bridge.Core that records requests and answers through a
// function the test sets.
type fakeCore struct {
	mu        sync.Mutex
	changed   chan struct{}
	reqs      []bridge.Request
	results   []error // what the Responder calls of on returned, per request
	on        func(ctx context.Context, req bridge.Request) error
	unlocked  map[string][]string // member id → unlocked chats
	notifiers map[string]bridge.Notifier
	made      int           // pointers made (MakePointer)
	offerErr  error         // when set, MakePointer fails with it
	recorded  []recordedPtr // RecordSent calls
	left      []string      // MemberLeft calls, "id@place"
}

// recordedPtr is one RecordSent call.
type recordedPtr struct {
	member  string
	pointer string
}

func newFakeCore() *fakeCore {
	return &fakeCore{changed: make(chan struct{}), unlocked: map[string][]string{}, notifiers: map[string]bridge.Notifier{}}
}

func (f *fakeCore) setOn(fn func(ctx context.Context, req bridge.Request) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on = fn
}

func (f *fakeCore) Handle(ctx context.Context, req bridge.Request) error {
	f.mu.Lock()
	on := f.on
	f.mu.Unlock()
	var err error
	if on != nil {
		err = on(ctx, req)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.results = append(f.results, err)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	return err
}

// MakePointer returns a stand-in pointer that does not contain the text,
// and checks the adapter passes Telegram's message limit.
func (f *fakeCore) MakePointer(_ context.Context, m bridge.Member, chat, text string, maxChars int) (string, error) {
	if maxChars != 4096 {
		return "", errors.New("the adapter passed a limit of " + strconv.Itoa(maxChars) + " characters, not Telegram's 4096")
	}
	f.mu.Lock()
	offerErr := f.offerErr
	f.mu.Unlock()
	if offerErr != nil {
		return "", offerErr
	}
	for _, c := range f.UnlockedChats(m) {
		if c == chat {
			f.mu.Lock()
			f.made++
			f.mu.Unlock()
			return `{"e": 1, "n": "fake", "d": "` + hex.EncodeToString([]byte(chat+"|"+text)) + `"}`, nil
		}
	}
	return "", &bridge.PointerError{Kind: bridge.PointerNotUnlocked, Chat: chat}
}

// RecordSent records the call; it changes nothing the test did not set.
func (f *fakeCore) RecordSent(_ context.Context, m bridge.Member, pointer string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recorded = append(f.recorded, recordedPtr{member: m.ID, pointer: pointer})
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

// recordedSent returns the RecordSent calls so far.
func (f *fakeCore) recordedSent() []recordedPtr {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedPtr(nil), f.recorded...)
}

// awaitRecorded waits until the core was asked to record n pointers.
func (f *fakeCore) awaitRecorded(t *testing.T, n int) []recordedPtr {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ch, got := f.changed, len(f.recorded)
		f.mu.Unlock()
		if got >= n {
			return f.recordedSent()
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the core was asked to record %d pointers, want %d", got, n)
		}
	}
}

func (f *fakeCore) ChatNames(context.Context, bridge.Member) ([]string, error) { return nil, nil }

func (f *fakeCore) UnlockedChats(m bridge.Member) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.unlocked[m.ID]...)
}

// MemberLeft records who the adapter said left, as "id@place" ("id@*" for
// every place).
func (f *fakeCore) MemberLeft(m bridge.Member, placeID string, all bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if all {
		placeID = "*"
	}
	f.left = append(f.left, m.ID+"@"+placeID)
	close(f.changed)
	f.changed = make(chan struct{})
}

// leftCalls returns the MemberLeft calls so far.
func (f *fakeCore) leftCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.left...)
}

// awaitLeft waits until the core was told n times that a member left.
func (f *fakeCore) awaitLeft(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ch, got := f.changed, len(f.left)
		f.mu.Unlock()
		if got >= n {
			return f.leftCalls()
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the core was told %d times that a member left, want %d", got, n)
		}
	}
}

func (f *fakeCore) RegisterNotifier(Name string, n bridge.Notifier) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notifiers[Name] = n
}

func (f *fakeCore) requests() ([]bridge.Request, []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bridge.Request(nil), f.reqs...), append([]error(nil), f.results...)
}

// awaitRequests waits until the core has handled n requests.
func (f *fakeCore) awaitRequests(t *testing.T, n int) []bridge.Request {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ch, got := f.changed, len(f.reqs)
		f.mu.Unlock()
		if got >= n {
			r, _ := f.requests()
			return r
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the core got %d requests, want %d", got, n)
		}
	}
}

// syncBuffer is a log sink safe for concurrent writes, which tests can
// wait on.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// await waits until the log holds substr.
func (b *syncBuffer) await(t *testing.T, substr string) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		if strings.Contains(b.buf.String(), substr) {
			b.mu.Unlock()
			return
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the log never said %q", substr)
		}
	}
}

// fakeClock records the waits asked of it and returns at once, moving its
// time forward.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.sleeps = append(c.sleeps, d)
		c.now = c.now.Add(d)
	}
	return nil
}

func (c *fakeClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// harness runs an Adapter against a fake Bot API.
type harness struct {
	t    *testing.T
	tg   *telegramtest.Server
	core *fakeCore
	a    *Adapter
	logs *syncBuffer
	stop context.CancelFunc
	done chan error
}

// fastConfig paces and retries in microseconds so tests run fast.
func fastConfig(tg *telegramtest.Server) Config {
	return Config{
		Token: tg.Token, APIURL: tg.URL, PollTimeout: time.Second,
		PerChatInterval: time.Microsecond, GroupPerMinute: 6_000_000, GlobalPerSecond: 1_000_000,
		MaxAttempts: 6, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond,
	}
}

// startHarness starts an adapter on a new fake and waits until it is set up.
func startHarness(t *testing.T, fo telegramtest.Options, edit func(*Config), opts ...Option) *harness {
	t.Helper()
	tg := telegramtest.New(t, fo)
	cfg := fastConfig(tg)
	if edit != nil {
		edit(&cfg)
	}
	h := &harness{t: t, tg: tg, core: newFakeCore(), logs: &syncBuffer{}, done: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(cfg, h.core, logger, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.a = a
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { h.done <- a.Run(ctx) }()
	t.Cleanup(h.shutdown)
	if cfg.WebhookURL == "" {
		// deleteWebhook is the last call before polling starts.
		tg.Await(t, waitLimit, "the adapter's setup", func() bool { return len(tg.Calls("deleteWebhook")) > 0 })
	}
	return h
}

func (h *harness) shutdown() {
	h.stop()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v", err)
		}
		h.done <- err // let a second shutdown see it too
	case <-time.After(waitLimit):
		h.t.Errorf("Run did not return after its context ended")
	}
}

// awaitCalls waits until the fake recorded at least n OK calls of method
// and returns them all.
func (h *harness) awaitCalls(method string, n int) []telegramtest.Call {
	h.t.Helper()
	var ok []telegramtest.Call
	h.tg.Await(h.t, waitLimit, strconv.Itoa(n)+" successful "+method, func() bool {
		ok = ok[:0]
		for _, c := range h.tg.Calls(method) {
			if c.OK {
				ok = append(ok, c)
			}
		}
		return len(ok) >= n
	})
	return ok
}

// People of the tests.
var (
	alice = telegramtest.User{ID: 1001, FirstName: "Alice", Username: "alice"}
	bob   = telegramtest.User{ID: 1002, FirstName: "Bob", Username: "bob"}
	carol = telegramtest.User{ID: 1003, FirstName: "Carol"}
	team  = telegramtest.Group(-100500, "Team")
)
