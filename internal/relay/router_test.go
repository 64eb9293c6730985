package relay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/internal/cluster"
	"github.com/clmbridge/clmbridge/internal/metrics"
)

const secret = "correct horse battery staple"

// pointerFrom makes who's pointer of chat with text at instance at (who's
// own instance, in a DM) and returns it.
func (w *world) pointerFrom(at, who, chat, text string) string {
	w.t.Helper()
	w.cmd(at, who, dm, "send", chat+" "+text)
	ptrs := clm.Extract(w.last(who).text)
	if len(ptrs) != 1 {
		w.t.Fatalf("send: want one pointer, got %q", w.last(who).text)
	}
	return ptrs[0].String()
}

// receiveRef returns the Receive ref of the newest public post answered to who.
func (w *world) receiveRef(who string) string {
	w.t.Helper()
	pub := w.a.to(who, "public")
	if len(pub) == 0 {
		w.t.Fatalf("no public post for %s", who)
	}
	text := pub[len(pub)-1].text
	i := strings.LastIndex(text, "[")
	ref := strings.TrimSuffix(text[i+1:], "]")
	if ref == "" {
		w.t.Fatalf("no Receive button on %q", text)
	}
	return ref
}

func TestRouterForwardsToTheOwnerAndWatchDeliversThere(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B", "C")
	w.net.setOwner("test:alice", "B", false)
	w.net.setOwner("test:bob", "C", false)

	// bob makes the chat on his own instance.
	w.cmd("C", "bob", dm, "new", "Work "+secret)
	if got := w.last("bob"); got.instance != "C" || !strings.Contains(got.text, "Created") {
		t.Fatalf("new: %+v", got)
	}

	// alice unlocks in a DM that reaches A; B, her owner, holds the session.
	rep := w.cmd("A", "alice", dm, "unlock", "Work "+secret)
	if got := w.last("alice"); got.instance != "B" || !strings.Contains(got.text, "unlocked") {
		t.Fatalf("unlock answered %+v, want B saying unlocked", got)
	}
	if !rep.wasRelayed() {
		t.Error("A's Responder was not told the request was relayed")
	}
	if got := w.inst["B"].bridge.UnlockedChats(member("alice")); !slices.Equal(got, []string{"Work"}) {
		t.Errorf("B's bridge holds %v, want [Work]", got)
	}
	for _, id := range []string{"A", "C"} {
		if got := w.inst[id].bridge.UnlockedChats(member("alice")); len(got) != 0 {
			t.Errorf("%s's bridge holds a session of alice: %v", id, got)
		}
	}
	if got := w.inst["A"].router.UnlockedChats(member("alice")); !slices.Equal(got, []string{"Work"}) {
		t.Errorf("A's router says alice has %v unlocked, want [Work] (asked of B)", got)
	}
	reqs := w.forwards(kindRequest)
	if len(reqs) != 1 || reqs[0].to != "B" || !reqs[0].secret {
		t.Fatalf("forwarded requests %+v, want one secret one to B", reqs)
	}

	// bob posts a pointer in #general on C; alice presses Receive on A.
	ptr := w.pointerFrom("C", "bob", "Work", "the plan is ready")
	w.post("C", "bob", general, ptr)
	ref := w.receiveRef("bob")
	if w.net.publish != 1 {
		t.Errorf("%d publishes, want 1", w.net.publish)
	}
	w.run("A", "alice", bridge.Request{Place: general, Command: "receive", ReceiveRef: ref})
	got := w.a.holding("alice", "the plan is ready")
	if len(got) != 1 || got[0].instance != "B" || got[0].how != "private" {
		t.Fatalf("alice got the text %+v, want once, privately, from B", got)
	}
	reqs = w.forwards(kindRequest)
	if last := reqs[len(reqs)-1]; last.to != "B" || last.secret {
		t.Errorf("the Receive press was forwarded as %+v, want to B and not secret", last)
	}

	// watch: alice turns it on (forwarded), chats in #random on A.
	w.cmd("A", "alice", dm, "watch", "on")
	before := len(w.forwards(kindRequest))
	w.post("A", "alice", random, "morning all")
	w.post("A", "alice", random, "anyone here?")
	if n := len(w.forwards(kindRequest)); n != before {
		t.Errorf("channel chatter was forwarded as a request (%d → %d)", before, n)
	}
	if seen := w.forwards(kindSeen); len(seen) != 1 || seen[0].to != "B" || seen[0].from != "A" || seen[0].secret {
		t.Errorf("seen notes %+v, want one from A to B", seen)
	}
	ptr2 := w.pointerFrom("C", "bob", "Work", "second message")
	w.post("C", "bob", random, ptr2)
	s := w.waitWatch()
	if s.instance != "B" || s.member != "alice" || !strings.Contains(s.text, "second message") {
		t.Errorf("watch delivered %+v, want alice's from B", s)
	}
	w.closeAll()
	if got := w.a.holding("alice", "second message"); len(got) != 1 {
		t.Errorf("alice got the watched message %d times, want once: %+v", len(got), got)
	}
	for _, sd := range w.a.all {
		if sd.how == "public" && (strings.Contains(sd.text, "plan is ready") || strings.Contains(sd.text, secret)) {
			t.Errorf("public post holds plaintext or the secret: %+v", sd)
		}
	}
	if strings.Contains(w.logs.String(), secret) || strings.Contains(w.logs.String(), "plan is ready") {
		t.Error("a log line holds the secret or plaintext")
	}
}

func TestRouterNewOwnerTellsToUnlockAgain(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B", "C")
	w.net.setOwner("test:alice", "B", false)
	w.cmd("A", "alice", dm, "new", "Work "+secret)
	w.cmd("C", "alice", dm, "send", "Work kept safe")
	if got := w.a.holding("alice", "📤"); len(got) != 1 || got[0].instance != "B" {
		t.Fatalf("send: %+v", got)
	}

	w.net.kill("B", "A") // B is SIGKILLed; A takes alice over
	w.cmd("C", "alice", dm, "history", "Work")
	all := w.a.to("alice", "")
	notice, locked := all[len(all)-2], all[len(all)-1]
	if notice.instance != "A" || !strings.Contains(notice.text, "stopped") || !strings.Contains(notice.text, "/clm unlock") {
		t.Errorf("first answer %+v, want A's unlock-again notice", notice)
	}
	if locked.instance != "A" || !strings.Contains(locked.text, "locked") {
		t.Errorf("second answer %+v, want A saying Work is locked", locked)
	}
	w.cmd("A", "alice", dm, "history", "Work") // once only
	if n := len(w.a.holding("alice", "instance that held your unlocked chats stopped")); n != 1 {
		t.Errorf("the notice was given %d times, want once", n)
	}

	w.cmd("C", "alice", dm, "unlock", "Work "+secret)
	w.cmd("C", "alice", dm, "history", "Work")
	if got := w.last("alice"); got.instance != "A" || !strings.Contains(got.text, "kept safe") {
		t.Errorf("history after the take-over: %+v", got)
	}
}

func TestRouterRetriesATimeoutOnTheNewOwner(t *testing.T) {
	w := newWorld(t, Options{RetryWait: time.Second}, "A", "B", "C")
	w.net.setOwner("test:alice", "B", false)
	w.net.hook = func(n *fakeNet, to string, m cluster.Message) error {
		if to != "B" {
			return nil
		}
		// B hangs, then its heartbeat expires: alice moves to C.
		n.hook = nil
		n.nodes["B"].dead = true
		n.owners["test:alice"] = "C"
		n.moved["test:alice"] = true
		return cluster.ErrTimeout
	}
	w.cmd("A", "alice", dm, "chats", "")
	got := w.a.to("alice", "")
	if len(got) != 2 || got[0].instance != "C" || !strings.Contains(got[0].text, "stopped") || got[1].instance != "C" {
		t.Errorf("answers %+v, want C's notice then C's answer", got)
	}
	if n := len(w.forwards(kindRequest)); n != 2 {
		t.Errorf("%d forwards, want 2 (B timed out, then C)", n)
	}
}

func TestRouterTellsWhenTheOwnerStaysUnreachable(t *testing.T) {
	w := newWorld(t, Options{RetryWait: 200 * time.Millisecond}, "A", "B")
	w.net.setOwner("test:alice", "B", false)
	w.net.hook = func(*fakeNet, string, cluster.Message) error { return cluster.ErrTimeout }
	rep := &fakeReply{a: w.a, instance: "A", member: "alice"}
	err := w.inst["A"].router.Handle(context.Background(), bridge.Request{Member: member("alice"), Place: dm, Command: "chats", Reply: rep, Caps: caps})
	if !errors.Is(err, cluster.ErrTimeout) {
		t.Errorf("Handle returned %v, want ErrTimeout for the log", err)
	}
	got := w.a.to("alice", "")
	if len(got) != 1 || got[0].instance != "A" || !strings.Contains(got[0].text, "Try again in a minute") {
		t.Errorf("answers %+v, want A's could-not-reach", got)
	}
	if rep.wasRelayed() {
		t.Error("the request was marked relayed though nobody ran it")
	}
}

func TestRouterSecretTooLarge(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B")
	w.net.setOwner("test:alice", "B", false)
	w.cmd("A", "alice", dm, "send", "Work "+strings.Repeat("long text ", 1000))
	got := w.a.to("alice", "")
	if len(got) != 1 || got[0].instance != "A" || !strings.Contains(got[0].text, "Shorten it") {
		t.Errorf("answers %+v, want A asking to shorten", got)
	}
}

func TestRouterOwnerRefusesAMemberItLost(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B", "C")
	// A asks for the owner while the record still says B (stale), then
	// the record moves: B refuses, A asks again and reaches C.
	stale := true
	w.net.owners["test:alice"] = "B"
	w.net.hook = func(n *fakeNet, to string, _ cluster.Message) error {
		if to == "B" && stale {
			stale = false
			n.owners["test:alice"] = "C" // B's Owner now answers C
		}
		return nil
	}
	w.cmd("A", "alice", dm, "chats", "")
	got := w.a.to("alice", "")
	if len(got) != 1 || got[0].instance != "C" {
		t.Errorf("answers %+v, want one, from C", got)
	}
	if f := w.forwards(kindRequest); len(f) != 2 || f[0].to != "B" || f[1].to != "C" {
		t.Errorf("forwards %+v, want B (refused) then C", f)
	}
}

func TestMayHoldSecret(t *testing.T) {
	tests := []struct {
		name string
		req  bridge.Request
		want bool
	}{
		{"private post", bridge.Request{Place: dm, Post: "hello"}, true},
		{"private command", bridge.Request{Place: dm, Command: "chats"}, true},
		{"confidential", bridge.Request{Place: general, Confidential: true, Command: "send", Args: "Work hi"}, true},
		{"public unlock", bridge.Request{Place: general, Command: "unlock", Args: "Work s3cret"}, true},
		{"public unlock typed as a post", bridge.Request{Place: general, Post: "/clm unlock Work s3cret"}, true},
		{"public bare unlock", bridge.Request{Place: general, Post: "/unlock Work s3cret"}, true},
		{"receive button", bridge.Request{Place: general, ReceiveRef: "rabc"}, false},
		{"public help", bridge.Request{Place: general, Command: "help"}, false},
		{"public chatter", bridge.Request{Place: general, Post: "hello all"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mayHoldSecret(tt.req); got != tt.want {
				t.Errorf("mayHoldSecret = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHandleForwardedRefusesMalformed(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B")
	r := w.inst["A"].router
	for _, m := range []cluster.Message{
		{Kind: kindRequest, Body: []byte("not json")},
		{Kind: kindRequest, Body: make([]byte, MaxRequestBytes+1)},
		{Kind: kindRequest, Body: []byte(`{"m":{"Platform":"","ID":""}}`)},
		{Kind: kindSeen, Body: []byte(`{"m":{"Platform":"test","ID":"x"},"p":{"Kind":0}}`)},
		{Kind: "bogus", Body: []byte(`{}`)},
	} {
		if _, err := r.HandleForwarded(context.Background(), "B", m); err == nil {
			t.Errorf("%s %.20q accepted", m.Kind, m.Body)
		}
	}
	r.HandlePublished(context.Background(), "B", []byte(`{"Pointers":["nope"]}`)) // ignored, logged
	if !strings.Contains(w.logs.String(), "published post was ignored") && !strings.Contains(w.logs.String(), "published post ignored") {
		t.Error("a malformed published post was not logged")
	}
}

func TestRouterMakePointerAndRecordSentOnTheOwner(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B")
	w.net.setOwner("test:alice", "B", false)
	w.cmd("A", "alice", dm, "new", "Work "+secret)
	r := w.inst["A"].router
	ctx := context.Background()

	ptr, err := r.MakePointer(ctx, member("alice"), "Work", "an inline offer", 4096)
	if err != nil || len(clm.Extract(ptr)) != 1 {
		t.Fatalf("MakePointer = %q, %v", ptr, err)
	}
	if f := w.forwards(kindMake); len(f) != 1 || f[0].to != "B" || !f[0].secret {
		t.Errorf("MakePointer forwarded as %+v, want once to B, secret (it holds the text)", f)
	}
	if err := r.RecordSent(ctx, member("alice"), ptr); err != nil {
		t.Fatalf("RecordSent: %v", err)
	}
	w.cmd("A", "alice", dm, "history", "Work")
	if got := w.last("alice"); got.instance != "B" || !strings.Contains(got.text, "an inline offer") {
		t.Errorf("history after RecordSent: %+v", got)
	}

	_, err = r.MakePointer(ctx, member("alice"), "Home", "x", 4096)
	if !errors.Is(err, &bridge.PointerError{Kind: bridge.PointerNotUnlocked}) {
		t.Errorf("MakePointer of a locked chat: %v, want a PointerNotUnlocked", err)
	}
	var pe *bridge.PointerError
	if errors.As(err, &pe) && pe.Chat != "Home" {
		t.Errorf("the error names %q, want Home", pe.Chat)
	}
}

func TestRouterMemberLeftReachesTheOwner(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B")
	w.net.setOwner("test:alice", "B", false)
	w.post("A", "alice", random, "hello")
	w.inst["A"].router.MemberLeft(member("alice"), random.ID, false)
	if f := w.forwards(kindLeft); len(f) != 1 || f[0].to != "B" {
		t.Errorf("MemberLeft forwarded as %+v, want once to B", f)
	}
	w.post("A", "alice", random, "back again")
	if f := w.forwards(kindSeen); len(f) != 2 {
		t.Errorf("%d seen notes, want 2 (before and after leaving)", len(f))
	}
}

func TestRouterTellsWhenTheOwnerCannotRunIt(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B")
	w.net.setOwner("test:alice", "B", false)
	w.inst["B"].router.SetRelay("test", nil) // B serves no "test" adapter
	rep := &fakeReply{a: w.a, instance: "A", member: "alice"}
	err := w.inst["A"].router.Handle(context.Background(), bridge.Request{Member: member("alice"), Place: dm, Command: "chats", Reply: rep, Caps: caps})
	if err == nil || !strings.Contains(err.Error(), "serves no test adapter") {
		t.Errorf("Handle returned %v, want the owner's reason for the log", err)
	}
	got := w.a.to("alice", "")
	if len(got) != 1 || got[0].instance != "A" || !strings.Contains(got[0].text, "Try again in a minute") {
		t.Errorf("answers %+v, want A's could-not-reach", got)
	}
	if rep.wasRelayed() {
		t.Error("marked relayed though the owner did not run it")
	}
}

func TestForwardResultsMatchTheMetrics(t *testing.T) {
	for _, p := range [][2]string{
		{ForwardOK, metrics.ForwardOK}, {ForwardTimeout, metrics.ForwardTimeout}, {ForwardNoOwner, metrics.ForwardNoOwner},
		{ForwardTooLarge, metrics.ForwardTooLarge}, {ForwardFailed, metrics.ForwardFailed},
	} {
		if p[0] != p[1] {
			t.Errorf("relay result %q, metrics label %q", p[0], p[1])
		}
	}
}

func TestRouterReportsForwardsAndTakeOvers(t *testing.T) {
	var mu sync.Mutex
	var results []string
	takeOvers := 0
	w := newWorld(t, Options{RetryWait: 100 * time.Millisecond,
		OnForward: func(result string, _ time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			results = append(results, result)
		},
		OnTakeOver: func() {
			mu.Lock()
			defer mu.Unlock()
			takeOvers++
		}}, "A", "B")
	w.net.setOwner("test:alice", "B", false)
	w.cmd("A", "alice", dm, "chats", "")                                        // ok
	w.cmd("A", "alice", dm, "send", "Work "+strings.Repeat("long text ", 1000)) // too large
	w.net.kill("B", "A")
	w.cmd("A", "alice", dm, "chats", "") // handled here: not a forward; a take-over
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(results, []string{ForwardOK, ForwardTooLarge}) || takeOvers != 1 {
		t.Errorf("results %v, take-overs %d; want [ok too_large], 1", results, takeOvers)
	}
}

// A Receive press and the publish of its post travel separately: when the
// press reaches the member's owner first, the owner waits for the publish
// (a moment) rather than telling the member it forgot the button.
func TestAPressForwardedBeforeThePublishWaitsForIt(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B", "C")
	w.net.setOwner("test:alice", "B", false)
	w.net.setOwner("test:bob", "C", false)
	w.cmd("C", "bob", dm, "new", "Work "+secret)
	w.cmd("A", "alice", dm, "unlock", "Work "+secret)

	w.net.mu.Lock()
	w.net.slowTo, w.net.slowed = "B", make(chan struct{})
	w.net.mu.Unlock()
	ptr := w.pointerFrom("C", "bob", "Work", "late but there")
	w.post("C", "bob", general, ptr)
	ref := w.receiveRef("bob")
	timer := time.AfterFunc(200*time.Millisecond, func() { close(w.net.slowed) })
	defer timer.Stop()
	w.run("A", "alice", bridge.Request{Place: general, Command: "receive", ReceiveRef: ref})
	if got := w.a.holding("alice", "late but there"); len(got) != 1 || got[0].instance != "B" {
		t.Fatalf("alice got the text %+v, want once from B (last answer: %+v)", got, w.last("alice"))
	}
}

// When the owner's adapter refuses the state it was sent (an instance of
// another version), the request never ran there: the receiving instance
// must answer the member itself, not stay silent.
func TestAStateTheOwnerRefusesIsAnsweredWhereTheRequestArrived(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B")
	w.net.setOwner("test:alice", "B", false)
	rep := &fakeReply{a: w.a, instance: "A", member: "alice", garbled: true}
	req := bridge.Request{Member: member("alice"), Place: dm, Command: "chats", Reply: rep, Caps: caps}
	if err := w.inst["A"].router.Handle(context.Background(), req); err == nil {
		t.Error("Handle returned no error for a request the owner could not run")
	}
	if rep.wasRelayed() {
		t.Error("A's Responder was told the owner took the request over")
	}
	if got := w.last("alice"); got.instance != "A" || got.text != unreachableText {
		t.Errorf("alice was last told %+v, want A saying it could not reach her chats", got)
	}
}

// Channel chatter is every message in every channel: a member chatting on
// costs one owner lookup a minute per channel, not one a message, and a
// member who never made a request is given no owner by chatting.
func TestChatterIsCheapAndAssignsNoOwner(t *testing.T) {
	w := newWorld(t, Options{}, "A", "B")
	w.net.setOwner("test:alice", "B", false)
	for i := range 20 {
		w.post("A", "alice", random, fmt.Sprintf("message %d", i))
	}
	w.net.mu.Lock()
	lookups := w.net.lookups
	w.net.mu.Unlock()
	// One lookup where the chatter arrived, one by the owner checking it
	// still owns her as the note arrives.
	if lookups != 2 {
		t.Errorf("20 chatter messages looked the owner up %d times, want twice (once on each side)", lookups)
	}
	if seen := w.forwards(kindSeen); len(seen) != 1 || seen[0].to != "B" {
		t.Errorf("seen notes %+v, want one to B", seen)
	}
	w.post("A", "carol", random, "hello, first time here")
	w.net.mu.Lock()
	_, owned := w.net.owners["test:carol"]
	w.net.mu.Unlock()
	if owned {
		t.Error("chatter gave carol, who never made a request, an owner")
	}
}
