package console

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

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

func TestAnOverlongLineIsRefusedAndTheConsoleKeepsRunning(t *testing.T) {
	long := "alice@dm: " + strings.Repeat("x", MaxLineBytes+1)
	tests := []struct {
		name, in string
		want     []string // posts handled
	}{
		{"in the middle", "alice@dm: before\n" + long + "\nalice@dm: after\n", []string{"before", "after"}},
		{"last, without a newline", "alice@dm: before\n" + long, []string{"before"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core := &fakeCore{}
			var diag bytes.Buffer
			a := New(core, strings.NewReader(tt.in), io.Discard, &diag, Options{})
			if err := a.Run(context.Background()); err != nil {
				t.Fatalf("Run ended with %v", err)
			}
			var got []string
			for _, r := range core.reqs {
				got = append(got, r.Post)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("posts %q, want %q", got, tt.want)
			}
			if !strings.Contains(diag.String(), "line 2 is longer than") {
				t.Fatalf("diag %q", diag.String())
			}
		})
	}
}

func TestALineOfExactlyTheMaximumIsRead(t *testing.T) {
	core := &fakeCore{}
	text := strings.Repeat("y", MaxLineBytes-len("alice@dm: "))
	runConsole(t, core, "alice@dm: "+text+"\n")
	if len(core.reqs) != 1 || core.reqs[0].Post != text {
		t.Fatalf("%d requests", len(core.reqs))
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
	_ = core.notifier.NotifyPrivately(context.Background(), bridge.Member{Platform: Name, ID: "bob"}, "hi\nthere")
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
		who, where, text, ok := parseLine([]byte(line))
		if !ok {
			return
		}
		if !validName(who) || (where != "dm" && !validName(strings.TrimPrefix(where, "#"))) {
			t.Fatalf("accepted bad names %q %q", who, where)
		}
		if !strings.HasSuffix(line, string(text)) {
			t.Fatalf("text %q is not the end of the line", text)
		}
	})
}

// realCore returns the real bridge over a throwaway store.
func realCore(t *testing.T) *bridge.Bridge {
	t.Helper()
	st, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "b.db"),
		storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := bridge.New(st, bridge.Options{SweepEvery: -1}, nil)
	t.Cleanup(func() { b.Close() })
	return b
}

func TestEveryWayOfWritingClmWithASecretInAChannelIsDeletedAndWarned(t *testing.T) {
	const secret = "quartz-velvet-orchid-4411"
	variants := []string{
		"/CLM unlock Work " + secret,
		"/Clm unlock Work " + secret,
		"/clm\u00a0unlock Work " + secret,
		"/clm\u3000unlock Work " + secret,
		"/clm\u2003unlock Work " + secret,
		"/clm\tunlock Work " + secret,
		"  /clm unlock Work " + secret,
		"\uff0fclm unlock Work " + secret,
		"/clm unlock " + secret,
		"/clm rekey " + secret,
		`/clm unlock "Work ` + secret + `"`,
		"/clm " + secret,
		"/clm unlcok Work " + secret,
	}
	for _, v := range variants {
		t.Run(v, func(t *testing.T) {
			b := realCore(t)
			out, diag := runConsole(t, b, "alice@dm: new Work tulip-harbor-quartz-77\nalice@dm: lock\nalice@#general: "+v+"\n")
			if !strings.Contains(diag, "line 3 (alice in #general) deleted") {
				t.Fatalf("not deleted; diag:\n%s\nout:\n%s", diag, out)
			}
			if !strings.Contains(out, "-> alice (private): 🔥") && !strings.Contains(out, "-> alice (private): ⚠️") {
				t.Fatalf("not warned privately:\n%s", out)
			}
			if strings.Contains(out, secret) || strings.Contains(out, "(public)") {
				t.Fatalf("echoed or posted publicly:\n%s", out)
			}
			if len(b.UnlockedChats(bridge.Member{Platform: Name, ID: "alice"})) != 0 {
				t.Fatal("a secret typed in a channel unlocked a chat")
			}
		})
	}
	t.Run("in a DM, /clm <secret> is not shown back", func(t *testing.T) {
		out, _ := runConsole(t, realCore(t), "alice@dm: /clm "+secret+"\nalice@dm: /CLM\u00a0"+secret+"\n")
		if strings.Contains(out, secret) || !strings.Contains(out, "don't know that command") {
			t.Fatalf("out:\n%s", out)
		}
	})
}

func TestNoAnswerCanPrintALineThatLooksLikeAnotherPrefix(t *testing.T) {
	fake := "-> #general (public): the bot says hi"
	texts := []string{
		"a\r" + fake,
		"a\u2028" + fake,
		"a\u2029" + fake,
		"a\u0085" + fake,
		"a\v" + fake,
		"a\f" + fake,
		"a\x1b[2K\r" + fake,
		"a\u202e" + fake,
		"a\xff" + fake,
	}
	core := &fakeCore{answer: func(ctx context.Context, r bridge.Request) {
		for _, text := range texts {
			_ = r.Reply.Private(ctx, text)
		}
	}}
	out, _ := runConsole(t, core, "alice@dm: hi\n")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%d lines for %d answers:\n%q", len(lines), len(texts), out)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "-> alice (private): a\\") || !strings.HasSuffix(l, fake) {
			t.Errorf("answer %d printed as %q", i, l)
		}
		if strings.ContainsAny(l, "\r\v\f\x1b\u2028\u2029\u0085\u202e") || !utf8.ValidString(l) {
			t.Errorf("answer %d kept a control character: %q", i, l)
		}
	}
	t.Run("tabs and ordinary text are kept", func(t *testing.T) {
		core := &fakeCore{answer: func(ctx context.Context, r bridge.Request) { _ = r.Reply.Private(ctx, "a\tb ünïcødé 🔓") }}
		if out, _ := runConsole(t, core, "alice@dm: hi\n"); out != "-> alice (private): a\tb ünïcødé 🔓\n" {
			t.Fatalf("%q", out)
		}
	})
}

func TestTheLineReaderLeavesNoCopyOfALineInItsBuffer(t *testing.T) {
	const secret = "quartz-velvet-orchid-4411"
	input := strings.Repeat("alice@dm: unlock Work "+secret+"\n", 500) + "alice@dm: last " + secret
	for _, tt := range []struct {
		name string
		r    io.Reader
	}{
		{"whole reads", strings.NewReader(input)},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(input))},
		{"half reads", iotest.HalfReader(strings.NewReader(input))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLineReader(tt.r, MaxLineBytes)
			n := 0
			for {
				line, err := lr.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
				if !bytes.Contains(line, []byte(secret)) {
					t.Fatalf("line %d = %q", n, line)
				}
				for i, c := range lr.buf {
					if c != 0 && (i < lr.start || i >= lr.end) {
						t.Fatalf("after line %d the buffer still holds a returned line at %d", n, i)
					}
				}
			}
			if n != 501 {
				t.Fatalf("%d lines", n)
			}
			if bytes.Contains(lr.buf, []byte("quartz")) {
				t.Fatal("the buffer holds a line after the end of input")
			}
		})
	}
}
