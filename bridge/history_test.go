package bridge

import (
	"database/sql"
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

// flipStoredBit flips one bit in the ciphertext of who's message number
// num of chat, in the database file, as a failing disk might.
func (e *env) flipStoredBit(who, chat string, num int64) {
	e.t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.dbPath+"?_busy_timeout=10000")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	const row = `FROM messages WHERE num = ? AND chat_id =
		(SELECT c.id FROM chats c JOIN members m ON m.id = c.member_id WHERE m.platform = ? AND m.user_id = ? AND c.name = ?)`
	m := member(who)
	var sealed []byte
	if err := db.QueryRow(`SELECT sealed `+row, num, m.Platform, m.ID, chat).Scan(&sealed); err != nil {
		e.t.Fatalf("reading %s's %s #%d: %v", who, chat, num, err)
	}
	sealed[30] ^= 1
	if _, err := db.Exec(`UPDATE messages SET sealed = ? WHERE rowid IN (SELECT rowid `+row+`)`, sealed, num, m.Platform, m.ID, chat); err != nil {
		e.t.Fatal(err)
	}
}

func TestADamagedMessageIsShownAsDamagedAndTheRestStillWork(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.send("alice", "Work", "first words")
	e.send("alice", "Work", "second words")
	e.send("alice", "Work", "third words")
	e.flipStoredBit("alice", "Work", 2)
	const sorry = "something went wrong"
	damaged := "#2 ⚠️ damaged"

	t.Run("history", func(t *testing.T) {
		text := e.cmd("alice", dm, "history", "Work").text()
		mustContain(t, text, "first words", "third words", damaged, "/clm purge Work 2")
		mustNotContain(t, text, "second words", sorry)
	})
	t.Run("search", func(t *testing.T) {
		text := e.cmd("alice", dm, "search", "Work words").text()
		mustContain(t, text, "holding", "first words", "third words", "could not search", damaged, "/clm purge Work 2")
		mustNotContain(t, text, "second words", sorry)
	})
	t.Run("export", func(t *testing.T) {
		r := e.cmd("alice", dm, "export", "Work")
		mustContain(t, r.text(), "as JSON", "damaged", "#2", "/clm purge Work 2")
		mustNotContain(t, r.text(), sorry)
		if len(r.files) != 1 {
			t.Fatalf("%d files exported", len(r.files))
		}
		var doc struct {
			Messages []struct {
				ID   int64  `json:"id"`
				Text string `json:"text"`
			} `json:"messages"`
			Damaged []int64 `json:"damaged"`
		}
		if err := json.Unmarshal(r.files[0].Content, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Messages) != 2 || doc.Messages[0].Text != "first words" || doc.Messages[1].ID != 3 ||
			len(doc.Damaged) != 1 || doc.Damaged[0] != 2 {
			t.Fatalf("export = %+v", doc)
		}
	})
	t.Run("rekey", func(t *testing.T) {
		const newSecret = "brand-new-secret-42"
		text := e.cmd("alice", dm, "rekey", "Work "+newSecret).text()
		mustContain(t, text, "Work has its new secret", "Not re-sealed", "#2", "still sealed with the old secret", "/clm purge Work 2")
		mustNotContain(t, text, sorry, newSecret)
		mustContain(t, e.cmd("alice", dm, "history", "Work").text(), "first words", "third words", damaged)
		ptr := e.send("alice", "Work", "fourth words")
		openWith(t, ptr, newSecret)
	})
	t.Run("purge removes it", func(t *testing.T) {
		mustContain(t, e.cmd("alice", dm, "purge", "Work 2").text(), "Deleted #2 of Work for good")
		text := e.cmd("alice", dm, "history", "Work").text()
		mustContain(t, text, "#1 ", "first words", "#3 ", "#4 ", "fourth words")
		mustNotContain(t, text, "damaged")
	})
}

func TestAMembersMessageNumbersDoNotMoveWhenOthersReceive(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.newChat("bob", "Work", workSecret)
	e.newChat("alice", "Home", "another-secret-99")
	e.send("alice", "Work", "one")
	// Bob holds Work too: each pointer Alice posts is saved in his store
	// as well, and Alice's other chat fills meanwhile.
	for _, text := range []string{"two", "three"} {
		ptr := e.send("alice", "Work", text)
		mustContain(t, e.cmd("bob", dm, "receive", ptr).text(), text)
		e.send("bob", "Work", "bob alone "+text)
		e.send("alice", "Home", "home "+text)
	}
	h := e.history("alice", "Work")
	if len(h) != 3 || h[0].ID != 3 || h[1].ID != 2 || h[2].ID != 1 {
		t.Fatalf("alice's Work numbers = %v, want 3, 2, 1", []int64{h[0].ID, h[1].ID, h[2].ID})
	}
	mustContain(t, e.cmd("alice", dm, "history", "Work").text(), "#3 ", "three", "#2 ", "two", "#1 ", "one")
	// A number names the member's own message.
	mustContain(t, e.cmd("bob", dm, "delete", "Work 3").text(), "Moved #3 of Work to the trash")
	mustContain(t, e.cmd("bob", dm, "trash", "Work").text(), "#3 ", "three")
	mustContain(t, e.cmd("alice", dm, "history", "Work").text(), "#3 ", "three")
}

func TestRekeyRefusesWhenNoStoredMessageOpens(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	e.send("alice", "Work", "only words")
	e.flipStoredBit("alice", "Work", 1)
	const newSecret = "brand-new-secret-42"
	text := e.cmd("alice", dm, "rekey", "Work "+newSecret).text()
	mustContain(t, text, "changed nothing", "/clm history Work", "/clm purge Work <number>")
	mustNotContain(t, text, "has its new secret", "something went wrong", newSecret)
	e.cmd("alice", dm, "lock", "")
	e.unlock("alice", "Work", workSecret) // the old secret still opens it
	mustContain(t, e.cmd("alice", dm, "purge", "Work 1").text(), "for good")
	mustContain(t, e.cmd("alice", dm, "rekey", "Work "+newSecret).text(), "Work has its new secret")
}
