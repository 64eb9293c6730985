package bridge

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockingNotifier holds every watch delivery until release is closed (or
// the delivery's context ends), and reports each one starting on entered.
type blockingNotifier struct {
	entered chan string
	release chan struct{}

	mu       sync.Mutex
	sent     []string // member id: text, delivered
	canceled int      // deliveries that saw their context end
}

func newBlockingNotifier() *blockingNotifier {
	return &blockingNotifier{entered: make(chan string, 64), release: make(chan struct{})}
}

func (n *blockingNotifier) NotifyPrivately(ctx context.Context, m Member, text string) error {
	n.entered <- m.ID
	select {
	case <-n.release:
		n.mu.Lock()
		n.sent = append(n.sent, m.ID+": "+text)
		n.mu.Unlock()
		return nil
	case <-ctx.Done():
		n.mu.Lock()
		n.canceled++
		n.mu.Unlock()
		return ctx.Err()
	}
}

// watchers gives each of who the chat Work, watch on, and a post in
// #general.
func (e *env) watchers(who ...string) {
	e.t.Helper()
	// A secret the member chose opens nothing for watch until a pointer
	// someone else posted verifies it: each is verified in #random first,
	// before anyone watches, so no one is notified of that.
	for _, w := range who {
		e.newChat(w, "Work", workSecret)
		e.confirmSecret(w, "Work", "alice", random)
	}
	for _, w := range who {
		e.cmd(w, dm, "watch", "on")
		e.post(w, general, "hi all")
	}
}

// manyPointers makes n pointers of alice's Work, one post.
func (e *env) manyPointers(n int, text string) string {
	e.t.Helper()
	var ptrs []string
	for i := range n {
		ptrs = append(ptrs, e.send("alice", "Work", text+" "+itoa(i)))
	}
	return strings.Join(ptrs, "\n")
}

func TestAPostWithManyPointersMakesBoundedWatchDeliveries(t *testing.T) {
	e := newEnv(t, Options{})
	n := &notifier{}
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	var who []string
	for i := range 30 {
		who = append(who, "w"+itoa(i))
	}
	e.watchers(who...)
	post := e.manyPointers(MaxPointersPerRequest, "flood")
	e.post("alice", general, post)

	held := MaxPointersPerRequest - DefaultWatchPerPost
	for _, w := range who {
		n.mu.Lock()
		got := append([]string(nil), n.sent["id-"+w]...)
		n.mu.Unlock()
		if len(got) != DefaultWatchPerPost+1 {
			t.Fatalf("%s got %d notifications, want %d messages and one note:\n%s", w, len(got), DefaultWatchPerPost, strings.Join(got, "\n"))
		}
		for i := range DefaultWatchPerPost {
			mustContain(t, got[i], "📨 Work · alice: flood "+itoa(i), "(posted in #general)")
		}
		mustContain(t, got[DefaultWatchPerPost], itoa(held)+" more pointers of Work were posted in #general", "/clm receive")
		if h := e.history(w, "Work"); len(h) != DefaultWatchPerPost+1 { // and the confirming one
			t.Fatalf("%s has %d messages saved, want only the %d delivered", w, len(h), DefaultWatchPerPost)
		}
	}
	// What was held back opens with receive, as the note says.
	r := e.cmd("w0", dm, "receive", post)
	mustContain(t, r.text(), "📨 Work · alice: flood "+itoa(MaxPointersPerRequest-1))
}

func TestWatchDeliveriesToOneMemberAreBoundedPerMinute(t *testing.T) {
	e := newEnv(t, Options{})
	n := &notifier{}
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	e.watchers("bob")
	const posts, per = 6, DefaultWatchPerPost
	for i := range posts {
		e.post("alice", general, e.manyPointers(per, "post "+itoa(i)))
	}
	count := func() int {
		n.mu.Lock()
		defer n.mu.Unlock()
		return len(n.sent["id-bob"])
	}
	if got := count(); got != DefaultWatchPerMinute {
		t.Fatalf("bob got %d notifications in a minute, want %d:\n%s", got, DefaultWatchPerMinute, n.to("id-bob"))
	}
	// 9 messages (three posts), then a note for the fourth post; the last
	// two are held back with no room for a note yet.
	mustContain(t, n.to("id-bob"), "3 more pointers of Work were posted in #general")
	mustNotContain(t, n.to("id-bob"), "post 3 ", "post 5 ")

	e.clock.Advance(time.Minute)
	e.b.Sweep()
	e.b.watch.waitIdle()
	if got := count(); got != DefaultWatchPerMinute+1 {
		t.Fatalf("after a minute bob got %d notifications, want one more note", got)
	}
	n.mu.Lock()
	last := n.sent["id-bob"][len(n.sent["id-bob"])-1]
	n.mu.Unlock()
	mustContain(t, last, "6 more pointers of Work were posted in #general")
	if h := e.history("bob", "Work"); len(h) != 9+1 { // and the confirming one
		t.Fatalf("bob has %d messages saved, want the 9 delivered", len(h))
	}
}

func TestAPostIsAnsweredBeforeItsWatchDeliveriesAreSent(t *testing.T) {
	e := newEnv(t, Options{})
	n := newBlockingNotifier()
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	e.watchers("bob", "carol")
	ptr := e.send("alice", "Work", "in the background")

	r := &recorder{}
	answered := make(chan error, 1)
	go func() {
		answered <- e.b.Handle(context.Background(), Request{Member: member("alice"), Place: general, Post: ptr, Reply: r, Caps: e.caps})
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		close(n.release)
		t.Fatal("the post was not answered while its watch delivery was held")
	}
	mustContain(t, r.publicText(), "🔓 A CLM pointer")
	<-n.entered // a delivery is being sent, held by the notifier
	n.mu.Lock()
	sent := len(n.sent)
	n.mu.Unlock()
	if sent != 0 {
		t.Fatalf("%d deliveries finished before release", sent)
	}
	close(n.release)
	e.b.watch.waitIdle()
	if len(n.sent) != 2 {
		t.Fatalf("deliveries %q, want bob's and carol's", n.sent)
	}
}

func TestCloseStopsBackgroundWatchDeliveries(t *testing.T) {
	e := newEnv(t, Options{})
	n := newBlockingNotifier()
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	var who []string
	for i := range 12 {
		who = append(who, "w"+itoa(i))
	}
	e.watchers(who...)
	ptr := e.send("alice", "Work", "never sent")
	if err := e.b.Handle(context.Background(), Request{Member: member("alice"), Place: general, Post: ptr, Reply: &recorder{}, Caps: e.caps}); err != nil {
		t.Fatal(err)
	}
	<-n.entered // one delivery is being sent; the others wait in the queue

	closed := make(chan struct{})
	go func() {
		_ = e.b.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		close(n.release)
		t.Fatal("Close did not stop a delivery that was being sent")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	// Every delivery that started saw its context end before Close returned,
	// and none was sent.
	if started := 1 + len(n.entered); n.canceled != started || len(n.sent) != 0 {
		t.Fatalf("%d deliveries started, %d cancelled, %d sent", started, n.canceled, len(n.sent))
	}
	if s := e.b.Stats(); s.Sessions != 0 {
		t.Fatalf("%d sessions left after Close", s.Sessions)
	}
}

func TestAChatLockedBeforeItsWatchDeliveryIsNotDelivered(t *testing.T) {
	e := newEnv(t, Options{})
	n := newBlockingNotifier()
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	e.watchers("bob")
	first, second := e.send("alice", "Work", "first"), e.send("alice", "Work", "after the lock")
	post := func(ptr string) {
		if err := e.b.Handle(context.Background(), Request{Member: member("alice"), Place: general, Post: ptr, Reply: &recorder{}, Caps: e.caps}); err != nil {
			t.Fatal(err)
		}
	}
	post(first)
	<-n.entered  // bob's worker is busy sending the first
	post(second) // queued behind it
	// Not e.cmd, which waits for the deliveries.
	lock := &recorder{}
	if err := e.b.Handle(context.Background(), Request{Member: member("bob"), Place: dm, Command: "lock", Args: "Work", Reply: lock, Caps: e.caps}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, lock.text(), "Locked Work")
	close(n.release)
	e.b.watch.waitIdle()
	if len(n.sent) != 1 || !strings.Contains(n.sent[0], "first") {
		t.Fatalf("bob, who locked Work, was sent %q", n.sent)
	}
}
