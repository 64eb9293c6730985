package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/clm"
)

func TestSecretsTypedInPublicAreRefusedDeletedAndBurned(t *testing.T) {
	tests := []struct {
		name, cmd, args string
	}{
		{"new with a secret", "new", "Work " + workSecret},
		{"unlock", "unlock", "Work " + workSecret},
		{"rekey", "rekey", "Work " + workSecret},
		{"profile with a master phrase", "profile", workSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			r := e.cmd("alice", general, tt.cmd, tt.args)
			if r.deletes != 1 {
				t.Fatalf("DeleteRequest called %d times", r.deletes)
			}
			mustContain(t, r.text(), "🔥 You typed a secret in #general", "did not use it", "Treat that secret as public", "rekey")
			if len(r.public) != 0 {
				t.Fatalf("posted publicly although the message was deleted: %v", r.public)
			}
			if len(e.b.UnlockedChats(member("alice"))) != 0 || len(e.chatNames("alice")) != 0 {
				t.Fatal("a public secret unlocked or created something")
			}
			e.assertNoPublicLeak(workSecret)
			mustNotContain(t, r.text(), workSecret)
		})
	}
	t.Run("cannot delete: says so publicly without repeating anything", func(t *testing.T) {
		e := newEnv(t, Options{})
		r := &recorder{deleteErr: ErrCannotDelete}
		e.run(Request{Member: member("alice"), Place: general, Command: "unlock", Args: "Work " + workSecret, Reply: r})
		if len(r.public) != 1 {
			t.Fatalf("public %v", r.public)
		}
		mustContain(t, r.public[0].Text, "could not delete")
		mustNotContain(t, r.public[0].Text, workSecret, "Work", "alice")
		mustContain(t, r.text(), "delete it yourself")
	})
	t.Run("confidential public input is private enough", func(t *testing.T) {
		e := newEnv(t, Options{})
		r := e.run(Request{Member: member("alice"), Place: general, Command: "new", Args: "Work " + workSecret, Confidential: true})
		mustContain(t, r.text(), "Created Work")
	})
	t.Run("commands without a secret are fine in public, answered privately", func(t *testing.T) {
		e := newEnv(t, Options{})
		r := e.cmd("alice", general, "unlock", "")
		mustContain(t, r.text(), "Usage")
		if r.deletes != 0 || len(r.public) != 0 {
			t.Fatal("no secret, yet deleted or public")
		}
	})
}

// TestMistypedSecretCommandsInPublicAreRemoved covers commands that may hold
// a secret but do not parse: an unclosed quote, or a misspelt command name
// followed by words. In a public place they are removed and the member is
// warned privately; nothing runs.
func TestMistypedSecretCommandsInPublicAreRemoved(t *testing.T) {
	const secret = "s3cret-horse"
	tests := []struct {
		name, cmd, args string
		place           Place
		want            []string // in the private answer
		deleted         bool
	}{
		{"unlock, unclosed quote", "unlock", `"Project Athena ` + secret, general, []string{"🔥", "did not use it", "rekey"}, true},
		{"new, unclosed quote", "new", `"Project Athena ` + secret, general, []string{"🔥", "did not use it"}, true},
		{"rekey, unclosed quote", "rekey", `"Work ` + secret, general, []string{"🔥", "did not use it"}, true},
		{"new, only an unclosed quote", "new", `"Project`, general, []string{"🔥"}, true},
		{"misspelt unlock", "unlcok", "Work " + secret, general, []string{"don't know that command", "removed", "looked like", "secret", "change it", "rekey"}, true},
		{"misspelt unlock, quoted name", "unlcok", `"Project Athena" ` + secret, general, []string{"removed", "looked like"}, true},
		{"misspelt unlock, unclosed quote", "unlokc", `"Project Athena ` + secret, general, []string{"removed"}, true},
		{"unknown command, one word", "sned", "hello", general, []string{"don't know that command", "removed"}, true},
		{"unknown command alone (it may be the secret)", secret, "", general, []string{"don't know that command", "removed"}, true},
		{"unlock, the chat name forgotten", "unlock", secret, general, []string{"only in a private chat", "removed"}, true},
		{"rekey, the chat name forgotten", "rekey", secret, general, []string{"only in a private chat", "removed"}, true},
		{"unlock, the quote misplaced", "unlock", `"Work ` + secret + `"`, general, []string{"only in a private chat", "removed"}, true},
		{"help with a word that is no command", "help", secret, general, []string{"could not read", "removed"}, true},
		{"a command that takes no argument, given one", "chats", secret, general, []string{"could not read", "removed"}, true},
		{"watch with a word that is not on or off", "watch", secret, general, []string{"could not read", "removed"}, true},
		{"history with a page that is no number", "history", "Work " + secret, general, []string{"could not read", "removed"}, true},
		{"delete with an id that is no number", "delete", "Work " + secret, general, []string{"could not read", "removed"}, true},
		{"misspelt unlock in private", "unlcok", "Work " + secret, dm, []string{"don't know that command", "Did you mean /clm unlock?"}, false},
		{"unknown command alone in private", secret, "", dm, []string{"don't know that command"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			r := e.cmd("alice", tt.place, tt.cmd, tt.args)
			if got := r.deletes == 1; got != tt.deleted {
				t.Fatalf("deleted = %v (%d DeleteRequest calls), want %v; answer:\n%s", got, r.deletes, tt.deleted, r.text())
			}
			mustContain(t, r.text(), tt.want...)
			mustNotContain(t, r.text(), secret)
			if len(r.public) != 0 {
				t.Fatalf("posted publicly: %v", r.public)
			}
			if len(e.chatNames("alice")) != 0 || len(e.b.UnlockedChats(member("alice"))) != 0 {
				t.Fatal("something was created or unlocked")
			}
			e.assertNoPublicLeak(secret)
		})
	}
	t.Run("misspelt, cannot delete: says so privately, posts nothing", func(t *testing.T) {
		e := newEnv(t, Options{})
		r := &recorder{deleteErr: ErrCannotDelete}
		e.run(Request{Member: member("alice"), Place: general, Command: "unlcok", Args: "Work " + secret, Reply: r})
		mustContain(t, r.text(), "delete it yourself")
		if len(r.public) != 0 {
			t.Fatalf("public %v", r.public)
		}
	})
}

func TestSessionsExpireAfterIdleAndMaxAgeAndAreWiped(t *testing.T) {
	e := newEnv(t, Options{SessionIdle: 10 * time.Minute, SessionMaxAge: time.Hour})
	e.newChat("alice", "Work", workSecret)
	s, err := e.b.sessions.use(keyOf(member("alice")), "Work")
	if err != nil {
		t.Fatal(err)
	}
	secret := s.group.secret // the registry's own copy
	e.b.sessions.release(s)

	e.clock.Advance(9 * time.Minute)
	e.send("alice", "Work", "still here") // touching keeps it alive
	e.clock.Advance(9 * time.Minute)
	if len(e.b.UnlockedChats(member("alice"))) != 1 {
		t.Fatal("expired while in use")
	}
	e.clock.Advance(10 * time.Minute)
	r := e.cmd("alice", dm, "send", "Work late")
	mustContain(t, r.text(), "Work was locked after 10 minutes without use", "/clm unlock Work <secret>")
	if !bytes.Equal(secret, make([]byte, len(secret))) {
		t.Fatal("expired secret was not overwritten")
	}

	t.Run("max age", func(t *testing.T) {
		e.unlock("alice", "Work", workSecret)
		for i := 0; i < 6; i++ { // used every 9 minutes: never idle
			e.clock.Advance(9 * time.Minute)
			e.send("alice", "Work", "tick")
		}
		e.clock.Advance(9 * time.Minute) // 63 minutes after unlock
		if got := e.b.UnlockedChats(member("alice")); len(got) != 0 {
			t.Fatalf("still unlocked after max age: %v", got)
		}
	})
	t.Run("sweep wipes without a request", func(t *testing.T) {
		e.unlock("alice", "Work", workSecret)
		s, _ := e.b.sessions.use(keyOf(member("alice")), "Work")
		secret := s.group.secret
		e.b.sessions.release(s)
		e.clock.Advance(11 * time.Minute)
		e.b.Sweep()
		if n, _ := e.b.sessions.count(); n != 0 {
			t.Fatalf("%d sessions after sweep", n)
		}
		if !bytes.Equal(secret, make([]byte, len(secret))) {
			t.Fatal("swept secret was not overwritten")
		}
	})
}

func TestSessionsSharingASecretShareOneGroupUntilTheLastGoes(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.newChat("bob", "Work", workSecret)
	if s, d := e.b.sessions.count(); s != 2 || d != 1 {
		t.Fatalf("sessions %d secrets %d", s, d)
	}
	s, _ := e.b.sessions.use(keyOf(member("bob")), "Work")
	secret := s.group.secret
	e.b.sessions.release(s)
	e.cmd("alice", dm, "lock", "")
	if !bytes.Equal(secret, []byte(workSecret)) {
		t.Fatal("bob's secret was wiped when alice locked")
	}
	// A session in use is wiped only when released.
	s, _ = e.b.sessions.use(keyOf(member("bob")), "Work")
	e.cmd("bob", dm, "lock", "")
	if !bytes.Equal(secret, []byte(workSecret)) {
		t.Fatal("wiped while in use")
	}
	e.b.sessions.release(s)
	if !bytes.Equal(secret, make([]byte, len(secret))) {
		t.Fatal("not wiped after the last release")
	}
}

func TestRateLimitWarnsOnceThenRecovers(t *testing.T) {
	e := newEnv(t, Options{RateBurst: 3, RatePerMinute: 6})
	for i := 0; i < 3; i++ {
		mustContain(t, e.cmd("alice", dm, "chats", "").text(), "no chats yet")
	}
	r := e.cmd("alice", dm, "chats", "")
	mustContain(t, r.text(), "too fast", "10 seconds")
	mustNotContain(t, r.text(), "no chats")
	if r := e.cmd("alice", dm, "chats", ""); len(r.private) != 0 {
		t.Fatalf("warned twice: %v", r.private)
	}
	// bob has his own budget.
	mustContain(t, e.cmd("bob", dm, "chats", "").text(), "no chats yet")
	e.clock.Advance(10 * time.Second)
	mustContain(t, e.cmd("alice", dm, "chats", "").text(), "no chats yet")
}

// secretForms are the ways a secret could show up in printed output.
func secretForms(secret string) []string {
	return []string{secret, fmt.Sprint([]byte(secret)), fmt.Sprintf("%x", secret), fmt.Sprintf("%q", []byte(secret))}
}

func TestSessionTypesPrintRedacted(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	s, err := e.b.sessions.use(keyOf(member("alice")), "Work")
	if err != nil {
		t.Fatal(err)
	}
	defer e.b.sessions.release(s)
	values := map[string]any{"session": s, "group": s.group, "registry": e.b.sessions, "bridge": e.b,
		"struct holding a session": struct{ S *session }{s}}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			var out strings.Builder
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
				fmt.Fprintf(&out, verb+"\n", v)
			}
			var logs bytes.Buffer
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "v", v)
			slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "v", v)
			mustNotContain(t, out.String()+logs.String(), secretForms(workSecret)...)
		})
	}
	if got := fmt.Sprint(s); !strings.Contains(got, "redacted") {
		t.Fatalf("session prints %q", got)
	}
}

func TestRequestsPrintWithoutWhatTheMemberTyped(t *testing.T) {
	typed := []string{workSecret, "post-canary", "quoted-canary", "unlcok-canary", "ref-canary", "msg-canary", "display-canary"}
	base := Request{Member: Member{Platform: "test", ID: "id-alice", DisplayName: "display-canary"}, Place: general,
		Command: "unlock", Args: "Work " + workSecret, Post: "post-canary " + workSecret, Quoted: "quoted-canary " + workSecret,
		ReceiveRef: "ref-canary", MessageID: "msg-canary", Reply: &recorder{}}
	unknown := base
	unknown.Command = "unlcok-canary"
	press := base
	press.Command, press.Args = "", ""
	post := press
	post.ReceiveRef = ""
	tests := []struct {
		name string
		req  Request
		want string // the command name printed
	}{
		{"known command", base, "unlock"},
		{"unknown command", unknown, "unknown"},
		{"button press", press, "receive"},
		{"post", post, "post"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			values := []any{tt.req, &tt.req, struct{ R Request }{tt.req}, []Request{tt.req}}
			for _, v := range values {
				for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
					fmt.Fprintf(&out, verb+"\n", v)
				}
			}
			var logs bytes.Buffer
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "req", tt.req)
			slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "req", tt.req, "ptr", &tt.req)
			got := out.String() + logs.String()
			mustNotContain(t, got, append(secretForms(workSecret), typed...)...)
			mustContain(t, fmt.Sprint(tt.req), tt.want, "public", "test")
			mustContain(t, logs.String(), tt.want, "public")
		})
	}
}

func TestLogsHoldNoSecretOrText(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "confidential words")
	e.cmd("bob", dm, "receive", ptr)
	e.post("bob", dm, wrongGuess)
	e.cmd("bob", dm, "receive", ptr)
	e.post("bob", dm, workSecret)
	e.cmd("carol", general, "unlock", "Work "+workSecret)
	e.cmd("bob", dm, "search", "Work confidential")
	e.post("alice", general, ptr)
	e.cmd("alice", dm, "frobnicate", workSecret)
	if !strings.Contains(e.logs.String(), `"command":"unlock"`) {
		t.Fatalf("expected debug logs, got:\n%s", e.logs.String())
	}
	mustNotContain(t, e.logs.String(), append(secretForms(workSecret), wrongGuess, "confidential words", "frobnicate")...)
}

func TestCloseWipesSessionsAndRefusesRequests(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	s, _ := e.b.sessions.use(keyOf(member("alice")), "Work")
	secret := s.group.secret
	e.b.sessions.release(s)
	if err := e.b.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(secret, make([]byte, len(secret))) {
		t.Fatal("Close did not wipe the secret")
	}
	err := e.b.Handle(context.Background(), Request{Member: member("alice"), Place: dm, Command: "chats", Reply: &recorder{}})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Handle after Close: %v", err)
	}
	if _, err := e.b.MakePointer(context.Background(), member("alice"), "Work", "x", 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("MakePointer after Close: %v", err)
	}
	if err := e.b.RecordSent(context.Background(), member("alice"), `{"e": 1, "n": "x", "d": "00", "t": "x"}`); !errors.Is(err, ErrClosed) {
		t.Fatalf("RecordSent after Close: %v", err)
	}
	if err := e.b.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestCloseWaitsForRequestsInFlight(t *testing.T) {
	const failAfter = 10 * time.Second // only a failure bound: the test waits on channels
	ctx := context.Background()
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	var (
		mu    sync.Mutex
		order []string // "released" and "closed", as they happened
	)
	note := func(what string) {
		mu.Lock()
		order = append(order, what)
		mu.Unlock()
	}
	entered := make(chan struct{})
	proceed := make(chan struct{})
	// The request notes its release while still in flight (inside its
	// answer), so a Close that waits for it always returns after the note.
	r := &blockingRecorder{entered: entered, proceed: proceed, released: func() { note("released") }}
	handled := make(chan error, 1)
	go func() {
		handled <- e.b.Handle(ctx, Request{Member: member("alice"), Place: dm, Command: "chats", Reply: r})
	}()
	<-entered // alice's request is in flight, held in its answer
	closed := make(chan struct{})
	go func() {
		_ = e.b.Close()
		note("closed")
		close(closed)
	}()
	// Close has begun once the bridge turns new requests away.
	deadline := time.Now().Add(failAfter)
	for !errors.Is(e.b.Handle(ctx, Request{Member: member("probe"), Place: dm, Command: "help", Reply: &recorder{}}), ErrClosed) {
		if time.Now().After(deadline) {
			t.Fatal("the bridge still takes requests after Close was called")
		}
		runtime.Gosched()
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a request was in flight")
	default:
	}
	if len(e.b.UnlockedChats(member("alice"))) != 1 {
		t.Fatal("Close wiped the sessions while a request was in flight")
	}
	close(proceed)
	select {
	case err := <-handled:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(failAfter):
		t.Fatal("the request in flight never finished")
	}
	select {
	case <-closed:
	case <-time.After(failAfter):
		t.Fatal("Close never returned after the request finished")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2 || order[0] != "released" || order[1] != "closed" {
		t.Fatalf("order %v: Close must return after the request in flight", order)
	}
	if len(e.b.UnlockedChats(member("alice"))) != 0 {
		t.Fatal("sessions left after Close")
	}
}

// blockingRecorder holds its first private answer until told to go on,
// then calls released (if set).
type blockingRecorder struct {
	recorder
	entered, proceed chan struct{}
	released         func()
}

func (b *blockingRecorder) Private(ctx context.Context, text string) error {
	close(b.entered)
	<-b.proceed
	if b.released != nil {
		b.released()
	}
	return b.recorder.Private(ctx, text)
}

func TestRequestsWithoutMemberOrReplyAreErrors(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.b.Handle(context.Background(), Request{Place: dm, Command: "help", Reply: &recorder{}}); err == nil {
		t.Fatal("no member accepted")
	}
	if err := e.b.Handle(context.Background(), Request{Member: member("a"), Place: dm, Command: "help"}); err == nil {
		t.Fatal("no Responder accepted")
	}
}

// TestNoSecretOrPlaintextOnDisk runs a story and scans the store's files.
func TestNoSecretOrPlaintextOnDisk(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "disk-canary-text")
	e.cmd("bob", dm, "receive", ptr)
	e.post("bob", dm, workSecret)
	e.cmd("alice", dm, "profile", "master-canary-phrase")
	_ = e.b.Close()
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		data, err := os.ReadFile(e.dbPath + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{workSecret, "disk-canary-text", "master-canary-phrase", clm.ChatHash("Work", []byte(workSecret))} {
			if bytes.Contains(data, []byte(w)) {
				t.Errorf("%q found in bridge.db%s", w, suffix)
			}
		}
	}
}

func TestEventsForMetricsNameCommandsAndOutcomesOnly(t *testing.T) {
	var mu sync.Mutex
	var events []Event
	e := newEnv(t, Options{OnEvent: func(ev Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "hi")
	e.cmd("bob", dm, "receive", ptr)
	e.cmd("bob", general, "unlock", "Work "+workSecret)
	e.cmd("bob", dm, "frobnicate", workSecret)
	want := []struct {
		cmd     string
		outcome Outcome
	}{
		{"new", OutcomeOK}, {"send", OutcomeOK}, {"receive", OutcomeNotOpened}, {"unlock", OutcomeRefused}, {"unknown", OutcomeUnknown},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != len(want) {
		t.Fatalf("events %+v", events)
	}
	for i, w := range want {
		if events[i].Command != w.cmd || events[i].Outcome != w.outcome {
			t.Errorf("event %d = %+v, want %s/%s", i, events[i], w.cmd, w.outcome)
		}
	}
	if events[2].PointersSeen != 1 || events[2].PointersOpened != 0 {
		t.Errorf("receive event %+v", events[2])
	}
}

// TestConcurrentMembersUnderRace runs many members' stories at once, with
// watchers, channel posts and sweeps, for the race detector.
func TestConcurrentMembersUnderRace(t *testing.T) {
	e := newEnv(t, Options{})
	n := &notifier{}
	e.b.RegisterNotifier("test", n)
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "shared text")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		who := "m" + itoa(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := func(req Request) {
				req.Member, req.Reply, req.Caps = member(who), &recorder{}, e.caps
				if err := e.b.Handle(context.Background(), req); err != nil {
					t.Error(err)
				}
			}
			run(Request{Place: dm, Command: "unlock", Args: "Work " + workSecret})
			run(Request{Place: dm, Command: "watch", Args: "on"})
			run(Request{Place: general, Post: "hello"})
			run(Request{Place: general, Post: ptr})
			run(Request{Place: dm, Command: "receive", Args: ptr})
			run(Request{Place: dm, Command: "send", Args: "Work from " + who})
			run(Request{Place: dm, Command: "history", Args: "Work"})
			e.b.Sweep()
			run(Request{Place: dm, Command: "lock"})
		}()
	}
	wg.Wait()
	for i := 0; i < 8; i++ {
		if h := e.history("alice", "Work"); len(h) != 1 {
			t.Fatalf("alice's history %+v", h)
		}
	}
	if s, _ := e.b.sessions.count(); s != 1 { // alice's
		t.Fatalf("%d sessions left", s)
	}
}

func FuzzHandle(f *testing.F) {
	f.Add("send", "Work hello", "", false, false)
	f.Add("unlock", `"Work`, "", true, false)
	f.Add("", "", "unlock Work "+workSecret, false, false)
	f.Add("receive", `{"e": "1", "n": "x", "d": "00"}`, "", true, false)
	f.Add("", "", `{"e": 1, "n": "x", "d": "zz"} {"e":2,"n":"","d":""}`, true, false)
	f.Add("history", "Work -1", "", false, false)
	f.Add("send", "--split Work "+strings.Repeat("é", 3000), "", true, true)
	f.Add("clear", "Work confirm", "", false, false)
	e := newEnv(f, Options{})
	ctx := context.Background()
	alice := member("alice")
	_ = e.b.Handle(ctx, Request{Member: alice, Place: dm, Command: "new", Args: "Work " + workSecret, Reply: &recorder{}})
	f.Fuzz(func(t *testing.T, cmd, args, post string, public, confidential bool) {
		if (cmd == "") == (post == "") {
			return // exactly one of Command and Post
		}
		place := dm
		if public {
			place = general
		}
		r := &recorder{}
		req := Request{Member: alice, Place: place, Command: cmd, Args: args, Post: post, Confidential: confidential,
			Caps: Capabilities{MaxPointerChars: discordLimit, Buttons: true}, Reply: r}
		if err := e.b.Handle(ctx, req); err != nil && !errors.Is(err, ErrClosed) {
			t.Fatal(err)
		}
		for _, p := range r.public {
			if !strings.HasPrefix(p.Text, "🔓") && !strings.HasPrefix(p.Text, "⚠️") && len(clm.Extract(p.Text)) != 1 {
				t.Fatalf("public post is neither an offer, a warning nor a pointer: %q", p.Text)
			}
			if strings.Contains(p.Text, workSecret) {
				t.Fatal("secret in public")
			}
		}
	})
}

func TestASecretTypedInPublicIsBurnedEvenWhenTheMemberIsRateLimited(t *testing.T) {
	const burned = "🔥 You typed a secret in #general"
	tests := []struct{ name, cmd, args, want string }{
		{"unlock", "unlock", "Work " + workSecret, burned},
		{"new", "new", "Work " + workSecret, burned},
		{"rekey", "rekey", "Work " + workSecret, burned},
		{"mistyped unlock", "unlcok", "Work " + workSecret, "looked like it could hold a secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{RateBurst: 2, RatePerMinute: 1})
			for range 2 {
				e.cmd("alice", dm, "chats", "")
			}
			mustContain(t, e.cmd("alice", dm, "chats", "").text(), "too fast")
			r := e.cmd("alice", general, tt.cmd, tt.args)
			if r.deletes != 1 {
				t.Fatalf("a secret typed in public was not deleted (DeleteRequest called %d times): %q", r.deletes, r.text())
			}
			mustContain(t, r.text(), tt.want)
			mustNotContain(t, r.text(), workSecret)
			if len(e.chatNames("alice")) != 0 {
				t.Fatal("a public secret created something")
			}
			// The budget still applies to everything else.
			mustNotContain(t, e.cmd("alice", dm, "chats", "").text(), "no chats yet")
		})
	}
}
