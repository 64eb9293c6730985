package discord

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/storage"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers (slog handlers
// write from many goroutines).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeCore is a stand-in for the bridge core: it records requests and
// answers them with a behaviour chosen by the test.
type fakeCore struct {
	mu       sync.Mutex
	reqs     []bridge.Request
	names    map[string][]string // member id -> chat names
	notifier bridge.Notifier
	changed  chan struct{}
	// handle answers a request; nil answers "ok <command>" privately.
	handle func(ctx context.Context, req bridge.Request) error
	errs   []error // what the responder returned to the core
	// handleErr is what Handle returns to the adapter (nil: success).
	handleErr error
	left      []string // MemberLeft calls, "id@place"
}

func newFakeCore() *fakeCore {
	return &fakeCore{names: map[string][]string{}, changed: make(chan struct{})}
}

func (c *fakeCore) Handle(ctx context.Context, req bridge.Request) error {
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	h := c.handle
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	var err error
	if h != nil {
		err = h(ctx, req)
	} else {
		err = req.Reply.Private(ctx, "ok "+req.Command)
	}
	c.mu.Lock()
	c.errs = append(c.errs, err)
	close(c.changed)
	c.changed = make(chan struct{})
	herr := c.handleErr
	c.mu.Unlock()
	return herr
}

func (c *fakeCore) MakePointer(context.Context, bridge.Member, string, string, int) (string, error) {
	return "", errors.New("fakeCore: Discord makes no pointers outside a request")
}

func (c *fakeCore) RecordSent(context.Context, bridge.Member, string) error {
	return errors.New("fakeCore: Discord records no pointers outside a request")
}

func (c *fakeCore) ChatNames(_ context.Context, m bridge.Member) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.names[m.ID], nil
}

func (c *fakeCore) UnlockedChats(bridge.Member) []string { return nil }

// MemberLeft records who the adapter said left, as "id@place" ("id@*" for
// every place).
func (c *fakeCore) MemberLeft(m bridge.Member, placeID string, all bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if all {
		placeID = "*"
	}
	c.left = append(c.left, m.ID+"@"+placeID)
}

func (c *fakeCore) RegisterNotifier(Name string, n bridge.Notifier) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if Name == "discord" {
		c.notifier = n
	}
}

func (c *fakeCore) requests() []bridge.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bridge.Request(nil), c.reqs...)
}

// waitRequests waits until the core has finished handling n requests.
func (c *fakeCore) waitRequests(t *testing.T, n int) []bridge.Request {
	t.Helper()
	deadline := time.NewTimer(15 * time.Second) // a bound against hangs, not a timing assertion
	defer deadline.Stop()
	for {
		c.mu.Lock()
		done, ch := len(c.errs) >= n, c.changed
		reqs := append([]bridge.Request(nil), c.reqs...)
		c.mu.Unlock()
		if done {
			return reqs
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the core got %d requests, want %d", len(reqs), n)
		}
	}
}

func (c *fakeCore) responderErrors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.errs...)
}

// running is an adapter under test, connected to a fake Discord.
type running struct {
	a    *Adapter
	fake *discordtest.Server
	core *fakeCore // nil in front of the real core
	logs *syncBuffer
	stop func() error // stops Run and returns its error
}

// start runs an adapter against a new fake Discord and waits until it is
// connected and has registered its commands (see startWith).
func start(t *testing.T, cfg Config, core *fakeCore, opts ...Option) *running {
	t.Helper()
	fake := discordtest.New(t)
	return startWith(t, fake, cfg, core, opts...)
}

// startReal runs an adapter on a new fake Discord in front of the real
// bridge core over a fresh store, and returns the core too.
func startReal(t *testing.T, cfg Config, opts ...Option) (*running, *bridge.Bridge) {
	t.Helper()
	return startRealWith(t, cfg, bridge.Options{RatePerMinute: -1, SweepEvery: -1}, opts...)
}

// startRealWith is startReal with the core's options.
func startRealWith(t *testing.T, cfg Config, bopts bridge.Options, opts ...Option) (*running, *bridge.Bridge) {
	t.Helper()
	st, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "bridge.db"),
		storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	core := bridge.New(st, bopts, nil)
	t.Cleanup(func() {
		_ = core.Close()
		_ = st.Close()
	})
	return startWith(t, discordtest.New(t), cfg, core, opts...), core
}

// nopReply is a Responder that drops every answer (for setting up the real
// core's state directly).
type nopReply struct{}

func (nopReply) Private(context.Context, string) error           { return nil }
func (nopReply) PrivateFile(context.Context, bridge.File) error  { return nil }
func (nopReply) Public(context.Context, bridge.PublicPost) error { return nil }
func (nopReply) DeleteRequest(context.Context) error             { return nil }

// startWith runs an adapter against fake and waits until its shard is
// connected and, for shard 0, the commands are registered.
func startWith(t *testing.T, fake *discordtest.Server, cfg Config, core bridge.Core, opts ...Option) *running {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = fake.Token()
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]Option{WithAPIBase(fake.URL()), WithRESTBounds(5*time.Second, 5, 2*time.Second)}, opts...)
	a, err := New(cfg, core, logger, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-errc })
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if leaked := bytes.Contains([]byte(logs.String()), []byte(fake.Token())); leaked {
			t.Errorf("the bot token is in the logs")
		}
	})
	// Only shard 0 registers the commands (every instance is shard 0 of 1
	// unless a test shards it).
	fake.WaitShardReady(t, cfg.ShardID)
	if cfg.ShardID == 0 {
		fake.WaitCall(t, "command registration", func(c discordtest.Call) bool {
			return c.Method == "PUT" && c.Status == 200
		})
	}
	fc, _ := core.(*fakeCore)
	return &running{a: a, fake: fake, core: fc, logs: logs, stop: stop}
}
