package bridge

import (
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
