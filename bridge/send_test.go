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
	e.caps.MaxPointerChars = clm.DiscordLimit
	e.newChat("alice", "Work", workSecret)
	max := clm.MaxMessageBytes(clm.DiscordLimit, "Work", "alice", true)
	long := strings.Repeat("lorem ipsum ", (max/12)*3)

	t.Run("fits exactly", func(t *testing.T) {
		r := e.cmd("alice", dm, "send", "Work "+strings.Repeat("x", max))
		ptrs := clm.Extract(r.text())
		if len(ptrs) != 1 || len(ptrs[0].String()) > clm.DiscordLimit {
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
			if len(p.String()) > clm.DiscordLimit {
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
		{"Home hi", "Home is locked"},
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
			e.caps.MaxPointerChars = clm.DiscordLimit
			e.newChat("alice", "Work", workSecret)
			text := "meet at noon"
			args := "Work " + text
			if tt.split {
				text = strings.TrimSpace(strings.Repeat("meet at noon ", clm.MaxMessageBytes(clm.DiscordLimit, "Work", "alice", true)*5/2/13))
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
