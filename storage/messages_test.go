package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSaveMessageRoundTripsEveryField(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		cases := []NewMessage{
			testMessage(1),
			{Direction: Received, Epoch: 0, Pointer: `{"e": 0, "n": "x", "d": ""}`},
			{
				Direction: Received, Epoch: -5, Nonce: "Zz_-09", Pointer: "p|¶|ü",
				Authenticated: true, Username: "Bob |¶| 💬", Text: "multi\nline\x00 text ünïcode 🎉",
				Source: Source{Platform: "discord", Channel: "c", MessageID: "m"},
			},
			{Direction: Sent, Epoch: 1, Pointer: "big", Text: strings.Repeat("é", maxTextBytes/2)},
		}
		for i, want := range cases {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				before := time.Now()
				id := mustSave(t, s, k, want)
				h := mustHistory(t, s, k, Page{Size: 1})
				got := h[0]
				if got.ID != id || got.NewMessage != want {
					t.Fatalf("saved %+v\ngot %+v", want, got.NewMessage)
				}
				if got.Saved.Before(before.Add(-time.Second)) || got.Saved.After(time.Now().Add(time.Second)) || got.DeletedAt != nil {
					t.Fatalf("saved at %v, deleted at %v", got.Saved, got.DeletedAt)
				}
			})
		}
	})
}

func TestSaveMessageIsIdempotentPerChat(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		work := mustChat(t, s, m.ID, "Work", "pw")
		fam := mustChat(t, s, m.ID, "Family", "pw")
		first := mustSave(t, s, work, testMessage(1))

		again := testMessage(1)
		again.Text = "a different text for the same pointer"
		again.Direction = Received
		id, created, err := s.SaveMessage(ctx, work, again)
		if err != nil || created || id != first {
			t.Fatalf("second save of a pointer = %d, %v, %v; want %d, false, nil", id, created, err, first)
		}
		if h := mustHistory(t, s, work, Page{Size: 10}); len(h) != 1 || h[0].NewMessage != testMessage(1) {
			t.Fatalf("second save changed the chat: %+v", h)
		}
		// Trashed, then saved again: still the same row, still in the trash.
		if err := s.Trash(ctx, work, first); err != nil {
			t.Fatal(err)
		}
		if id, created, _ := s.SaveMessage(ctx, work, testMessage(1)); id != first || created {
			t.Fatalf("save of a trashed pointer = %d, %v", id, created)
		}
		if tr, _ := s.ListTrash(ctx, work); len(tr) != 1 {
			t.Fatal("save of a trashed pointer took it out of the trash")
		}
		// The same pointer in another chat is another message.
		mustSave(t, s, fam, testMessage(1))
		ph := pointerHash(testMessage(1).Pointer)
		if n := rawCount(t, s, `SELECT count(*) FROM messages WHERE pointer_hash = ?`, ph[:]); n != 2 {
			t.Fatalf("the same pointer in two chats is %d rows, want 2", n)
		}
	})
}

func TestSaveMessageRejectsBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		mod := func(f func(*NewMessage)) NewMessage { n := testMessage(1); f(&n); return n }
		cases := map[string]NewMessage{
			"no direction":       mod(func(n *NewMessage) { n.Direction = "" }),
			"unknown direction":  mod(func(n *NewMessage) { n.Direction = "forwarded" }),
			"empty pointer":      mod(func(n *NewMessage) { n.Pointer = "" }),
			"huge pointer":       mod(func(n *NewMessage) { n.Pointer = strings.Repeat("a", maxPointerBytes+1) }),
			"invalid UTF-8 text": mod(func(n *NewMessage) { n.Text = "ok \xff" }),
			"huge text":          mod(func(n *NewMessage) { n.Text = strings.Repeat("a", maxTextBytes+1) }),
			"invalid username":   mod(func(n *NewMessage) { n.Username = "\xc3" }),
			"long nonce":         mod(func(n *NewMessage) { n.Nonce = strings.Repeat("n", 65) }),
			"long source":        mod(func(n *NewMessage) { n.Source.Channel = strings.Repeat("c", 257) }),
		}
		for name, nm := range cases {
			t.Run(name, func(t *testing.T) {
				_, _, err := s.SaveMessage(ctx, k, nm)
				wantErr(t, err, ErrInvalid)
				if strings.Contains(err.Error(), "ok \xff") {
					t.Fatal("error echoes the message text")
				}
			})
		}
		if n := rawCount(t, s, `SELECT count(*) FROM messages`); n != 0 {
			t.Fatalf("%d messages saved from bad input", n)
		}
	})
}

func TestHistoryPagesNewestFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		var all []int64
		for i := range 23 {
			all = append(all, mustSave(t, s, k, testMessage(i)))
		}
		slices.Reverse(all)
		if err := s.Trash(ctx, k, all[0]); err != nil { // the newest
			t.Fatal(err)
		}
		live := all[1:]
		cases := []struct {
			page Page
			want []int64
		}{
			{Page{Size: 10, Page: 0}, live[:10]},
			{Page{Size: 10, Page: 1}, live[10:20]},
			{Page{Size: 10, Page: 2}, live[20:]},
			{Page{Size: 10, Page: 3}, []int64{}},
			{Page{Size: 1, Page: 21}, live[21:22]},
			{Page{Size: MaxPageSize}, live},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("size%d_page%d", c.page.Size, c.page.Page), func(t *testing.T) {
				got := ids(mustHistory(t, s, k, c.page))
				if !slices.Equal(got, c.want) {
					t.Fatalf("ids = %v, want %v", got, c.want)
				}
			})
		}
		for _, p := range []Page{{Size: 0}, {Size: -1}, {Size: MaxPageSize + 1}, {Size: 10, Page: -1}, {Size: 10, Page: 1 << 40}} {
			_, err := s.History(ctx, k, p)
			wantErr(t, err, ErrInvalid)
		}
		empty := mustChat(t, s, m.ID, "Empty", "pw")
		if h := mustHistory(t, s, empty, Page{Size: 10}); len(h) != 0 {
			t.Fatalf("empty chat history = %v", h)
		}
	})
}

// Search reads a long chat in batches; across their edges it still finds
// every match, newest first, each once, skipping the trash, down to the
// oldest message.
func TestSearchFindsEveryMatchInALongChat(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		const n = 2*firstScanBatch + 3*firstScanBatch/2 + 5 // past the first batches' edges
		for i := range n {
			mustSave(t, s, k, testMessage(i)) // text "message number i", number i+1
		}
		if err := s.Trash(ctx, k, n-1); err != nil {
			t.Fatal(err)
		}
		got, err := s.Search(ctx, k, "MESSAGE NUMBER", MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for num := int64(n); num >= 1 && len(want) < MaxPageSize; num-- {
			if num != n-1 {
				want = append(want, num)
			}
		}
		if !slices.Equal(ids(got), want) {
			t.Fatalf("search found %v, want %v", ids(got), want)
		}
		oldest, err := s.Search(ctx, k, "message number 0", 5)
		if err != nil || len(oldest) != 1 || oldest[0].ID != 1 {
			t.Fatalf("search for the oldest message = %v, %v; want #1 alone", ids(oldest), err)
		}
	})
}

func TestSearchFindsTextIgnoringCase(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		texts := []string{
			"Meeting at NOON",           // 1
			"lunch?",                    // 2
			"the meeting moved",         // 3
			"ÄPFEL und Birnen",          // 4
			"nothing here",              // 5
			"meeting notes (trashed)",   // 6
			"Ω omega",                   // 7
			"\u212a is the Kelvin sign", // 8
			"username only match",       // 9
			"emoji 🎉 party",             // 10
		}
		for i, text := range texts {
			nm := testMessage(i)
			nm.Text = text
			nm.Username = "searchable-user"
			mustSave(t, s, k, nm)
		}
		if err := s.Trash(ctx, k, 6); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			query string
			limit int
			want  []int64
		}{
			{"meeting", 10, []int64{3, 1}},
			{"MEETING", 10, []int64{3, 1}},
			{"meeting", 1, []int64{3}},
			{"äpfel", 10, []int64{4}},
			{"Äpfel UND", 10, []int64{4}},
			{"ω", 10, []int64{7}},
			{"k is", 10, []int64{8}},
			{"🎉", 10, []int64{10}},
			{"searchable-user", 10, nil}, // the username is not searched
			{"absent", 10, nil},
			{"?", 10, []int64{2}},
			{"%", 10, nil}, // no SQL LIKE semantics
		}
		for _, c := range cases {
			t.Run(c.query, func(t *testing.T) {
				got, err := s.Search(ctx, k, c.query, c.limit)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids(got), c.want) && !(len(got) == 0 && len(c.want) == 0) {
					t.Fatalf("ids = %v, want %v", ids(got), c.want)
				}
				for _, msg := range got {
					if msg.Text != texts[msg.ID-1] || msg.Username != "searchable-user" {
						t.Fatalf("result %d = %+v", msg.ID, msg)
					}
				}
			})
		}
		for _, bad := range []struct {
			q     string
			limit int
		}{{"", 10}, {"   ", 10}, {"\xff", 10}, {strings.Repeat("q", 257), 10}, {"x", 0}, {"x", MaxPageSize + 1}} {
			_, err := s.Search(ctx, k, bad.q, bad.limit)
			wantErr(t, err, ErrInvalid)
		}
	})
}

func TestTrashRestorePurge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		clock := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return clock }
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		other := mustChat(t, s, m.ID, "Other", "pw")
		a := mustSave(t, s, k, testMessage(1))
		b := mustSave(t, s, k, testMessage(2))
		foreign := mustSave(t, s, other, testMessage(3))

		if err := s.Trash(ctx, k, a); err != nil {
			t.Fatalf("Trash: %v", err)
		}
		clock = clock.Add(time.Hour)
		if err := s.Trash(ctx, k, a); err != nil { // again: keeps the first time
			t.Fatalf("second Trash: %v", err)
		}
		if got := ids(mustHistory(t, s, k, Page{Size: 10})); !slices.Equal(got, []int64{b}) {
			t.Fatalf("history with a trashed = %v", got)
		}
		trash, err := s.ListTrash(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if len(trash) != 1 || trash[0].ID != a || trash[0].DeletedAt == nil ||
			!trash[0].DeletedAt.Equal(clock.Add(-time.Hour)) || trash[0].NewMessage != testMessage(1) {
			t.Fatalf("trash = %+v", trash)
		}
		if res, _ := s.Search(ctx, k, "message number 1", 10); len(res) != 0 {
			t.Fatal("search finds a trashed message")
		}

		if err := s.Restore(ctx, k, a); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		if got := ids(mustHistory(t, s, k, Page{Size: 10})); !slices.Equal(got, []int64{b, a}) {
			t.Fatalf("history after restore = %v", got)
		}
		if err := s.Restore(ctx, k, a); err != nil {
			t.Fatalf("Restore of a message not in the trash: %v", err)
		}

		if err := s.Purge(ctx, k, a); err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if got := ids(mustHistory(t, s, k, Page{Size: 10})); !slices.Equal(got, []int64{b}) {
			t.Fatalf("history after purge = %v", got)
		}
		if n := rawCount(t, s, `SELECT count(*) FROM messages WHERE id = ?`, a); n != 0 {
			t.Fatal("purged row still in the table")
		}
		// A new message never reuses a purged id.
		if c := mustSave(t, s, k, testMessage(4)); c <= foreign {
			t.Fatalf("new message got id %d, not above every earlier id", c)
		}

		for name, op := range map[string]func(int64) error{
			"Trash":   func(id int64) error { return s.Trash(ctx, k, id) },
			"Restore": func(id int64) error { return s.Restore(ctx, k, id) },
			"Purge":   func(id int64) error { return s.Purge(ctx, k, id) },
		} {
			t.Run(name, func(t *testing.T) {
				wantErr(t, op(a), ErrNotFound)       // purged
				wantErr(t, op(9999), ErrNotFound)    // never existed
				wantErr(t, op(foreign), ErrNotFound) // another chat's message
			})
		}
		if h := mustHistory(t, s, other, Page{Size: 10}); len(h) != 1 || h[0].DeletedAt != nil {
			t.Fatal("an operation through one chat's key changed another chat")
		}
	})
}

func TestClearChatEmptiesOnlyThatChat(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		other := mustChat(t, s, m.ID, "Other", "pw")
		for i := range 5 {
			mustSave(t, s, k, testMessage(i))
			mustSave(t, s, other, testMessage(i))
		}
		if err := s.Trash(ctx, k, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.ClearChat(ctx, k); err != nil {
			t.Fatalf("ClearChat: %v", err)
		}
		if n := rawCount(t, s, `SELECT count(*) FROM messages WHERE chat_id = ?`, k.ChatID()); n != 0 {
			t.Fatalf("%d messages left (trash included) after ClearChat", n)
		}
		if h := mustHistory(t, s, other, Page{Size: 10}); len(h) != 5 {
			t.Fatal("ClearChat touched another chat")
		}
		if _, err := s.UnlockChat(ctx, m.ID, "Work", []byte("pw")); err != nil {
			t.Fatalf("the chat itself must stay: %v", err)
		}
		mustSave(t, s, k, testMessage(1)) // and the same pointer saves anew
	})
}

func TestExportWritesDecryptedJSON(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		clock := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
		s.now = func() time.Time { return clock }
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		for i := range 3 {
			mustSave(t, s, k, testMessage(i))
		}
		noSource := testMessage(3)
		noSource.Source = Source{}
		mustSave(t, s, k, noSource)
		if err := s.Trash(ctx, k, 2); err != nil {
			t.Fatal(err)
		}

		var buf bytes.Buffer
		if _, err := s.Export(ctx, k, &buf); err != nil {
			t.Fatalf("Export: %v", err)
		}
		var doc struct {
			Chat       string    `json:"chat"`
			ExportedAt time.Time `json:"exported_at"`
			Messages   []struct {
				ID            int64     `json:"id"`
				Direction     string    `json:"direction"`
				Epoch         int64     `json:"epoch"`
				Nonce         string    `json:"nonce"`
				Username      string    `json:"username"`
				Text          string    `json:"text"`
				Authenticated bool      `json:"authenticated"`
				Pointer       string    `json:"pointer"`
				Saved         time.Time `json:"saved"`
				Source        *struct {
					Platform  string `json:"platform"`
					Channel   string `json:"channel"`
					MessageID string `json:"message_id"`
				} `json:"source"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
		}
		if doc.Chat != "Work" || !doc.ExportedAt.Equal(clock) || len(doc.Messages) != 3 {
			t.Fatalf("export header = %q %v, %d messages", doc.Chat, doc.ExportedAt, len(doc.Messages))
		}
		for j, i := range []int{0, 2, 3} { // oldest first, trash left out
			got, want := doc.Messages[j], testMessage(i)
			if i == 3 {
				want.Source = Source{}
			}
			if got.ID != int64(i+1) || got.Direction != string(want.Direction) || got.Epoch != want.Epoch ||
				got.Nonce != want.Nonce || got.Username != want.Username || got.Text != want.Text ||
				got.Authenticated != want.Authenticated || got.Pointer != want.Pointer || !got.Saved.Equal(clock) {
				t.Fatalf("exported message %d = %+v, want %+v", j, got, want)
			}
			if (got.Source == nil) != (want.Source == Source{}) {
				t.Fatalf("exported message %d source = %+v", j, got.Source)
			}
			if got.Source != nil && (got.Source.Platform != want.Source.Platform || got.Source.MessageID != want.Source.MessageID) {
				t.Fatalf("exported message %d source = %+v", j, got.Source)
			}
		}

		empty := mustChat(t, s, m.ID, "Empty", "pw")
		buf.Reset()
		if _, err := s.Export(ctx, empty, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `"messages": []`) {
			t.Fatalf("empty export = %s", buf.String())
		}
	})
}

// snapshotMessages copies the messages table aside and restores it when
// the test ends, so a test can damage rows freely.
func snapshotMessages(t *testing.T, s *Store) {
	t.Helper()
	rawExec(t, s, `DROP TABLE IF EXISTS messages_snapshot`)
	rawExec(t, s, `CREATE TABLE messages_snapshot AS SELECT * FROM messages`)
	t.Cleanup(func() {
		rawExec(t, s, `DELETE FROM messages`)
		rawExec(t, s, `INSERT INTO messages SELECT * FROM messages_snapshot`)
	})
}

func TestADamagedMessageIsReportedAndTheRestStillShow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		for i := range 3 {
			mustSave(t, s, k, testMessage(i)) // numbers 1, 2, 3
		}
		row2 := `WHERE chat_id = ` + fmt.Sprint(k.ChatID()) + ` AND num = 2`
		edits := []struct {
			name    string
			edit    func()
			damaged []int64
		}{
			{"ciphertext bit", func() { flipSealedByte(t, s, k, 2, 40) }, []int64{2}},
			{"nonce bit", func() { flipSealedByte(t, s, k, 2, 3) }, []int64{2}},
			{"truncated", func() { rawExec(t, s, `UPDATE messages SET sealed = ? `+row2, []byte{1, 2}) }, []int64{2}},
			{"authenticated flag", func() { rawExec(t, s, `UPDATE messages SET authenticated = NOT authenticated `+row2) }, []int64{2}},
			{"direction", func() { rawExec(t, s, `UPDATE messages SET direction = 'received' `+row2) }, []int64{2}},
			{"epoch", func() { rawExec(t, s, `UPDATE messages SET epoch = epoch + 1 `+row2) }, []int64{2}},
			{"pointer hash", func() { rawExec(t, s, `UPDATE messages SET pointer_hash = ? `+row2, bytes.Repeat([]byte{7}, 32)) }, []int64{2}},
			{"source platform edited in clear", func() { rawExec(t, s, `UPDATE messages SET src_platform = 'discord' `+row2) }, []int64{2}},
			{"source channel edited in clear", func() { rawExec(t, s, `UPDATE messages SET src_channel = '-100999' `+row2) }, []int64{2}},
			{"source message id edited in clear", func() { rawExec(t, s, `UPDATE messages SET src_message_id = '4242' `+row2) }, []int64{2}},
			{"source cleared", func() {
				rawExec(t, s, `UPDATE messages SET src_platform = '', src_channel = '', src_message_id = '' `+row2)
			}, []int64{2}},
			{"source moved between fields", func() {
				// Same bytes overall: only the field boundaries move.
				rawExec(t, s, `UPDATE messages SET src_platform = src_platform || src_channel, src_channel = '' `+row2)
			}, []int64{2}},
			{"seal version downgraded", func() { rawExec(t, s, `UPDATE messages SET ad_version = 2 `+row2) }, []int64{2}},
			{"seal version unknown", func() { rawExec(t, s, `UPDATE messages SET ad_version = 99 `+row2) }, []int64{2}},
			{"ciphertexts swapped between two rows", func() {
				rawExec(t, s, `UPDATE messages SET sealed = CASE num
				WHEN 2 THEN (SELECT sealed FROM messages_snapshot WHERE chat_id = ?1 AND num = 3)
				ELSE (SELECT sealed FROM messages_snapshot WHERE chat_id = ?1 AND num = 2) END
				WHERE chat_id = ?1 AND num IN (2, 3)`, k.ChatID())
			}, []int64{2, 3}},
			{"numbers swapped between two rows", func() {
				// Everything of rows 2 and 3 trades places but the number: the
				// history would show them in each other's place.
				for _, step := range [][2]int{{2, -1}, {3, 2}, {-1, 3}} {
					rawExec(t, s, `UPDATE messages SET num = ? WHERE chat_id = ? AND num = ?`, step[1], k.ChatID(), step[0])
				}
			}, []int64{2, 3}},
		}
		for _, e := range edits {
			t.Run(e.name, func(t *testing.T) {
				snapshotMessages(t, s)
				e.edit()

				h := mustHistory(t, s, k, Page{Size: 10})
				if got := ids(h); !slices.Equal(slices.Sorted(slices.Values(got)), []int64{1, 2, 3}) {
					t.Fatalf("history numbers = %v, want every message listed", got)
				}
				var damaged []int64
				for _, msg := range h {
					if msg.Damaged {
						damaged = append(damaged, msg.ID)
						if msg.NewMessage != (NewMessage{}) {
							t.Errorf("damaged message %d shows content: %+v", msg.ID, msg.NewMessage)
						}
						continue
					}
					if msg.NewMessage != testMessage(int(msg.ID-1)) {
						t.Errorf("message %d = %+v, want %+v", msg.ID, msg.NewMessage, testMessage(int(msg.ID-1)))
					}
				}
				slices.Sort(damaged)
				if !slices.Equal(damaged, e.damaged) {
					t.Fatalf("history marks %v damaged, want %v", damaged, e.damaged)
				}

				found, err := s.Search(ctx, k, "message number", 10)
				if err != nil {
					t.Fatalf("Search: %v", err)
				}
				var matched, unsearched []int64
				for _, msg := range found {
					if msg.Damaged {
						unsearched = append(unsearched, msg.ID)
					} else {
						matched = append(matched, msg.ID)
					}
				}
				slices.Sort(unsearched)
				if len(matched)+len(unsearched) != 3 || !slices.Equal(unsearched, e.damaged) {
					t.Fatalf("search found %v and reported %v damaged, want %v damaged", matched, unsearched, e.damaged)
				}

				var buf bytes.Buffer
				left, err := s.Export(ctx, k, &buf)
				if err != nil {
					t.Fatalf("Export: %v", err)
				}
				var doc struct {
					Messages []struct {
						ID   int64  `json:"id"`
						Text string `json:"text"`
					} `json:"messages"`
					Damaged []int64 `json:"damaged"`
				}
				if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(left, e.damaged) || !slices.Equal(doc.Damaged, e.damaged) || len(doc.Messages) != 3-len(e.damaged) {
					t.Fatalf("export: returned %v, listed %v damaged, %d messages; want %v damaged", left, doc.Damaged, len(doc.Messages), e.damaged)
				}
				for _, em := range doc.Messages {
					if em.Text != testMessage(int(em.ID-1)).Text {
						t.Fatalf("exported message %d has text %q", em.ID, em.Text)
					}
				}
			})
		}
		// The way out: purge the damaged message.
		flipSealedByte(t, s, k, 2, 40)
		if err := s.Purge(ctx, k, 2); err != nil {
			t.Fatal(err)
		}
		if h := mustHistory(t, s, k, Page{Size: 10}); !slices.Equal(ids(h), []int64{3, 1}) || h[0].Damaged || h[1].Damaged {
			t.Fatalf("after purging the damaged message: %+v", h)
		}
	})
}

func TestAMembersNumbersDoNotMoveWhenOthersSave(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		alice := mustMember(t, s, "1", "alice")
		bob := mustMember(t, s, "2", "bob")
		aw := mustChat(t, s, alice.ID, "Work", "shared")
		bw := mustChat(t, s, bob.ID, "Work", "shared")
		ah := mustChat(t, s, alice.ID, "Home", "other")
		// Alice and Bob watch the same channel; Alice's other chat is busy too.
		var got []int64
		for i := range 4 {
			got = append(got, mustSave(t, s, aw, testMessage(i)))
			mustSave(t, s, bw, testMessage(i))
			mustSave(t, s, bw, testMessage(100+i)) // only Bob holds these
			mustSave(t, s, ah, testMessage(i))
		}
		if !slices.Equal(got, []int64{1, 2, 3, 4}) {
			t.Fatalf("alice's numbers in Work = %v, want 1, 2, 3, 4", got)
		}
		if h := ids(mustHistory(t, s, aw, Page{Size: 10})); !slices.Equal(h, []int64{4, 3, 2, 1}) {
			t.Fatalf("alice's Work history = %v", h)
		}
		if h := ids(mustHistory(t, s, bw, Page{Size: 10})); !slices.Equal(h, []int64{8, 7, 6, 5, 4, 3, 2, 1}) {
			t.Fatalf("bob's Work history = %v", h)
		}
		// Numbers address the member's own message.
		if err := s.Trash(ctx, bw, 2); err != nil {
			t.Fatal(err)
		}
		if trash, err := s.ListTrash(ctx, bw); err != nil || len(trash) != 1 || trash[0].NewMessage != testMessage(100) {
			t.Fatalf("bob trashed his #2 and the trash holds %+v (%v)", trash, err)
		}
		if h := mustHistory(t, s, aw, Page{Size: 10}); len(h) != 4 || h[2].ID != 2 || h[2].DeletedAt != nil {
			t.Fatal("bob's trash touched alice's #2")
		}
	})
}

func TestMessageNumbersAreNeverReusedInAChat(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	m := mustMember(t, s, "1", "alice")
	k := mustChat(t, s, m.ID, "Work", "pw")
	last := int64(0)
	next := func(i int) int64 {
		t.Helper()
		num := mustSave(t, s, k, testMessage(i))
		if num <= last {
			t.Fatalf("new message got number %d, not above the %d used before", num, last)
		}
		last = num
		return num
	}
	next(1)
	next(2)
	top := next(3)
	deletions := []struct {
		name string
		del  func() error
	}{
		{"purge the newest", func() error { return s.Purge(ctx, k, top) }},
		{"clear the chat", func() error { return s.ClearChat(ctx, k) }},
		{"rekey", func() error {
			var err error
			k, _, err = s.Rekey(ctx, k, []byte("pw2"))
			return err
		}},
		{"reopen", func() error {
			if err := s.Purge(ctx, k, top); err != nil {
				return err
			}
			if err := s.Close(); err != nil {
				return err
			}
			var err error
			s, err = Open(ctx, path, cheapOptions())
			if err != nil {
				return err
			}
			t.Cleanup(func() { s.Close() })
			k, err = s.UnlockChat(ctx, m.ID, "Work", []byte("pw2"))
			return err
		}},
	}
	for i, d := range deletions {
		if err := d.del(); err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		top = next(10 + i)
	}
	// A chat deleted and made again is a new chat: a key of the old one
	// cannot address it, and its numbers start again at 1.
	if err := s.DeleteChat(ctx, m.ID, "Work"); err != nil {
		t.Fatal(err)
	}
	old := k
	k = mustChat(t, s, m.ID, "Work", "pw")
	if num := mustSave(t, s, k, testMessage(1)); num != 1 {
		t.Fatalf("first message of a new chat is number %d", num)
	}
	wantErr(t, s.Purge(ctx, old, 1), ErrNotFound)
}

func TestTwoStoresOnOneDatabaseNumberAChatWithoutGapsOrRepeats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		both := be.openShared(t, 2)
		s1, s2 := both[0], both[1]
		m := mustMember(t, s1, "1", "alice")
		k1 := mustChat(t, s1, m.ID, "Work", "pw")
		k2, err := s2.UnlockChat(ctx, m.ID, "Work", []byte("pw"))
		if err != nil {
			t.Fatal(err)
		}
		// Each store's guess of the next number goes stale whenever the other
		// saves: both must still hand out 1, 2, 3… and seal under that number.
		var got []int64
		for i := range 8 {
			s, k := s1, k1
			if i%3 == 1 {
				s, k = s2, k2
			}
			got = append(got, mustSave(t, s, k, testMessage(i)))
		}
		if !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6, 7, 8}) {
			t.Fatalf("numbers = %v", got)
		}
		for _, msg := range mustHistory(t, s1, k1, Page{Size: 10}) {
			if msg.Damaged || msg.NewMessage != testMessage(int(msg.ID-1)) {
				t.Fatalf("message %d = %+v", msg.ID, msg)
			}
		}
		// A number the other store gave and purged is free, but seen: never
		// handed out again.
		if n := mustSave(t, s1, k1, testMessage(8)); n != 9 {
			t.Fatalf("number = %d, want 9", n)
		}
		if n := mustSave(t, s2, k2, testMessage(9)); n != 10 {
			t.Fatalf("number = %d, want 10", n)
		}
		if err := s2.Purge(ctx, k2, 10); err != nil {
			t.Fatal(err)
		}
		if n := mustSave(t, s1, k1, testMessage(10)); n != 11 {
			t.Fatalf("after #10 was purged, the next message is #%d, want #11", n)
		}
	})
}

// Bridge processes sharing one database save into one chat at the same
// time (a member's messages seen on two shards): every message gets its
// own number, 1 to N with no gap or repeat, and every one opens.
func TestStoresSavingAtOnceIntoOneChatNumberItWithoutGapsOrRepeats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		stores := be.openShared(t, 3)
		m := mustMember(t, stores[0], "1", "alice")
		mustChat(t, stores[0], m.ID, "Work", "pw")
		keys := make([]*ChatKey, len(stores))
		for i, s := range stores {
			k, err := s.UnlockChat(ctx, m.ID, "Work", []byte("pw"))
			if err != nil {
				t.Fatal(err)
			}
			keys[i] = k
		}
		const perWriter = 20
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			nums []int64
		)
		for w := range 2 * len(stores) {
			wg.Go(func() {
				s, k := stores[w%len(stores)], keys[w%len(stores)]
				for i := range perWriter {
					n, created, err := s.SaveMessage(ctx, k, testMessage(w*perWriter+i))
					if err != nil || !created {
						t.Errorf("writer %d: SaveMessage = %d, %v, %v", w, n, created, err)
						return
					}
					mu.Lock()
					nums = append(nums, n)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		slices.Sort(nums)
		total := int64(2 * len(stores) * perWriter)
		for i, n := range nums {
			if n != int64(i)+1 {
				t.Fatalf("numbers handed out = %v, want 1..%d each once", nums, total)
			}
		}
		h := mustHistory(t, stores[1], keys[1], Page{Size: MaxPageSize})
		if int64(len(h)) != total {
			t.Fatalf("history holds %d messages, want %d", len(h), total)
		}
		for _, msg := range h {
			if msg.Damaged {
				t.Fatalf("message %d does not open", msg.ID)
			}
		}
	})
}
