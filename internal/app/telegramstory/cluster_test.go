package telegramstory_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/telegram"
	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/internal/app"
	"github.com/clmbridge/clmbridge/internal/pgtest"
	"github.com/clmbridge/clmbridge/platform"
	"github.com/clmbridge/clmbridge/storage"
)

// startClusterInstance runs one bridge instance on the PostgreSQL schema
// dbURL, long-polling the fake tg; stop ends it and waits.
func startClusterInstance(t *testing.T, tg *telegramtest.Server, dbURL string, logs *logBuffer) (stop func()) {
	t.Helper()
	cfg := app.Config{
		DataDir: t.TempDir(), DatabaseURL: app.DatabaseURL(dbURL),
		ClusterHeartbeat: 200 * time.Millisecond, ClusterTTL: 2 * time.Second,
		SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
		RateBurst: 100, RatePerMinute: 0, LogLevel: "debug", LogFormat: "text",
		Platforms: map[string]platform.Config{telegram.Name: telegram.Config{
			Token: tg.Token, APIURL: tg.URL, PollTimeout: time.Second,
			PerChatInterval: time.Millisecond, GroupPerMinute: 60_000, GlobalPerSecond: 10_000,
			MaxAttempts: 6, RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond,
		}},
	}
	opts := app.Options{Storage: storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.RunWith(ctx, cfg, opts, strings.NewReader(""), io.Discard, logs) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("an instance ended with %v", err)
				}
			case <-time.After(waitLimit):
				t.Errorf("an instance did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// Two instances long-poll one bot on one PostgreSQL schema: exactly one
// polls (Telegram would end the other's long polls with 409), every
// member's request is answered once wherever their owner is, and when the
// poller stops the other takes over the bot's updates.
func TestStoryTwoInstancesLongPollOneBot(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	tg := telegramtest.New(t, telegramtest.Options{Token: storyToken})
	logs := &logBuffer{}
	stopFirst := startClusterInstance(t, tg, dbURL, logs)
	tg.Await(t, waitLimit, "the first instance to poll", func() bool { return tg.Holding() > 0 })
	stopSecond := startClusterInstance(t, tg, dbURL, logs)
	for k := 0; strings.Count(logs.String(), "cluster: joined") < 2; k++ {
		if k == 300 {
			t.Fatalf("the two instances did not both join the cluster:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	tg.Await(t, waitLimit, "both instances' setup", func() bool { return len(tg.Calls("deleteWebhook")) >= 2 })
	w := &world{t: t, tg: tg, logs: logs, pressers: map[string]int64{}}

	// Members are owned by either instance (rendezvous hashing); the
	// poller receives every request and relays those of the other's.
	members := []telegramtest.User{alice, bob, carol}
	for _, m := range members {
		w.unlockWork(m)
	}
	if n := tg.Conflicts(); n != 0 {
		t.Fatalf("%d long polls ended by a conflict while both instances ran", n)
	}

	stopFirst()
	for _, m := range members {
		tg.SendText(m, m.PrivateChat(), "/clm help")
		tg.Await(t, waitLimit, m.FirstName+"'s help, from the second instance", func() bool {
			for _, msg := range tg.BotMessages(m.ID) {
				if strings.HasPrefix(msg.Text, "CLM Bridge keeps") {
					return true
				}
			}
			return false
		})
	}
	// Stopping drains: whatever else either instance would send is sent.
	stopSecond()
	// Every request was answered once, by whichever instance owned the
	// member; the members of the stopped instance are told, once, that
	// their chats are locked again.
	for _, m := range members {
		var unlocked, helped, movedNotices int
		for _, msg := range tg.BotMessages(m.ID) {
			switch {
			case strings.HasPrefix(msg.Text, "🔓"):
				unlocked++
			case strings.HasPrefix(msg.Text, "CLM Bridge keeps"):
				helped++
			case strings.Contains(msg.Text, "instance that held your unlocked chats stopped"):
				movedNotices++
			default:
				t.Errorf("%s got an unexpected message: %q", m.FirstName, msg.Text)
			}
		}
		if unlocked != 1 || helped != 1 || movedNotices > 1 {
			t.Errorf("%s got %d unlock answers, %d help answers, %d take-over notices; want 1, 1, at most 1",
				m.FirstName, unlocked, helped, movedNotices)
		}
		if strings.Contains(w.privateTo(m), workSecret) {
			t.Errorf("the secret was repeated to %s", m.FirstName)
		}
	}
	if strings.Contains(logs.String(), workSecret) || strings.Contains(logs.String(), storyToken) {
		t.Errorf("a secret or the token is in the log")
	}
}
