package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
)

// telegramPacing is Telegram's published limits, the defaults.
func telegramPacing() pacing {
	return pacing{perChat: time.Second, groupPerMinute: 20, globalPerSec: 30}
}

func newTestOutbox(t *testing.T, c clock, p pacing, r retrying) (*outbox, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	o := newOutbox(ctx, c, slog.New(slog.NewTextHandler(logs, nil)), newRedactor("4242:fake-token-for-tests"), p, r)
	t.Cleanup(func() { cancel(); o.wait() })
	return o, logs
}

func TestWindow(t *testing.T) {
	t0 := time.Unix(0, 0)
	tests := []struct {
		name string
		n    int
		per  time.Duration
		at   []time.Duration // when each event asks, from t0
		want []time.Duration // the wait each gets
	}{
		{"one per second", 1, time.Second, []time.Duration{0, 0, 0}, []time.Duration{0, time.Second, 2 * time.Second}},
		{"spaced events never wait", 1, time.Second, []time.Duration{0, time.Second, 3 * time.Second}, []time.Duration{0, 0, 0}},
		{"three a minute", 3, time.Minute, []time.Duration{0, 0, 0, 0, 0}, []time.Duration{0, 0, 0, time.Minute, time.Minute}},
		{"the window slides", 2, 10 * time.Second, []time.Duration{0, 5 * time.Second, 11 * time.Second, 12 * time.Second}, []time.Duration{0, 0, 0, 3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWindow(tt.n, tt.per)
			for i, at := range tt.at {
				now := t0.Add(at)
				next := w.next(now)
				w.commit(next)
				if got := next.Sub(now); got != tt.want[i] {
					t.Errorf("event %d at %v waits %v, want %v", i, at, got, tt.want[i])
				}
			}
		})
	}
	t.Run("30 a second in all", func(t *testing.T) {
		w := newWindow(30, time.Second)
		for i := range 30 {
			if next := w.next(t0); !next.Equal(t0) {
				t.Fatalf("event %d of the first 30 waits", i)
			}
			w.commit(t0)
		}
		if next := w.next(t0); next.Sub(t0) != time.Second {
			t.Errorf("the 31st event waits %v, want 1s", next.Sub(t0))
		}
	})
	t.Run("idle once the last event is a window old", func(t *testing.T) {
		w := newWindow(2, time.Second)
		w.commit(t0)
		if w.idle(t0.Add(time.Second / 2)) {
			t.Error("idle too early")
		}
		if !w.idle(t0.Add(time.Second)) {
			t.Error("not idle after a window")
		}
	})
}

func TestBackoff(t *testing.T) {
	got := []time.Duration{}
	for n := 1; n <= 7; n++ {
		got = append(got, backoff(n, 500*time.Millisecond, 10*time.Second))
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
}

// record is a delivery that notes when each call succeeded, failing first
// with the errors in fails.
type record struct {
	mu   sync.Mutex
	c    clock
	sent []string
	at   []time.Time
}

func (r *record) delivery(lane, name string, group bool, fails ...error) delivery {
	n := 0
	return delivery{lane: lane, paced: true, group: group, method: "sendMessage", call: func() error {
		if n < len(fails) {
			n++
			return fails[n-1]
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.sent = append(r.sent, name)
		r.at = append(r.at, r.c.Now())
		return nil
	}}
}

func flood(sec int) error {
	return &apiError{Method: "sendMessage", Code: 429, Kind: kindFlood, RetryAfter: time.Duration(sec) * time.Second, msg: "Too Many Requests"}
}

func badGateway() error { return &statusError{Method: "sendMessage", Status: 502} }

func TestOutboxPacesEachChat(t *testing.T) {
	t.Run("one message a second in a private chat", func(t *testing.T) {
		fc := newFakeClock()
		o, _ := newTestOutbox(t, fc, telegramPacing(), retrying{maxAttempts: 3, base: time.Second, max: time.Second})
		r := &record{c: fc}
		var done []<-chan error
		for i := range 5 {
			ch, err := o.enqueue(context.Background(), r.delivery("chat:7", fmt.Sprint(i), false))
			if err != nil {
				t.Fatal(err)
			}
			done = append(done, ch)
		}
		for _, ch := range done {
			if err := <-ch; err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i < len(r.at); i++ {
			if gap := r.at[i].Sub(r.at[i-1]); gap < time.Second {
				t.Errorf("messages %d and %d went %v apart", i-1, i, gap)
			}
		}
	})
	t.Run("twenty a minute in a group", func(t *testing.T) {
		fc := newFakeClock()
		p := telegramPacing()
		p.perChat = 0 // look at the group budget alone
		o, _ := newTestOutbox(t, fc, p, retrying{maxAttempts: 3, base: time.Second, max: time.Second})
		r := &record{c: fc}
		var done []<-chan error
		for i := range 45 {
			ch, _ := o.enqueue(context.Background(), r.delivery("chat:-5", fmt.Sprint(i), true))
			done = append(done, ch)
		}
		for _, ch := range done {
			if err := <-ch; err != nil {
				t.Fatal(err)
			}
		}
		for i := range r.at {
			n := 0
			for j := i; j < len(r.at) && r.at[j].Sub(r.at[i]) < time.Minute; j++ {
				n++
			}
			if n > 20 {
				t.Fatalf("%d messages within a minute from message %d", n, i)
			}
		}
		if first := r.at[19].Sub(r.at[0]); first != 0 {
			t.Errorf("the first 20 messages were held back %v", first)
		}
	})
}

func TestOutboxRetriesAndKeepsOrder(t *testing.T) {
	t.Run("429 waits retry_after", func(t *testing.T) {
		fc := newFakeClock()
		o, _ := newTestOutbox(t, fc, pacing{}, retrying{maxAttempts: 5, base: time.Second, max: 8 * time.Second})
		r := &record{c: fc}
		if err := o.do(context.Background(), r.delivery("chat:7", "m", false, flood(7))); err != nil {
			t.Fatal(err)
		}
		if w := fc.waits(); !slices.Equal(w, []time.Duration{7 * time.Second}) {
			t.Errorf("waits = %v, want [7s]", w)
		}
	})
	t.Run("5xx backs off exponentially", func(t *testing.T) {
		fc := newFakeClock()
		o, _ := newTestOutbox(t, fc, pacing{}, retrying{maxAttempts: 5, base: time.Second, max: 8 * time.Second})
		r := &record{c: fc}
		if err := o.do(context.Background(), r.delivery("chat:7", "m", false, badGateway(), badGateway(), badGateway())); err != nil {
			t.Fatal(err)
		}
		if w := fc.waits(); !slices.Equal(w, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}) {
			t.Errorf("waits = %v", w)
		}
	})
	t.Run("gives up after the last attempt and logs it", func(t *testing.T) {
		fc := newFakeClock()
		o, logs := newTestOutbox(t, fc, pacing{}, retrying{maxAttempts: 3, base: time.Second, max: 8 * time.Second})
		r := &record{c: fc}
		err := o.do(context.Background(), r.delivery("chat:7", "lost", false, badGateway(), badGateway(), badGateway(), badGateway()))
		if err == nil || len(r.sent) != 0 {
			t.Fatalf("do = %v, sent %v", err, r.sent)
		}
		if !strings.Contains(logs.String(), "giving up") || !strings.Contains(logs.String(), "attempts=3") {
			t.Errorf("give-up not logged: %s", logs)
		}
		if err := o.do(context.Background(), r.delivery("chat:7", "next", false)); err != nil || !slices.Equal(r.sent, []string{"next"}) {
			t.Errorf("the lane is stuck after a give-up: %v %v", err, r.sent)
		}
	})
	t.Run("a rejected call is not retried", func(t *testing.T) {
		fc := newFakeClock()
		o, _ := newTestOutbox(t, fc, pacing{}, retrying{maxAttempts: 5, base: time.Second, max: time.Second})
		calls := 0
		err := o.do(context.Background(), delivery{lane: "x", method: "sendMessage", call: func() error {
			calls++
			return &apiError{Method: "sendMessage", Code: 400, Kind: kindPermanent, msg: "Bad Request: message is too long"}
		}})
		if err == nil || calls != 1 {
			t.Errorf("err %v after %d calls", err, calls)
		}
	})
	t.Run("order per chat survives a storm", func(t *testing.T) {
		fc := newFakeClock()
		o, _ := newTestOutbox(t, fc, telegramPacing(), retrying{maxAttempts: 6, base: time.Second, max: 8 * time.Second})
		r := &record{c: fc}
		var done []<-chan error
		for i := range 30 {
			lane := fmt.Sprintf("chat:%d", -(i % 3))
			var fails []error
			switch i % 4 {
			case 0:
				fails = []error{flood(2)}
			case 1:
				fails = []error{badGateway(), flood(1), badGateway()}
			}
			ch, err := o.enqueue(context.Background(), r.delivery(lane, fmt.Sprintf("%s/%02d", lane, i), i%3 != 0, fails...))
			if err != nil {
				t.Fatal(err)
			}
			done = append(done, ch)
		}
		for _, ch := range done {
			if err := <-ch; err != nil {
				t.Fatal(err)
			}
		}
		if len(r.sent) != 30 {
			t.Fatalf("%d delivered, want 30", len(r.sent))
		}
		perLane := map[string][]string{}
		for _, s := range r.sent {
			lane, _, _ := strings.Cut(s, "/")
			perLane[lane] = append(perLane[lane], s)
		}
		for lane, got := range perLane {
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("lane %s delivered %v", lane, got)
			}
		}
	})
}

func TestOutboxIsBounded(t *testing.T) {
	o, _ := newTestOutbox(t, realClock{}, pacing{}, retrying{maxAttempts: 1})
	block := make(chan struct{})
	defer close(block)
	accepted := 0
	for range maxLaneBacklog + 2 {
		if _, err := o.enqueue(context.Background(), delivery{lane: "x", call: func() error { <-block; return nil }}); err != nil {
			if err != errOutboxFull {
				t.Fatalf("enqueue = %v", err)
			}
			break
		}
		accepted++
	}
	// The lane holds maxLaneBacklog waiting calls, plus the one in flight
	// if the worker has taken it already.
	if accepted != maxLaneBacklog && accepted != maxLaneBacklog+1 {
		t.Errorf("the lane accepted %d calls, want %d or %d", accepted, maxLaneBacklog, maxLaneBacklog+1)
	}
}

// The outbox through telebot against the fake Bot API: what telebot
// reports for real HTTP answers is classified as the outbox expects.
func TestOutboxThroughTelebot(t *testing.T) {
	fc := newFakeClock()
	h := startHarness(t, telegramtest.Options{}, func(c *Config) {
		c.PerChatInterval, c.GroupPerMinute, c.GlobalPerSecond = 0, 0, 0 // defaults: Telegram's limits
		c.MaxAttempts, c.RetryBase, c.RetryMax = 4, 500*time.Millisecond, 30*time.Second
	}, withClock(fc))
	n := h.core.notifiers["telegram"]
	ctx := context.Background()
	bobM := bridge.Member{Platform: "telegram", ID: "1002"}

	t.Run("429 with retry_after", func(t *testing.T) {
		before := len(fc.waits())
		h.tg.FailNext("sendMessage", telegramtest.TooManyRequests(3))
		if err := n.NotifyPrivately(ctx, bobM, "one"); err != nil {
			t.Fatal(err)
		}
		if w := fc.waits()[before:]; !slices.Contains(w, 3*time.Second) {
			t.Errorf("waits %v do not honour retry_after 3", w)
		}
	})
	t.Run("HTML 502 on deleteMessage is a failure, retried", func(t *testing.T) {
		// telebot alone takes this answer for success.
		msg := h.tg.SendText(alice, team, "x")
		h.core.awaitRequests(t, 1)
		h.tg.FailNext("deleteMessage", telegramtest.BadGateway())
		r := &responder{a: h.a, user: nil, chat: team.ID, msgID: msg.MessageID}
		if err := r.DeleteRequest(ctx); err != nil {
			t.Fatal(err)
		}
		calls := h.tg.Calls("deleteMessage")
		if len(calls) != 2 || !calls[0].Injected || !calls[1].OK {
			t.Errorf("deleteMessage calls = %+v", calls)
		}
		if e, _ := h.tg.Message(team.ID, msg.MessageID); !e.Deleted {
			t.Errorf("not deleted")
		}
	})
	t.Run("bounded attempts then a redacted error", func(t *testing.T) {
		before := len(h.tg.Calls("sendMessage"))
		h.tg.FailNext("sendMessage", telegramtest.BadGateway(), telegramtest.InternalError(), telegramtest.BadGateway(), telegramtest.BadGateway())
		err := n.NotifyPrivately(ctx, bobM, "lost")
		if err == nil {
			t.Fatal("no error after four failures")
		}
		if got := len(h.tg.Calls("sendMessage")) - before; got != 4 {
			t.Errorf("%d attempts, want 4", got)
		}
		if strings.Contains(err.Error(), h.tg.Token) {
			t.Errorf("the token is in the error: %v", err)
		}
		if !strings.Contains(h.logs.String(), "giving up") {
			t.Errorf("give-up not logged")
		}
	})
	t.Run("403 is not retried", func(t *testing.T) {
		before := len(h.tg.Calls("sendMessage"))
		h.tg.FailNext("sendMessage", telegramtest.Forbidden("Forbidden: bot was blocked by the user"))
		if err := n.NotifyPrivately(ctx, bobM, "x"); err != bridge.ErrCannotReachPrivately {
			t.Errorf("err = %v", err)
		}
		if got := len(h.tg.Calls("sendMessage")) - before; got != 1 {
			t.Errorf("%d attempts for a 403", got)
		}
	})
}

// post queues the parts of a message and returns at once; the parts go in
// order, the rest are skipped once one fails, and the outcome arrives
// after the last. Ending the caller's context does not cancel them.
func TestOutboxPost(t *testing.T) {
	o, _ := newTestOutbox(t, newFakeClock(), pacing{}, retrying{maxAttempts: 1})
	hold := make(chan struct{})
	if _, err := o.enqueue(context.Background(), delivery{lane: "x", method: "m", call: func() error { <-hold; return nil }}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sent []string
	part := func(name string, err error) delivery {
		return delivery{lane: "x", method: "sendMessage", call: func() error {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, name)
			return err
		}}
	}
	rejected := &apiError{Method: "sendMessage", Code: 400, Kind: kindPermanent, msg: "Bad Request"}
	ctx, cancel := context.WithCancel(context.Background())
	outcomes := make(chan error, 2)
	// Both are queued behind the held call: post does not wait for it.
	if err := o.post(ctx, []delivery{part("a1", nil), part("a2", rejected), part("a3", nil)}, func(err error) { outcomes <- err }); err != nil {
		t.Fatal(err)
	}
	if err := o.post(ctx, []delivery{part("b1", nil)}, func(err error) { outcomes <- err }); err != nil {
		t.Fatal(err)
	}
	cancel()
	close(hold)
	if err := <-outcomes; !errors.Is(err, rejected) {
		t.Errorf("first post's outcome = %v, want the rejection", err)
	}
	if err := <-outcomes; err != nil {
		t.Errorf("second post's outcome = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(sent, []string{"a1", "a2", "b1"}) {
		t.Errorf("sent %v, want a1 a2 (a3 skipped) b1", sent)
	}
}
