package console

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// fakeCore records requests and answers each with scripted calls.
type fakeCore struct {
	mu       sync.Mutex
	reqs     []bridge.Request
	answer   func(ctx context.Context, req bridge.Request)
	notifier bridge.Notifier
}

func (f *fakeCore) Handle(ctx context.Context, req bridge.Request) error {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.answer != nil {
		f.answer(ctx, req)
	}
	return nil
}
func (f *fakeCore) MakePointer(context.Context, bridge.Member, string, string, int) (string, error) {
	return "", nil
}
func (f *fakeCore) RecordSent(context.Context, bridge.Member, string) error    { return nil }
func (f *fakeCore) ChatNames(context.Context, bridge.Member) ([]string, error) { return nil, nil }
func (f *fakeCore) UnlockedChats(bridge.Member) []string                       { return nil }
func (f *fakeCore) RegisterNotifier(_ string, n bridge.Notifier)               { f.notifier = n }
func (f *fakeCore) MemberLeft(bridge.Member, string, bool)                     {}

func runConsole(t *testing.T, core bridge.Core, input string) (out, diag string) {
	t.Helper()
	var o, d bytes.Buffer
	a := New(core, strings.NewReader(input), &o, &d, Options{})
	if err := a.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return o.String(), d.String()
}

func TestInputLinesBecomeRequests(t *testing.T) {
	ptr := `{"e": 1, "n": "abc", "d": "00"}`
	tests := []struct {
		name, line string
		check      func(t *testing.T, r bridge.Request)
	}{
		{"dm command with prefix", "alice@dm: /clm unlock Work s3cret", func(t *testing.T, r bridge.Request) {
			if r.Command != "unlock" || r.Args != "Work s3cret" || r.Place.Kind != bridge.Private || r.Post != "" {
				t.Fatalf("%+v", r)
			}
		}},
		{"dm line without prefix is a post", "alice@dm: unlock Work s3cret", func(t *testing.T, r bridge.Request) {
			if r.Command != "" || r.Post != "unlock Work s3cret" || r.Place.Kind != bridge.Private {
				t.Fatalf("%+v", r)
			}
		}},
		{"channel post", "bob@#general: hello " + ptr, func(t *testing.T, r bridge.Request) {
			if r.Post != "hello "+ptr || r.Place.Kind != bridge.Public || r.Place.ID != "#general" || r.Place.Name != "#general" {
				t.Fatalf("%+v", r)
			}
		}},
		{"channel command", "bob@#general: /clm chats", func(t *testing.T, r bridge.Request) {
			if r.Command != "chats" || r.Place.Kind != bridge.Public {
				t.Fatalf("%+v", r)
			}
		}},
		{"bare /clm is help", "bob@dm: /clm", func(t *testing.T, r bridge.Request) {
			if r.Command != "help" {
				t.Fatalf("%+v", r)
			}
		}},
		{"member identity", "Carol_2-x@dm: hi", func(t *testing.T, r bridge.Request) {
			want := bridge.Member{Platform: "console", ID: "Carol_2-x", DisplayName: "Carol_2-x"}
			if r.Member != want || r.MessageID != "1" || r.Caps.MaxPointerChars != DefaultMaxPointerChars || !r.Caps.Buttons || !r.Caps.CanDelete {
				t.Fatalf("%+v", r)
			}
		}},
		{"colons in text survive", "alice@dm: a: b: c", func(t *testing.T, r bridge.Request) {
			if r.Post != "a: b: c" {
				t.Fatalf("%q", r.Post)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core := &fakeCore{}
			runConsole(t, core, tt.line+"\n")
			if len(core.reqs) != 1 {
				t.Fatalf("%d requests", len(core.reqs))
			}
			tt.check(t, core.reqs[0])
		})
	}
}

func TestBadLinesAreDiagnosedAndSkipped(t *testing.T) {
	core := &fakeCore{}
	out, diag := runConsole(t, core, strings.Join([]string{
		"# a comment",
		"",
		"no at sign",
		"alice@somewhere: hi",
		"al ice@dm: hi",
		"alice@#gen eral: hi",
		"alice@dm:",
		"alice@dm: ok",
	}, "\n"))
	if len(core.reqs) != 1 || core.reqs[0].Post != "ok" {
		t.Fatalf("requests %+v", core.reqs)
	}
	if out != "" {
		t.Fatalf("stdout %q", out)
	}
	for _, n := range []string{"line 3:", "line 4:", "line 5:", "line 6:", "line 7:"} {
		if !strings.Contains(diag, n) {
			t.Errorf("no diagnostic for %s in %q", n, diag)
		}
	}
}

func TestAnswersArePrintedOneLineEachWithTheirPrefix(t *testing.T) {
	core := &fakeCore{answer: func(ctx context.Context, r bridge.Request) {
		_ = r.Reply.Private(ctx, "one\ntwo")
		_ = r.Reply.Public(ctx, bridge.PublicPost{Text: "a pointer", ReceiveRef: "rX-1"})
		_ = r.Reply.PrivateFile(ctx, bridge.File{Name: "f.json", Content: []byte("{\n}\n")})
		_ = r.Reply.DeleteRequest(ctx)
	}}
	out, diag := runConsole(t, core, "alice@#general: /clm whatever\n")
	want := strings.Join([]string{
		"-> alice (private): one",
		"-> alice (private): two",
		"-> #general (public): a pointer",
		"-> #general (public): [🔓 Receive] /clm receive rX-1",
		"-> alice (private): 📎 f.json (4 bytes):",
		"-> alice (private): {",
		"-> alice (private): }",
	}, "\n") + "\n"
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(diag, "line 1 (alice in #general) deleted") {
		t.Fatalf("diag %q", diag)
	}
}

func TestReceiveRefsAndBareReceive(t *testing.T) {
	ptr := `{"e": 1, "n": "abc", "d": "00"}`
	core := &fakeCore{answer: func(ctx context.Context, r bridge.Request) {
		if r.Post != "" {
			_ = r.Reply.Public(ctx, bridge.PublicPost{Text: "offer", ReceiveRef: "rref-1"})
		}
	}}
	runConsole(t, core, strings.Join([]string{
		"alice@#general: look " + ptr,
		"bob@#general: /clm receive rref-1",
		"bob@#general: /clm receive",
		"bob@#random: /clm receive",
		"bob@dm: /clm receive rother-9",
	}, "\n"))
	r := core.reqs
	if len(r) != 5 {
		t.Fatalf("%d requests", len(r))
	}
	if r[1].ReceiveRef != "rref-1" || r[1].Args != "" {
		t.Errorf("button press: %+v", r[1])
	}
	if r[2].Quoted != "look "+ptr {
		t.Errorf("bare receive in #general: quoted %q", r[2].Quoted)
	}
	if r[3].Quoted != "" {
		t.Errorf("bare receive in #random quoted %q", r[3].Quoted)
	}
	if r[4].ReceiveRef != "" || r[4].Args != "rother-9" {
		t.Errorf("unknown ref: %+v", r[4])
	}
}

func TestRunStopsWhenContextIsDone(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	a := New(&fakeCore{}, pr, io.Discard, io.Discard, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestOverlongLineIsAnError(t *testing.T) {
	a := New(&fakeCore{}, strings.NewReader("alice@dm: "+strings.Repeat("x", MaxLineBytes+1)+"\n"), io.Discard, io.Discard, Options{})
	if err := a.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("err = %v", err)
	}
}

func TestNotifierPrintsPrivately(t *testing.T) {
	core := &fakeCore{}
	var out bytes.Buffer
	a := New(core, strings.NewReader(""), &out, io.Discard, Options{})
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if core.notifier == nil {
		t.Fatal("Run did not register the notifier")
	}
	_ = core.notifier.NotifyPrivately(context.Background(), bridge.Member{Platform: Platform, ID: "bob"}, "hi\nthere")
	if out.String() != "-> bob (private): hi\n-> bob (private): there\n" {
		t.Fatalf("%q", out.String())
	}
}

// TestWithTheRealCore drives the real bridge through the console: the
// formats meet.
func TestWithTheRealCore(t *testing.T) {
	st, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "b.db"),
		storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := bridge.New(st, bridge.Options{SweepEvery: -1}, nil)
	defer b.Close()
	out, _ := runConsole(t, b, strings.Join([]string{
		"alice@dm: new Work tulip-harbor-quartz-77",
		"alice@dm: send Work hello bob",
	}, "\n"))
	var ptr string
	for _, l := range strings.Split(out, "\n") {
		if p := clm.Extract(l); len(p) == 1 {
			ptr = strings.TrimPrefix(l, "-> alice (private): ")
		}
	}
	if ptr == "" || !strings.HasPrefix(ptr, "{") {
		t.Fatalf("no pointer line in:\n%s", out)
	}
	out2, _ := runConsole(t, b, strings.Join([]string{
		"alice@#general: " + ptr,
		"bob@dm: /clm unlock Work tulip-harbor-quartz-77",
		"bob@#general: /clm receive",
	}, "\n"))
	for _, want := range []string{"-> #general (public): 🔓", "-> #general (public): [🔓 Receive] /clm receive r", "-> bob (private): 📨 Work · alice: hello bob"} {
		if !strings.Contains(out2, want) {
			t.Errorf("want %q in:\n%s", want, out2)
		}
	}
	for _, l := range strings.Split(out2, "\n") {
		if strings.Contains(l, "(public)") && (strings.Contains(l, "hello bob") || strings.Contains(l, "tulip")) {
			t.Errorf("public line leaks: %s", l)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"alice@dm: hi", "b@#g: x", "@dm: x", "a@#: x", "a@dm", "a@#g-_1:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		who, where, text, ok := parseLine(line)
		if !ok {
			return
		}
		if !validName(who) || (where != "dm" && !validName(strings.TrimPrefix(where, "#"))) {
			t.Fatalf("accepted bad names %q %q", who, where)
		}
		if !strings.HasSuffix(line, text) {
			t.Fatalf("text %q is not the end of the line", text)
		}
	})
}
