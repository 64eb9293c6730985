package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/telegram"
	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/internal/httpapi"
	"github.com/clmbridge/clmbridge/internal/instancelock"
	"github.com/clmbridge/clmbridge/platform"
	"github.com/clmbridge/clmbridge/storage"
)

var cheapStore = storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}}

// watchWriter is an io.Writer that tests can wait on.
type watchWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatchWriter() *watchWriter { return &watchWriter{changed: make(chan struct{})} }

// runInBackground runs the bridge with cfg (cheap Argon2, no console input)
// until stop is called or the test ends, and returns its stderr. stop may
// be called more than once; RunWith's error fails the test.
func runInBackground(t *testing.T, cfg Config) (stderr *watchWriter, stop func()) {
	t.Helper()
	stderr = newWatchWriter()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunWith(ctx, cfg, Options{Storage: cheapStore}, strings.NewReader(""), io.Discard, stderr)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			// A stop during start-up (the test had what it needed before
			// the store was open) ends RunWith with ctx's error.
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("RunWith: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stderr, stop
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	close(w.changed)
	w.changed = make(chan struct{})
	return n, err
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// await waits until cond holds for what was written, failing the test
// after timeout (a bound, not a synchronisation: every write wakes it).
func (w *watchWriter) await(t *testing.T, timeout time.Duration, what string, cond func(string) bool) string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		s, ch := w.buf.String(), w.changed
		w.mu.Unlock()
		if cond(s) {
			return s
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; written so far:\n%s", what, s)
		}
	}
}

var listeningRx = regexp.MustCompile(`HTTP endpoint listening.*addr=([0-9.]+:[0-9]+)`)

// awaitEndpoint waits for the log line announcing the HTTP endpoint and
// returns its address.
func awaitEndpoint(t *testing.T, logs *watchWriter) string {
	t.Helper()
	s := logs.await(t, time.Minute, "the HTTP endpoint", func(s string) bool { return listeningRx.MatchString(s) })
	return listeningRx.FindStringSubmatch(s)[1]
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestOperatorEndpointDuringAConsoleStory runs a whole story through
// RunWith at debug level with the HTTP endpoint on, then checks what an
// operator sees: health, readiness, metrics that count the story, a second
// bridge refused, and no secret, plaintext, chat name or member name in
// the metrics or the logs.
func TestOperatorEndpointDuringAConsoleStory(t *testing.T) {
	const (
		secret = "opal-Lantern-harvest-93"
		guess  = "wrong-Guess-Pelican-11"
		text   = "Meet by the Orangery at dusk."
		chat   = "Zanzibar"
	)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p, err := clm.NewPointer([]byte(secret), clm.Message{Chat: chat, Username: "quentin", Text: text}, now.Unix())
	if err != nil {
		t.Fatal(err)
	}
	ptr := p.String()

	dir := t.TempDir()
	cfg := Config{DataDir: dir, SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
		RateBurst: 20, RatePerMinute: 30, LogLevel: "debug", LogFormat: "text", HTTPAddr: "127.0.0.1:0"}
	stdinR, stdinW := io.Pipe()
	stdout, stderr := newWatchWriter(), newWatchWriter()
	done := make(chan error, 1)
	go func() {
		done <- RunWith(context.Background(), cfg, Options{Storage: cheapStore, Now: func() time.Time { return now }},
			stdinR, stdout, stderr)
	}()
	t.Cleanup(func() { _ = stdinW.Close() })
	addr := awaitEndpoint(t, stderr)
	base := "http://" + addr

	for _, l := range []string{
		"quentin@dm: new " + chat + " " + secret,
		"quentin@dm: send " + chat + " " + text,
		"quentin@#general: " + ptr,
		"rosalind@dm: /clm receive " + ptr,
		"rosalind@dm: " + secret,
		"tobias@dm: receive " + ptr,
		"tobias@dm: " + guess,
		"tobias@#general: /clm unlock " + chat + " " + secret,
	} {
		if _, err := io.WriteString(stdinW, l+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	stdout.await(t, time.Minute, "the story's answers", func(s string) bool {
		return strings.Contains(s, "-> rosalind (private): 📨 "+chat+" · quentin: "+text) &&
			strings.Contains(s, "opens none of the pointers") &&
			strings.Contains(s, "-> tobias (private): 🔥")
	})

	t.Run("healthz", func(t *testing.T) {
		if code, body := httpGet(t, base+"/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("/healthz: %d %q", code, body)
		}
	})
	t.Run("readyz names the store and the console", func(t *testing.T) {
		code, body := httpGet(t, base+"/readyz")
		if code != 200 || !strings.Contains(body, "store: ok") || !strings.Contains(body, "console: ok") {
			t.Errorf("/readyz: %d %q", code, body)
		}
	})
	_, metricsText := httpGet(t, base+"/metrics")
	t.Run("metrics count the story", func(t *testing.T) {
		for _, want := range []string{
			`clm_bridge_commands_total{command="new",outcome="ok"} 1`,
			`clm_bridge_commands_total{command="send",outcome="ok"} 1`,
			`clm_bridge_commands_total{command="unlock",outcome="refused"} 1`,
			`clm_bridge_wrong_secret_total{platform="console"} 1`,
			`clm_bridge_pointers_seen_total{platform="console"}`,
			`clm_bridge_pointers_opened_total{platform="console"}`,
			`clm_bridge_command_duration_seconds_count{command="receive"}`,
			"clm_bridge_active_sessions 2", // quentin's and rosalind's Zanzibar
		} {
			if !strings.Contains(metricsText, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
	t.Run("metrics hold nothing of the members", func(t *testing.T) {
		for _, bad := range []string{secret, guess, text, "Orangery", chat, "quentin", "rosalind", "tobias", `"e": `} {
			if strings.Contains(metricsText, bad) {
				t.Errorf("/metrics holds %q", bad)
			}
		}
	})
	t.Run("a second bridge on the same data directory is refused", func(t *testing.T) {
		err := RunWith(context.Background(), cfg, Options{Storage: cheapStore}, strings.NewReader(""), io.Discard, io.Discard)
		if !errors.Is(err, instancelock.ErrLocked) {
			t.Fatalf("second bridge: %v, want ErrLocked", err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("PID %d", os.Getpid())) {
			t.Errorf("the refusal does not name the running bridge: %v", err)
		}
	})

	if err := stdinW.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("RunWith: %v", err)
	}
	t.Run("the endpoint stops with the bridge", func(t *testing.T) {
		if err := httpapi.Probe(context.Background(), addr); err == nil {
			t.Error("/healthz still answers after shutdown")
		}
	})
	t.Run("debug logs hold no secret or plaintext", func(t *testing.T) {
		logs := stderr.String()
		if !strings.Contains(logs, "level=DEBUG") {
			t.Fatalf("no debug lines were logged:\n%s", logs)
		}
		for _, bad := range []string{secret, guess, text, "Orangery", clm.ChatHash(chat, []byte(secret))} {
			if strings.Contains(logs, bad) {
				t.Errorf("the logs hold %q", bad)
			}
		}
	})
	t.Run("the lock is released at exit", func(t *testing.T) {
		l, err := instancelock.Acquire(dir)
		if err != nil {
			t.Fatalf("lock after shutdown: %v", err)
		}
		_ = l.Release()
	})
}

func TestReadinessChecks(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(ctx, filepath.Join(t.TempDir(), DBFileName), cheapStore)
	if err != nil {
		t.Fatal(err)
	}
	core := bridge.New(store, bridge.Options{SweepEvery: -1}, nil)
	defer core.Close()
	fake := telegramtest.New(t, telegramtest.Options{})
	tg, err := telegram.New(telegram.Config{Token: fake.Token, APIURL: fake.URL}, core, nil)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discord.New(discord.Config{Token: "discord-token-for-readiness"}, core, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := readinessChecks(store, []Adapter{tg, dc})
	run := func(name string) error {
		for _, c := range checks {
			if c.Name == name {
				return c.Check(ctx)
			}
		}
		t.Fatalf("no %s check among %d", name, len(checks))
		return nil
	}
	if err := run("store"); err != nil {
		t.Errorf("open store not ready: %v", err)
	}
	if err := run("telegram"); err == nil || !strings.Contains(err.Error(), "not connected to Telegram") {
		t.Errorf("telegram before Run: %v", err)
	}
	if err := run("discord"); err == nil || !strings.Contains(err.Error(), "not connected to Discord") {
		t.Errorf("discord before Run: %v", err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := run("store"); err == nil || !strings.Contains(err.Error(), "store does not answer") {
		t.Errorf("closed store: %v", err)
	}
}

func TestOpsCommands(t *testing.T) {
	live, err := httpapi.Listen(httpapi.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- live.Serve(ctx) }()
	defer func() { cancel(); <-served }()
	unready, err := httpapi.Listen(httpapi.Config{Addr: "127.0.0.1:0", Checks: []httpapi.Check{
		{Name: "store", Check: func(context.Context) error { return errors.New("closed") }}}})
	if err != nil {
		t.Fatal(err)
	}
	unreadyServed := make(chan error, 1)
	go func() { unreadyServed <- unready.Serve(ctx) }()
	defer func() { cancel(); <-unreadyServed }()

	withStore := t.TempDir()
	s, err := storage.Open(context.Background(), filepath.Join(withStore, DBFileName), cheapStore)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fake := telegramtest.New(t, telegramtest.Options{}) // privacy mode on, as Telegram makes bots

	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		code    int
		says    string
		notSays string
	}{
		{name: "healthcheck of a running endpoint", env: map[string]string{"CLM_HTTP_ADDR": live.Addr().String()},
			args: []string{"healthcheck"}, code: 0},
		{name: "healthcheck with nothing running", env: map[string]string{"CLM_HTTP_ADDR": "127.0.0.1:1"},
			args: []string{"healthcheck"}, code: 1, says: "no bridge answers"},
		{name: "healthcheck ready of a ready endpoint", env: map[string]string{"CLM_HTTP_ADDR": live.Addr().String()},
			args: []string{"healthcheck", "ready"}, code: 0},
		{name: "healthcheck ready of an endpoint not ready", env: map[string]string{"CLM_HTTP_ADDR": unready.Addr().String()},
			args: []string{"healthcheck", "ready"}, code: 1, says: "store: not ready: closed"},
		{name: "healthcheck with a word it does not know", env: map[string]string{"CLM_HTTP_ADDR": live.Addr().String()},
			args: []string{"healthcheck", "readyz"}, code: 2, says: "usage: bridge healthcheck [ready]"},
		{name: "healthcheck with the endpoint off", env: map[string]string{"CLM_HTTP_ADDR": "off"},
			args: []string{"healthcheck"}, code: 1, says: "endpoint is off"},
		{name: "backup without a path", args: []string{"backup"}, code: 2, says: "usage: bridge backup PATH"},
		{name: "restore without a backup", args: []string{"restore"}, code: 2, says: "usage: bridge restore BACKUP"},
		{name: "restore needs no platform token file", env: map[string]string{"CLM_DATA_DIR": withStore, "CLM_TELEGRAM_TOKEN_FILE": "/run/secrets/not-mounted-here"},
			args: []string{"restore", filepath.Join(withStore, "no-such-backup.db")}, code: 1, says: "cannot read the backup"},
		{name: "restore of a missing backup", env: map[string]string{"CLM_DATA_DIR": withStore},
			args: []string{"restore", filepath.Join(withStore, "no-such-backup.db")}, code: 1, says: "cannot read the backup"},
		{name: "backup of a store", env: map[string]string{"CLM_DATA_DIR": withStore},
			args: []string{"backup", filepath.Join(t.TempDir(), "copy.db")}, code: 0, says: "integrity ok"},
		{name: "backup with a broken configuration", env: map[string]string{"CLM_SESSION_IDLE": "soon"},
			args: []string{"backup", filepath.Join(t.TempDir(), "copy.db")}, code: 2, says: "CLM_SESSION_IDLE"},
		{name: "backup of a store in PostgreSQL names pg_dump", env: map[string]string{"CLM_DATABASE_URL": "postgres://bridge:Hunter2-Sekret@db.example/clm"},
			args: []string{"backup", filepath.Join(t.TempDir(), "copy.db")}, code: 1, says: "pg_dump --format=custom", notSays: "Hunter2-Sekret"},
		{name: "doctor with PostgreSQL not answering", env: map[string]string{"CLM_DATA_DIR": withStore,
			"CLM_DATABASE_URL": "postgres://bridge:Hunter2-Sekret@127.0.0.1:1/clm?connect_timeout=5"},
			args: []string{"doctor"}, code: 1, says: "cannot reach the store in PostgreSQL", notSays: "Hunter2-Sekret"},
		{name: "doctor on a fresh machine", env: map[string]string{"CLM_DATA_DIR": filepath.Join(t.TempDir(), "d")},
			args: []string{"doctor"}, code: 0, says: "console mode"},
		{name: "doctor with a broken configuration", env: map[string]string{"CLM_SESSION_IDLE": "soon"},
			args: []string{"doctor"}, code: 1, says: "the configuration is invalid"},
		{name: "doctor asks Telegram", env: map[string]string{"CLM_DATA_DIR": withStore,
			"CLM_TELEGRAM_TOKEN": fake.Token, "CLM_TELEGRAM_API_URL": fake.URL},
			args: []string{"doctor"}, code: 0, says: "privacy mode is on", notSays: fake.Token},
		{name: "doctor with a refused Telegram token", env: map[string]string{"CLM_DATA_DIR": withStore,
			"CLM_TELEGRAM_TOKEN": "777:RefusedTokenRefused", "CLM_TELEGRAM_API_URL": fake.URL},
			args: []string{"doctor"}, code: 1, says: "token is refused", notSays: "RefusedTokenRefused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code, ok := OpsCommand(context.Background(), tt.args, &out, &errb)
			if !ok {
				t.Fatalf("%v not taken as an operator command", tt.args)
			}
			all := out.String() + errb.String()
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, all)
			}
			if !strings.Contains(all, tt.says) {
				t.Errorf("output lacks %q:\n%s", tt.says, all)
			}
			if tt.notSays != "" && strings.Contains(all, tt.notSays) {
				t.Errorf("output holds %q:\n%s", tt.notSays, all)
			}
		})
	}
	if _, ok := OpsCommand(context.Background(), []string{"frobnicate"}, io.Discard, io.Discard); ok {
		t.Error("an unknown word was taken as an operator command")
	}
}

func TestHTTPAddrConfiguration(t *testing.T) {
	tests := []struct {
		name string
		set  bool
		val  string
		want string
	}{
		{"default is loopback", false, "", httpapi.DefaultAddr},
		{"set", true, "0.0.0.0:9100", "0.0.0.0:9100"},
		{"turned off", true, "off", "off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			if tt.set {
				t.Setenv("CLM_HTTP_ADDR", tt.val)
			}
			cfg, err := LoadConfig()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.HTTPAddr != tt.want {
				t.Errorf("HTTPAddr = %q, want %q", cfg.HTTPAddr, tt.want)
			}
		})
	}
}

// TestTelegramOperatorView runs the bridge with the Telegram adapter on a
// fake Bot API, at debug level, with 429s and 502s injected: readiness
// names Telegram, the metrics count the API errors and the 429 by method
// class and show the outbox, and neither the logs nor the metrics hold the
// bot token or a secret.
func TestTelegramOperatorView(t *testing.T) {
	const secret = "violet-Anchor-meadow-58"
	fake := telegramtest.New(t, telegramtest.Options{Token: "4242:OpsViewTokenQwertyZXC"})
	cfg := Config{
		DataDir: t.TempDir(), SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
		RateBurst: 100, RatePerMinute: 0, LogLevel: "debug", LogFormat: "text", HTTPAddr: "127.0.0.1:0",
		Platforms: map[string]platform.Config{telegram.Name: telegram.Config{
			Token: fake.Token, APIURL: fake.URL, PollTimeout: time.Second,
			PerChatInterval: time.Millisecond, GroupPerMinute: 60_000, GlobalPerSecond: 10_000,
			MaxAttempts: 6, RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond,
		}},
	}
	stderr, stop := runInBackground(t, cfg)
	base := "http://" + awaitEndpoint(t, stderr)

	alice := telegramtest.User{ID: 1001, FirstName: "Alice", Username: "alice"}
	dm := alice.PrivateChat()
	answers := func(n int) {
		t.Helper()
		fake.Await(t, time.Minute, fmt.Sprintf("%d answers to alice", n), func() bool { return len(fake.BotMessages(dm.ID)) >= n })
	}
	fake.SendText(alice, dm, "/clm help")
	answers(1) // polling works: the adapter is connected

	fake.FailNext("sendMessage", telegramtest.TooManyRequests(1), telegramtest.BadGateway())
	fake.SendText(alice, dm, "/clm new Work "+secret)
	answers(2) // delivered after a 429 and a 502

	code, ready := httpGet(t, base+"/readyz")
	if code != 200 || !strings.Contains(ready, "telegram: ok") || !strings.Contains(ready, "store: ok") {
		t.Errorf("/readyz: %d %q", code, ready)
	}
	wants := []string{
		`clm_bridge_platform_api_rate_limited_total{call_class="send",platform="telegram"} 1`,
		`clm_bridge_platform_api_errors_total{call_class="send",platform="telegram"} 1`, // the 502; the 429 is not counted twice
		`clm_bridge_platform_up{platform="telegram"} 1`,
		`clm_bridge_delivery_seconds_count{platform="telegram"} 2`,
		`clm_bridge_outbox_depth{platform="telegram"}`,
		`clm_bridge_commands_total{command="new",outcome="ok"} 1`,
		"clm_bridge_active_sessions 1",
	}
	// Alice may see the answer a moment before the bridge has counted its
	// delivery and the request: scrape until the counts are in (bounded).
	var metricsText string
	for range 200 {
		_, metricsText = httpGet(t, base+"/metrics")
		if !slices.ContainsFunc(wants, func(w string) bool { return !strings.Contains(metricsText, w) }) {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	for _, want := range wants {
		if !strings.Contains(metricsText, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	stop()

	logs := stderr.String()
	if !strings.Contains(logs, "level=DEBUG") {
		t.Fatalf("no debug lines were logged:\n%s", logs)
	}
	for _, bad := range []string{fake.Token, "OpsViewTokenQwertyZXC", secret} {
		if strings.Contains(logs, bad) {
			t.Errorf("the logs hold %q", bad)
		}
		if strings.Contains(metricsText, bad) {
			t.Errorf("/metrics holds %q", bad)
		}
	}
}
