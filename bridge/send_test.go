package bridge

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

func openWith(t *testing.T, ptr, secret string) clm.Opened {
	t.Helper()
	p, err := clm.ParsePointer(ptr)
	if err != nil {
		t.Fatalf("parse %q: %v", ptr, err)
	}
	o, err := p.Open([]byte(secret))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return o
}

func TestSendInPrivateAnswersWithThePointerAndSavesIt(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	r := e.cmd("alice", dm, "send", "Work hello\nsecond line")
	if len(r.public) != 0 {
		t.Fatalf("send in private posted publicly: %v", r.public)
	}
	ptrs := clm.Extract(r.text())
	if len(ptrs) != 1 {
		t.Fatalf("answer %q", r.text())
	}
	o := openWith(t, ptrs[0].String(), workSecret)
	if o.Chat != "Work" || o.Username != "alice" || o.Text != "hello\nsecond line" || !o.Authenticated {
		t.Fatalf("pointer holds %+v", o)
	}
	// The pointer is alone on its own line, ready to copy.
	if r.private[len(r.private)-1] != ptrs[0].String() {
		t.Fatalf("last answer %q is not just the pointer", r.private[len(r.private)-1])
	}
	h := e.history("alice", "Work")
	if len(h) != 1 || h[0].Direction != storage.Sent || h[0].Text != "hello\nsecond line" || h[0].Pointer != ptrs[0].String() {
		t.Fatalf("history %+v", h)
	}
}

func TestSendTypedInPublicIsRefusedAndExplained(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	r := e.cmd("alice", general, "send", "Work the plan is secret")
	if len(r.public) != 0 {
		t.Fatalf("posted publicly: %v", r.public)
	}
	mustContain(t, r.text(), "I did not send that", "#general", "private chat")
	if r.deletes != 1 {
		t.Fatal("the exposed message was not deleted")
	}
	if h := e.history("alice", "Work"); len(h) != 0 {
		t.Fatalf("saved %+v", h)
	}
}

func TestSendFromConfidentialInputPostsOnlyThePointer(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	r := e.run(Request{Member: member("alice"), Place: general, Command: "send", Args: "Work meet at noon", Confidential: true})
	if len(r.public) != 1 {
		t.Fatalf("public posts %v", r.public)
	}
	post := r.public[0]
	if o := openWith(t, post.Text, workSecret); o.Text != "meet at noon" {
		t.Fatalf("posted pointer holds %q", o.Text)
	}
	if post.ReceiveRef == "" || len(post.ReceiveRef) > MaxReceiveRefBytes {
		t.Fatalf("ReceiveRef %q", post.ReceiveRef)
	}
	mustContain(t, r.text(), "Posted 1 pointer of Work in #general")
	mustNotContain(t, post.Text, "meet at noon")
	e.assertNoPublicLeak("meet at noon", workSecret)
}

func TestSendTooLongSaysTheLimitOrSplits(t *testing.T) {
	e := newEnv(t, Options{})
	e.caps.MaxPointerChars = discordLimit
	e.newChat("alice", "Work", workSecret)
	max := clm.MaxMessageBytes(discordLimit, "Work", "alice", true)
	long := strings.Repeat("lorem ipsum ", (max/12)*3)

	t.Run("fits exactly", func(t *testing.T) {
		r := e.cmd("alice", dm, "send", "Work "+strings.Repeat("x", max))
		ptrs := clm.Extract(r.text())
		if len(ptrs) != 1 || len(ptrs[0].String()) > discordLimit {
			t.Fatalf("one pointer within the limit expected: %d pointers", len(ptrs))
		}
	})
	t.Run("too long without split", func(t *testing.T) {
		r := e.cmd("alice", dm, "send", "Work "+strings.TrimSpace(long))
		mustContain(t, r.text(), "too long for one pointer", itoa(max)+" fit", "--split")
		if len(clm.Extract(r.text())) != 0 {
			t.Fatal("made a pointer anyway")
		}
	})
	t.Run("split", func(t *testing.T) {
		before := len(e.history("alice", "Work"))
		text := strings.TrimSpace(long)
		r := e.cmd("alice", dm, "send", "--split Work "+text)
		ptrs := clm.Extract(r.text())
		if len(ptrs) < 3 {
			t.Fatalf("want at least 3 parts, got %d: %q", len(ptrs), r.text())
		}
		mustContain(t, r.text(), "numbered parts")
		var joined strings.Builder
		for i, p := range ptrs {
			if len(p.String()) > discordLimit {
				t.Errorf("part %d pointer is %d chars", i, len(p.String()))
			}
			o := openWith(t, p.String(), workSecret)
			label := "[" + itoa(i+1) + "/" + itoa(len(ptrs)) + "] "
			if !strings.HasPrefix(o.Text, label) {
				t.Fatalf("part %d text %q lacks %q", i, o.Text[:20], label)
			}
			joined.WriteString(strings.TrimPrefix(o.Text, label))
		}
		if joined.String() != text {
			t.Fatal("parts do not give back the message (truncated?)")
		}
		if got := len(e.history("alice", "Work")) - before; got != len(ptrs) {
			t.Fatalf("saved %d parts, want %d", got, len(ptrs))
		}
	})
	t.Run("too long even split", func(t *testing.T) {
		r := e.cmd("alice", dm, "send", "--split Work "+strings.Repeat("y", max*MaxSplitParts+1))
		mustContain(t, r.text(), "too long even in 20 parts")
	})
}

func TestSendUsageErrors(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	tests := []struct{ args, want string }{
		{"", "Usage: /clm send"},
		{"Work", "Usage: /clm send"},
		{"Work    ", "Usage: /clm send"},
		{"Home hi", "no chat named Home"},
		{`"Work hi`, "quote is not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			mustContain(t, e.cmd("alice", dm, "send", tt.args).text(), tt.want)
		})
	}
}

func TestSendWhosePostFailsGivesThePointerPrivately(t *testing.T) {
	refused := errors.New("platform said 403")
	reasoned := &PostError{Reason: "I may not post in this channel (a server admin can give me Send Messages here)", Err: refused}
	tests := []struct {
		name      string
		split     bool
		errs      []error
		wantSaid  []string
		posted    int // pointers that reached the channel
		toPaste   int // pointers given privately to paste
		claimsAll bool
	}{
		{name: "a plain error", errs: []error{refused},
			wantSaid: []string{"could not post your pointer for Work in #general", "Nobody else saw it", "paste it there yourself"}, toPaste: 1},
		{name: "the adapter says why", errs: []error{reasoned},
			wantSaid: []string{"could not post your pointer for Work in #general", "I may not post in this channel (a server admin can give me Send Messages here)"}, toPaste: 1},
		{name: "the second of three parts", split: true, errs: []error{nil, refused, nil},
			wantSaid: []string{"Posted 2 of 3 pointers of Work in #general", "could not post 1 of them", "paste it there yourself, in its place in the order"}, posted: 2, toPaste: 1},
		{name: "posted", errs: nil, wantSaid: []string{"Posted 1 pointer of Work in #general"}, posted: 1, claimsAll: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.caps.MaxPointerChars = discordLimit
			e.newChat("alice", "Work", workSecret)
			text := "meet at noon"
			args := "Work " + text
			if tt.split {
				text = strings.TrimSpace(strings.Repeat("meet at noon ", clm.MaxMessageBytes(discordLimit, "Work", "alice", true)*5/2/13))
				args = "--split Work " + text
			}
			r := &recorder{publicErr: tt.errs}
			err := e.b.Handle(context.Background(), Request{Member: member("alice"), Place: general, Command: "send", Args: args,
				Confidential: true, Caps: e.caps, Reply: r})
			if (err != nil) != (tt.toPaste > 0) {
				t.Errorf("Handle returned %v: the adapter should hear of a failed post, and only then", err)
			}
			said := r.text()
			mustContain(t, said, tt.wantSaid...)
			if !tt.claimsAll {
				mustNotContain(t, said, "Posted 1 pointer", "Posted 3 pointers")
			}
			if len(r.public) != tt.posted {
				t.Errorf("%d posts reached the channel, want %d", len(r.public), tt.posted)
			}
			// Each pointer that did not go out is given alone on a line, ready
			// to copy, and is none of those that did.
			var given []string
			for _, line := range r.private {
				if ps := clm.Extract(line); len(ps) == 1 && ps[0].String() == line {
					given = append(given, line)
				}
			}
			if len(given) != tt.toPaste {
				t.Fatalf("%d pointers given to paste, want %d:\n%s", len(given), tt.toPaste, said)
			}
			for _, g := range given {
				for _, p := range r.public {
					if p.Text == g {
						t.Errorf("a pointer that was posted is also given to paste")
					}
				}
				if o := openWith(t, g, workSecret); !strings.Contains(text, strings.TrimSpace(o.Text[strings.Index(o.Text, "] ")+1:])) {
					t.Errorf("the pointer to paste holds %q", o.Text)
				}
			}
			if h := e.history("alice", "Work"); len(h) != tt.posted+tt.toPaste {
				t.Errorf("history holds %d messages, want %d", len(h), tt.posted+tt.toPaste)
			}
			e.assertNoPublicLeak(text, workSecret)
		})
	}
}

// TestMakePointerIsAnOfferOnly: Telegram asks for a pointer each time the
// member pauses in typing an inline query. None of those drafts may reach
// the history, nor use up the member's command budget.
func TestMakePointerIsAnOfferOnly(t *testing.T) {
	e := newEnv(t, Options{RateBurst: 3, RatePerMinute: 1})
	alice := member("alice")
	e.newChat("alice", "Work", workSecret)
	for _, draft := range []string{"The", "The launch", "The launch moves", "The launch moves to Friday."} {
		ptr, err := e.b.MakePointer(context.Background(), alice, "Work", draft, telegramLimit)
		if err != nil {
			t.Fatalf("MakePointer(%q): %v", draft, err)
		}
		if o := openWith(t, ptr, workSecret); o.Text != draft {
			t.Fatalf("the offer holds %q", o.Text)
		}
	}
	if h := e.history("alice", "Work"); len(h) != 0 {
		t.Fatalf("the drafts were saved: %d messages in the history", len(h))
	}
	// new used one of the 3 commands of the burst: 2 are left.
	for i := 0; i < 2; i++ {
		mustNotContain(t, e.cmd("alice", dm, "chats", "").text(), "too fast")
	}
	// Offers have a budget too: a flood is turned away, with a clear word.
	var err error
	for i := 0; i < 3*offerBudgetFactor+1 && err == nil; i++ {
		_, err = e.b.MakePointer(context.Background(), alice, "Work", "again", 0)
	}
	if err == nil || !strings.Contains(err.Error(), "try again in") {
		t.Fatalf("a flood of offers was not limited: %v", err)
	}
}

func TestMakePointerKeepsToTheMessageLimit(t *testing.T) {
	e := newEnv(t, Options{})
	alice := member("alice")
	e.newChat("alice", "Work", workSecret)
	max := clm.MaxMessageBytes(telegramLimit, "Work", "alice", true)
	tests := []struct {
		name  string
		text  string
		limit int
		want  string // in the error; "" for a pointer
	}{
		{"the most that fits", strings.Repeat("x", max), telegramLimit, ""},
		{"one byte more", strings.Repeat("x", max+1), telegramLimit, "at most " + itoa(max) + " bytes fit in one pointer to Work"},
		{"a limit too small for any text", "hello there", 90, "too long for a pointer here (90 characters per message)"},
		{"no platform limit", strings.Repeat("x", max+1), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ptr, err := e.b.MakePointer(context.Background(), alice, "Work", tt.text, tt.limit)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.limit > 0 && len(ptr) > tt.limit {
					t.Fatalf("a pointer of %d characters, over %d", len(ptr), tt.limit)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			mustNotContain(t, err.Error(), tt.text)
		})
	}
}

// TestRecordSentSavesOnlyTheMembersOwnPointer: RecordSent saves a pointer
// the member made and sent, once, in the chat named inside it, and refuses
// anything else without saving.
func TestRecordSentSavesOnlyTheMembersOwnPointer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	alice, bob := member("alice"), member("bob")
	e.newChat("alice", "Work", workSecret)
	e.newChat("alice", "Home", workSecret) // same secret as Work
	e.newChat("bob", "Work", workSecret)
	e.newChat("alice", "Locked", "another-secret-123")
	mustContain(t, e.cmd("alice", dm, "lock", "Locked").text(), "Locked")

	mine, err := e.b.MakePointer(ctx, alice, "Work", "sent by alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	home, err := e.b.MakePointer(ctx, alice, "Home", "for Home", 0)
	if err != nil {
		t.Fatal(err)
	}
	bobs, err := e.b.MakePointer(ctx, bob, "Work", "sent by bob", 0)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(secret string, m clm.Message, legacy bool) string {
		t.Helper()
		mkp := clm.NewPointer
		if legacy {
			mkp = clm.NewLegacyPointer
		}
		p, err := mkp([]byte(secret), m, 1_800_000_000)
		if err != nil {
			t.Fatal(err)
		}
		return p.String()
	}
	otherChat := mk(workSecret, clm.Message{Chat: "Elsewhere", Username: "alice", Text: "not a chat of alice's"}, false)
	legacy := mk(workSecret, clm.Message{Chat: "Work", Username: "alice", Text: "untagged"}, true)
	locked := mk("another-secret-123", clm.Message{Chat: "Locked", Username: "alice", Text: "locked"}, false)
	tampered := strings.Replace(mine, `"t": "`, `"t": "A`, 1)
	tampered = tampered[:len(tampered)-3] + `"}`

	refused := []struct{ name, pointer string }{
		{"bob's pointer of a chat alice shares", bobs},
		{"a chat alice does not have", otherChat},
		{"an untagged pointer", legacy},
		{"a locked chat", locked},
		{"a tampered pointer", tampered},
		{"no pointer", "hello"},
	}
	for _, tt := range refused {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			if err := e.b.RecordSent(ctx, alice, tt.pointer); err == nil {
				t.Fatal("recorded")
			}
		})
	}
	t.Run("saves her own, once", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			if err := e.b.RecordSent(ctx, alice, mine); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.b.RecordSent(ctx, alice, home); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("in the chat named inside, and nothing else", func(t *testing.T) {
		w := e.history("alice", "Work")
		if len(w) != 1 || w[0].Text != "sent by alice" || w[0].Direction != storage.Sent || w[0].Pointer != mine || w[0].Username != "alice" {
			t.Fatalf("alice's Work history: %+v", w)
		}
		if h := e.history("alice", "Home"); len(h) != 1 || h[0].Text != "for Home" {
			t.Fatalf("alice's Home history: %+v", h)
		}
		if b := e.history("bob", "Work"); len(b) != 0 {
			t.Fatalf("bob's history: %+v", b)
		}
	})
	t.Run("only under her nickname of now", func(t *testing.T) {
		before, err := e.b.MakePointer(ctx, alice, "Work", "offered before the new name", 0)
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, e.cmd("alice", dm, "name", "Alice B").text(), "Alice B")
		if err := e.b.RecordSent(ctx, alice, before); err == nil {
			t.Fatal("recorded a pointer signed with a name that is not hers now")
		}
		after, err := e.b.MakePointer(ctx, alice, "Work", "offered after", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.b.RecordSent(ctx, alice, after); err != nil {
			t.Fatal(err)
		}
		if w := e.history("alice", "Work"); len(w) != 2 || w[0].Username != "Alice B" {
			t.Fatalf("alice's Work history: %+v", w)
		}
		if err := e.b.RecordSent(ctx, Member{Platform: "test"}, mine); err == nil {
			t.Fatal("recorded for a member without an id")
		}
	})
	e.assertNoPublicLeak(workSecret, "sent by alice")
}

func TestMakePointerSaysWhyWithAKindAdaptersCanBranchOn(t *testing.T) {
	e := newEnv(t, Options{})
	alice := member("alice")
	e.newChat("alice", "Work", workSecret)
	e.cmd("alice", dm, "new", "Home "+workSecret)
	e.cmd("alice", dm, "lock", "Home")
	max := clm.MaxMessageBytes(telegramLimit, "Work", "alice", true)
	tests := []struct {
		name, chat, text string
		limit            int
		kind             PointerErrorKind
		words            string
	}{
		{"a locked chat", "Home", "hi", 0, PointerNotUnlocked, "/clm unlock Home <secret>"},
		{"a chat the member does not have", "Nowhere", "hi", 0, PointerNotUnlocked, "unlock it in a private chat"},
		{"too long", "Work", strings.Repeat("x", max+1), telegramLimit, PointerTooLong, "at most " + itoa(max) + " bytes"},
		{"no room at all", "Work", "hi", 90, PointerNoRoom, "use a shorter nickname"},
		{"empty text", "Work", "", 0, PointerInvalidText, "empty"},
		{"a bad chat name", "a" + clm.Separator + "b", "hi", 0, PointerBadChatName, "must not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.b.MakePointer(context.Background(), alice, tt.chat, tt.text, tt.limit)
			var pe *PointerError
			if !errors.As(err, &pe) || pe.Kind != tt.kind {
				t.Fatalf("err = %#v, want a *PointerError of kind %d", err, tt.kind)
			}
			if !errors.Is(err, &PointerError{Kind: tt.kind}) {
				t.Errorf("errors.Is does not match the kind")
			}
			mustContain(t, err.Error(), tt.words)
		})
	}
	t.Run("too long says how much fits", func(t *testing.T) {
		_, err := e.b.MakePointer(context.Background(), alice, "Work", strings.Repeat("x", max+1), telegramLimit)
		var pe *PointerError
		if !errors.As(err, &pe) || pe.Max != max || pe.Limit != telegramLimit {
			t.Fatalf("err = %#v, want Max %d", err, max)
		}
	})
}
