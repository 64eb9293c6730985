package bridge

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/clm"
)

func TestHistoryPagesNewestFirst(t *testing.T) {
	e := newEnv(t, Options{HistoryPageSize: 3})
	e.newChat("alice", "Work", workSecret)
	mustContain(t, e.cmd("alice", dm, "history", "Work").text(), "no messages yet")
	for i := 1; i <= 5; i++ {
		e.clock.Advance(time.Minute)
		e.send("alice", "Work", "msg-"+itoa(i))
	}
	r := e.cmd("alice", dm, "history", "Work")
	text := r.text()
	mustContain(t, text, "Work, page 1", "msg-5", "msg-4", "msg-3", "↑ alice", "More: /clm history Work 2")
	mustNotContain(t, text, "msg-2")
	if strings.Index(text, "msg-5") > strings.Index(text, "msg-3") {
		t.Fatal("not newest first")
	}
	r = e.cmd("alice", dm, "history", "Work 2")
	mustContain(t, r.text(), "msg-2", "msg-1")
	mustNotContain(t, r.text(), "msg-3", "More:")
	mustContain(t, e.cmd("alice", dm, "history", "Work 9").text(), "no page 9")
	mustContain(t, e.cmd("alice", dm, "history", "Work zero").text(), "page is a number")
	mustContain(t, e.cmd("alice", dm, "history", "Home").text(), "no chat named Home")
	if len(r.public) != 0 {
		t.Fatal("history answered publicly")
	}
}

func TestSearchFindsWords(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.send("alice", "Work", "Budget meeting on Monday")
	e.send("alice", "Work", "lunch")
	r := e.cmd("alice", dm, "search", "Work budget")
	mustContain(t, r.text(), "Budget meeting on Monday")
	mustNotContain(t, r.text(), "lunch")
	mustContain(t, e.cmd("alice", dm, "search", "Work dinner").text(), `No message of Work holds "dinner"`)
	mustContain(t, e.cmd("alice", dm, "search", "Work").text(), "Usage: /clm search")
}

func TestTrashDeleteRestorePurge(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.send("alice", "Work", "keep me")
	e.send("alice", "Work", "oops")
	id := e.history("alice", "Work")[0].ID // "oops", newest
	sid := itoa(int(id))

	mustContain(t, e.cmd("alice", dm, "trash", "Work").text(), "trash of Work is empty")
	mustContain(t, e.cmd("alice", dm, "delete", "Work #"+sid).text(), "Moved #"+sid+" of Work to the trash")
	mustNotContain(t, e.cmd("alice", dm, "history", "Work").text(), "oops")
	mustContain(t, e.cmd("alice", dm, "trash", "Work").text(), "oops")
	mustContain(t, e.cmd("alice", dm, "chats", "").text(), "1 message (1 in the trash)")

	mustContain(t, e.cmd("alice", dm, "restore", "Work "+sid).text(), "Restored #"+sid)
	mustContain(t, e.cmd("alice", dm, "history", "Work").text(), "oops")

	mustContain(t, e.cmd("alice", dm, "purge", "Work "+sid).text(), "for good")
	mustNotContain(t, e.cmd("alice", dm, "history", "Work").text(), "oops")
	mustNotContain(t, e.cmd("alice", dm, "trash", "Work").text(), "oops")

	tests := []struct{ cmd, args, want string }{
		{"delete", "Work 99999", "has no message #99999"},
		{"restore", "Work 99999", "has no message #99999"},
		{"purge", "Work abc", "Which message?"},
		{"delete", "Work", "Which message?"},
		{"delete", "Home 1", "no chat named Home"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+tt.args, func(t *testing.T) {
			mustContain(t, e.cmd("alice", dm, tt.cmd, tt.args).text(), tt.want)
		})
	}
}

func TestClearAsksForConfirmation(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.send("alice", "Work", "a")
	e.send("alice", "Work", "b")

	r := e.cmd("alice", dm, "clear", "Work")
	mustContain(t, r.text(), "deletes all 2 messages of Work", "/clm clear Work confirm", "answer yes")
	if len(e.history("alice", "Work")) != 2 {
		t.Fatal("cleared without confirmation")
	}
	t.Run("yes after the window does nothing", func(t *testing.T) {
		e.clock.Advance(DefaultConfirmWindow + time.Second)
		e.post("alice", dm, "yes")
		if len(e.history("alice", "Work")) != 2 {
			t.Fatal("a late yes cleared the chat")
		}
	})
	t.Run("yes within the window", func(t *testing.T) {
		e.cmd("alice", dm, "clear", "Work")
		r := e.post("alice", dm, "yes")
		mustContain(t, r.text(), "Cleared Work")
		if len(e.history("alice", "Work")) != 0 {
			t.Fatal("not cleared")
		}
	})
	t.Run("confirm word", func(t *testing.T) {
		e.send("alice", "Work", "c")
		mustContain(t, e.cmd("alice", dm, "clear", "Work confirm").text(), "Cleared Work")
		if len(e.history("alice", "Work")) != 0 {
			t.Fatal("not cleared")
		}
	})
	t.Run("another line drops the question", func(t *testing.T) {
		e.send("alice", "Work", "d")
		e.cmd("alice", dm, "clear", "Work")
		e.post("alice", dm, "chats")
		e.post("alice", dm, "yes")
		if len(e.history("alice", "Work")) != 1 {
			t.Fatal("yes after another line cleared the chat")
		}
	})
}

func TestForgetAsksThenDeletesTheChat(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.send("alice", "Work", "a")
	mustContain(t, e.cmd("alice", dm, "forget", "Home").text(), "no chat named Home")
	r := e.cmd("alice", dm, "forget", "Work")
	mustContain(t, r.text(), "deletes your chat Work and its 1 message", "forget Work confirm")
	if len(e.chatNames("alice")) != 1 {
		t.Fatal("forgot without confirmation")
	}
	r = e.post("alice", dm, "yes")
	mustContain(t, r.text(), "Forgot Work")
	if len(e.chatNames("alice")) != 0 || len(e.b.UnlockedChats(member("alice"))) != 0 {
		t.Fatal("Work still there")
	}
	// forget needs no unlock.
	e.newChat("alice", "Home", workSecret)
	e.cmd("alice", dm, "lock", "")
	mustContain(t, e.cmd("alice", dm, "forget", "Home confirm").text(), "Forgot Home")
}

func TestRekeyChangesTheSecret(t *testing.T) {
	e := newEnv(t, Options{})
	const newSecret = "brand-new-secret-42"
	e.newChat("alice", "Work", workSecret)
	e.send("alice", "Work", "before rekey")
	oldPtr := e.send("alice", "Work", "old pointer")

	r := e.cmd("alice", general, "rekey", "Work "+newSecret)
	mustContain(t, r.text(), "🔥", "did not use it")
	if r.deletes != 1 {
		t.Fatal("public rekey not deleted")
	}

	mustContain(t, e.cmd("alice", dm, "rekey", "Work short").text(), "too short")
	mustContain(t, e.cmd("alice", dm, "rekey", "Work "+workSecret).text(), "already Work's secret")
	r = e.cmd("alice", dm, "rekey", "Work "+newSecret)
	mustContain(t, r.text(), "Work has its new secret", "re-sealed")
	mustNotContain(t, r.text(), newSecret)

	// New pointers use the new secret; history is still readable.
	ptr := e.send("alice", "Work", "after rekey")
	openWith(t, ptr, newSecret)
	mustContain(t, e.cmd("alice", dm, "history", "Work").text(), "before rekey", "after rekey")
	// The old secret no longer unlocks; the new one does.
	e.cmd("alice", dm, "lock", "")
	mustContain(t, e.cmd("alice", dm, "unlock", "Work "+workSecret).text(), "does not open")
	e.unlock("alice", "Work", newSecret)
	mustContain(t, e.cmd("alice", dm, "receive", oldPtr).text(), "None of your unlocked chats")
	e.assertNoPublicLeak(newSecret, workSecret)
}

func TestExportSendsJSONPrivately(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Project Athena", workSecret)
	e.send("alice", "Project Athena", "exported words")
	r := e.cmd("alice", general, "export", "Project Athena")
	if len(r.public) != 0 || len(r.files) != 1 {
		t.Fatalf("public %v files %d", r.public, len(r.files))
	}
	f := r.files[0]
	if !strings.HasPrefix(f.Name, "clm-Project_Athena-") || !strings.HasSuffix(f.Name, ".json") {
		t.Fatalf("file name %q", f.Name)
	}
	if !json.Valid(f.Content) || !strings.Contains(string(f.Content), "exported words") {
		t.Fatalf("export content %s", f.Content)
	}
	mustNotContain(t, string(f.Content), workSecret, clm.ChatHash("Project Athena", []byte(workSecret)))
	mustContain(t, r.text(), "as JSON", "keep it somewhere safe")
	mustContain(t, e.cmd("alice", dm, "export", "Home").text(), "no chat named Home")
}
