package bridge

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// publishLog records what a bridge published.
type publishLog struct {
	mu  sync.Mutex
	got []Published
	err error
}

func (p *publishLog) publish(_ context.Context, pub Published) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, pub)
	return p.err
}

// watchingBob gives bob alice's Work (verified), watch on, and a post in
// #general; it returns bob's watch notifier.
func (e *env) watchingBob() *notifier {
	e.t.Helper()
	n := &notifier{}
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	e.newChat("bob", "Work", workSecret)
	e.confirmSecret("bob", "Work", "alice", random)
	e.cmd("bob", dm, "watch", "on")
	e.post("bob", general, "hi all")
	return n
}

func TestPublishReplacesLocalWatch(t *testing.T) {
	pl := &publishLog{}
	e := newEnv(t, Options{Publish: pl.publish})
	n := e.watchingBob()
	ptr := e.send("alice", "Work", "for the cluster")
	posted := e.post("alice", general, ptr)
	if len(posted.public) != 1 || posted.public[0].ReceiveRef == "" {
		t.Fatalf("no Receive button: %v", posted.public)
	}
	pl.mu.Lock()
	got := pl.got
	pl.mu.Unlock()
	if len(got) != 2 { // confirmSecret's post in #random, then this one
		t.Fatalf("published %d posts, want 2", len(got))
	}
	p := got[1]
	if p.Poster != member("alice") || p.Place != general || len(p.Pointers) != 1 || p.Pointers[0] != ptr || p.ReceiveRef != posted.public[0].ReceiveRef {
		t.Errorf("published %+v", p)
	}
	if s := n.to("id-bob"); strings.Contains(s, "for the cluster") {
		t.Errorf("watch ran here though the post was published: %q", s)
	}

	// Delivered back (every instance gets its own publish): watch runs.
	e.b.DeliverPublished(context.Background(), p)
	e.b.DeliverPublished(context.Background(), p) // twice: a repeat is one delivery
	e.b.watch.waitIdle()
	if s := n.to("id-bob"); strings.Count(s, "for the cluster") != 1 {
		t.Errorf("bob's watch deliveries: %q, want the message once", s)
	}
}

func TestPublishFailureWatchesLocally(t *testing.T) {
	pl := &publishLog{err: errors.New("cluster down")}
	e := newEnv(t, Options{Publish: pl.publish})
	n := e.watchingBob()
	e.post("alice", general, e.send("alice", "Work", "still delivered"))
	if s := n.to("id-bob"); !strings.Contains(s, "still delivered") {
		t.Errorf("watch did not run here after the publish failed: %q", s)
	}
	mustContain(t, e.logs.String(), "publishing a post's pointers failed")
}

func TestDeliverPublishedSharesTheReceiveButton(t *testing.T) {
	pl := &publishLog{}
	e := newEnv(t, Options{Publish: pl.publish})
	e.newChat("alice", "Work", workSecret)
	e.newChat("bob", "Work", workSecret)
	ptr := e.send("alice", "Work", "pressed elsewhere")
	ref := e.post("alice", general, ptr).public[0].ReceiveRef

	// Another instance over the same store learns the button from the publish.
	other := New(e.store, Options{Now: e.clock.Now, SweepEvery: -1, RatePerMinute: -1}, nil)
	t.Cleanup(func() { _ = other.Close() })
	e2 := &env{t: t, b: other, store: e.store, clock: e.clock, logs: e.logs, caps: e.caps}
	e2.unlock("bob", "Work", workSecret)
	pl.mu.Lock()
	p := pl.got[0]
	pl.mu.Unlock()
	other.DeliverPublished(context.Background(), p)

	r := e2.run(Request{Member: member("bob"), Place: general, Command: "receive", ReceiveRef: ref})
	mustContain(t, r.text(), "pressed elsewhere")
	r = e2.run(Request{Member: member("bob"), Place: random, Command: "receive", ReceiveRef: ref})
	mustContain(t, r.text(), "no longer remember")
}

func TestDeliverPublishedIgnoresMalformed(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "x")
	good := Published{Place: general, Poster: member("alice"), Pointers: []string{ptr}, ReceiveRef: "rgood"}
	many := make([]string, MaxPointersPerRequest+1)
	for i := range many {
		many[i] = ptr
	}
	tests := []struct {
		name string
		mod  func(*Published)
	}{
		{"no poster", func(p *Published) { p.Poster = Member{} }},
		{"private place", func(p *Published) { p.Place = dm }},
		{"too many pointers", func(p *Published) { p.Pointers = many }},
		{"not a pointer", func(p *Published) { p.Pointers = []string{"hello"} }},
		{"long ref", func(p *Published) { p.ReceiveRef = strings.Repeat("r", MaxReceiveRefBytes+1) }},
		{"long id", func(p *Published) { p.Place.ID = strings.Repeat("c", 1000) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.mod(&p)
			if _, err := p.check(); err == nil {
				t.Error("accepted")
			}
			e.b.DeliverPublished(context.Background(), p)
		})
	}
	if _, err := good.check(); err != nil {
		t.Errorf("a good post was refused: %v", err)
	}
	mustContain(t, e.logs.String(), "published post ignored")
	mustNotContain(t, e.logs.String(), ptr)
}

func TestPointerErrorRoundTrip(t *testing.T) {
	for _, pe := range []*PointerError{
		{Kind: PointerTooLong, Chat: "Work", Max: 1890, Limit: 4096},
		{Kind: PointerNotUnlocked, Chat: "Project Athena"},
		{Kind: PointerBadChatName, reason: "a chat name has at most 64 characters"},
	} {
		enc, err := pe.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got PointerError
		if err := got.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		if got.Error() != pe.Error() || !errors.Is(&got, pe) {
			t.Errorf("round trip: %q, want %q", got.Error(), pe.Error())
		}
	}
	var pe PointerError
	for _, bad := range []string{`{"k":99}`, `nope`, strings.Repeat(" ", 5000)} {
		if err := pe.UnmarshalBinary([]byte(bad)); err == nil {
			t.Errorf("%.10q accepted", bad)
		}
	}
}

func TestConfidentialSendSharesItsButtonOnly(t *testing.T) {
	pl := &publishLog{}
	e := newEnv(t, Options{Publish: pl.publish})
	n := e.watchingBob()
	pl.mu.Lock()
	pl.got = nil
	pl.mu.Unlock()
	r := e.run(Request{Member: member("alice"), Place: general, Command: "send", Args: "Work from a modal", Confidential: true})
	if len(r.public) != 1 {
		t.Fatalf("posted %v", r.public)
	}
	pl.mu.Lock()
	got := pl.got
	pl.mu.Unlock()
	if len(got) != 1 || !got[0].ButtonOnly || got[0].ReceiveRef != r.public[0].ReceiveRef || got[0].Pointers[0] != r.public[0].Text {
		t.Fatalf("published %+v, want the button only", got)
	}
	e.b.DeliverPublished(context.Background(), got[0])
	e.b.watch.waitIdle()
	if s := n.to("id-bob"); strings.Contains(s, "from a modal") {
		t.Errorf("watch ran for a button-only publish: %q", s)
	}
}
