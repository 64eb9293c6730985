package bridge

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/storage"
)

// handlerPool stands in for an adapter's bounded handler slots (Telegram
// handles 64 updates at once): a request holds a slot while the core
// handles it.
type handlerPool struct {
	t     testing.TB
	b     *Bridge
	caps  Capabilities
	slots chan struct{}
	wg    sync.WaitGroup
}

func newHandlerPool(t testing.TB, b *Bridge, caps Capabilities, size int) *handlerPool {
	return &handlerPool{t: t, b: b, caps: caps, slots: make(chan struct{}, size)}
}

// submit handles req in a slot in the background; the recorder is sent on
// done once it is answered.
func (p *handlerPool) submit(req Request, done chan<- *recorder) {
	r := &recorder{}
	req.Reply, req.Caps = r, p.caps
	p.wg.Go(func() {
		p.slots <- struct{}{}
		defer func() { <-p.slots }()
		if err := p.b.Handle(context.Background(), req); err != nil {
			p.t.Error(err)
		}
		done <- r
	})
}

// receiveWithin waits for n answers on done, failing the test if they do
// not all come within limit (a liveness bound, not a timing goal).
func receiveWithin(t *testing.T, done <-chan *recorder, n int, limit time.Duration, what string) []*recorder {
	t.Helper()
	timeout := time.After(limit)
	out := make([]*recorder, 0, n)
	for len(out) < n {
		select {
		case r := <-done:
			out = append(out, r)
		case <-timeout:
			t.Fatalf("%s: %d of %d answered", what, len(out), n)
		}
	}
	return out
}

func TestAKeyDerivationFloodLeavesOtherRequestsAnswered(t *testing.T) {
	const (
		flood   = 200
		handler = 64 // Telegram's handler slots
	)
	e := newEnv(t, Options{})
	release := e.b.kdf.holdKDFSlots() // two derivations that do not end yet
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	pool := newHandlerPool(t, e.b, e.caps, handler)
	news := make(chan *recorder, flood)
	for i := range flood {
		who := "m" + itoa(i)
		pool.submit(Request{Member: member(who), Place: dm, Command: "new", Args: "Chat" + itoa(i) + " flood-secret-" + itoa(i)}, news)
	}
	// All but DefaultMaxKDFWaiting are told at once to come back later.
	turned := receiveWithin(t, news, flood-DefaultMaxKDFWaiting, time.Minute, "new during the flood")
	for _, r := range turned {
		mustContain(t, r.text(), "Many members are unlocking or creating chats right now", "please try again in", "Nothing was changed.")
		mustNotContain(t, r.text(), "Created")
	}

	// A request that needs no key derivation is answered while the others
	// are still queued behind the blocked derivations.
	chats := make(chan *recorder, 1)
	pool.submit(Request{Member: member("carol"), Place: dm, Command: "chats"}, chats)
	r := receiveWithin(t, chats, 1, time.Minute, "chats during the flood")[0]
	mustContain(t, r.text(), "You have no chats yet")
	if q := e.b.Stats().KDFWaiting; q != DefaultMaxKDFWaiting { // what the metrics gauge shows
		t.Fatalf("%d requests wait for key derivation after chats was answered, want %d", q, DefaultMaxKDFWaiting)
	}

	// Once the derivations end, the queued ones are created.
	release()
	released = true
	for _, r := range receiveWithin(t, news, DefaultMaxKDFWaiting, time.Minute, "queued new") {
		mustContain(t, r.text(), "✅ Created")
	}
	pool.wg.Wait()
	created := 0
	for i := range flood {
		created += len(e.chatNames("m" + itoa(i)))
	}
	if created != DefaultMaxKDFWaiting {
		t.Fatalf("%d chats were created, want only the %d that waited", created, DefaultMaxKDFWaiting)
	}
}

func TestAnUnlockTurnedAwayForBusyIsNoWrongGuess(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("bob", "Work", workSecret)
	e.cmd("bob", dm, "lock", "")
	e.b.kdf.maxWaiting = 0 // every request that must wait is turned away
	release := e.b.kdf.holdKDFSlots()
	for range DefaultFreeUnlocks + 1 {
		r := e.cmd("bob", dm, "unlock", "Work wrong-guess-1")
		mustContain(t, r.text(), "please try again in", "Nothing was changed.")
		mustNotContain(t, r.text(), "does not open", "Too many wrong secrets")
	}
	release()
	mustContain(t, e.cmd("bob", dm, "unlock", "Work "+workSecret).text(), "🔓 Work is unlocked")
}

func TestRetryEstimateCoversTheQueueAhead(t *testing.T) {
	tests := []struct {
		name   string
		rounds int
		avg    time.Duration
		want   time.Duration
	}{
		{"rounds up to a whole second", 5, 500 * time.Millisecond, 3 * time.Second},
		{"at least a second", 1, 10 * time.Millisecond, time.Second},
		{"slow derivations", 5, 2 * time.Second, 10 * time.Second},
		{"exact seconds stay", 4, 250 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryEstimate(tt.rounds, tt.avg); got != tt.want {
				t.Fatalf("retryEstimate(%d, %s) = %s, want %s", tt.rounds, tt.avg, got, tt.want)
			}
		})
	}
	g := newKDFGate(2, 8)
	g.waiting = 8
	if got := g.retryInLocked(); got != retryEstimate(5, initialKDFEstimate) {
		t.Fatalf("8 waiting behind 2 running: retry in %s, want 5 rounds", got)
	}
	if !strings.Contains(human(g.retryInLocked()), "seconds") {
		t.Fatal("estimate not in seconds")
	}
}

// BenchmarkChatsDuringKDFFlood measures how long another member's chats
// (no key derivation) takes while 200 members send new at once, each in
// one of 64 handler slots as on Telegram, with the real Argon2id cost.
// The "unbounded" case is the bridge without the gate's queue limit.
func BenchmarkChatsDuringKDFFlood(b *testing.B) {
	for _, bc := range []struct {
		name    string
		waiting int
	}{{"bounded", 0}, {"unbounded", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			st, err := storage.Open(context.Background(), filepath.Join(dir, "bridge.db"), storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			br := New(st, Options{MaxKDFWaiting: bc.waiting, RatePerMinute: -1, SweepEvery: -1}, nil)
			defer br.Close()
			caps := Capabilities{MaxPointerChars: telegramLimit}
			pool := newHandlerPool(b, br, caps, 64)
			stop := make(chan struct{})
			var flood sync.WaitGroup
			for i := range 200 {
				flood.Go(func() {
					done := make(chan *recorder, 1)
					for n := 0; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						pool.submit(Request{Member: member("m" + itoa(i)), Place: dm, Command: "new",
							Args: "C" + itoa(n) + " flood-secret-" + itoa(i)}, done)
						<-done
					}
				})
			}
			var total, worst time.Duration
			b.ResetTimer()
			for b.Loop() {
				done := make(chan *recorder, 1)
				start := time.Now()
				pool.submit(Request{Member: member("carol"), Place: dm, Command: "chats"}, done)
				<-done
				took := time.Since(start)
				total += took
				worst = max(worst, took)
			}
			b.StopTimer()
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/chats")
			b.ReportMetric(float64(worst.Milliseconds()), "max-ms/chats")
			close(stop)
			flood.Wait()
			pool.wg.Wait()
		})
	}
}
