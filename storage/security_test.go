package storage

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/jackc/pgx/v5"
)

// needle is a byte string that must never be found on disk.
type needle struct {
	what string
	b    []byte
}

// scanFiles fails the test if any needle occurs in any of the files that
// exist. It returns the total bytes scanned.
func scanFiles(t *testing.T, when string, files []string, needles []needle) int {
	t.Helper()
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		total += len(data)
		for _, n := range needles {
			if bytes.Contains(data, n.b) {
				t.Errorf("%s: %s found in %s", when, n.what, filepath.Base(f))
			}
		}
	}
	return total
}

// fillWithSecrets gives s two members with the same two chats and
// secrets, 40 messages each, a rekey, a trash, a purge and a wrong guess.
// It returns what must never be found in the database's bytes, and what
// is stored in clear (a scan that cannot see these proves nothing).
func fillWithSecrets(t *testing.T, s *Store) (needles, visible []needle) {
	t.Helper()
	ctx := context.Background()

	type chatSpec struct{ name, secret, newSecret string }
	chats := []chatSpec{
		{"VisibleChatName-Work", "Secret-Alpha-7f3k2-qq9zz", "Secret-Rekeyed-Gamma-55x"},
		{"VisibleChatName-Home", "Secret-Beta-m2n3b4v5c6", ""},
	}
	alice := mustMember(t, s, "1001", "alice")
	bob := mustMember(t, s, "1002", "bob")

	addSecret := func(chat, secret string) {
		needles = append(needles, needle{"secret " + secret, []byte(secret)})
		h := clm.ChatHash(chat, []byte(secret))
		raw, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		needles = append(needles,
			needle{"2.0.2 chat hash (hex)", []byte(h)},
			needle{"2.0.2 chat hash (HEX)", []byte(strings.ToUpper(h))},
			needle{"2.0.2 chat hash (raw)", raw})
	}
	addKey := func(k *ChatKey) {
		key := bytes.Clone(k.km.key[:])
		needles = append(needles,
			needle{"data key (raw)", key},
			needle{"data key (hex)", []byte(hex.EncodeToString(key))})
	}

	var keys []*ChatKey
	for _, member := range []Member{alice, bob} { // same names and secrets for both
		for _, c := range chats {
			k := mustChat(t, s, member.ID, c.name, c.secret)
			addSecret(c.name, c.secret)
			addKey(k)
			keys = append(keys, k)
		}
	}
	for ki, k := range keys {
		for i := range 40 {
			nm := NewMessage{
				Direction:     Received,
				Epoch:         1_700_000_000 + int64(i),
				Nonce:         fmt.Sprintf("ClmNonce%02d%02dxyz", ki, i),
				Pointer:       fmt.Sprintf(`{"e": %d, "n": "ClmNonce%02d%02dxyz", "d": "PointerData%02d%02dabcdef"}`, 1_700_000_000+i, ki, i, ki, i),
				Authenticated: true,
				Username:      fmt.Sprintf("SenderNick-%02d-%02d", ki, i),
				Text:          fmt.Sprintf("Plaintext message %02d/%02d: meet at the old mill", ki, i),
				Source:        Source{Platform: "telegram", Channel: "VisibleChannel", MessageID: fmt.Sprint(i)},
			}
			mustSave(t, s, k, nm)
			needles = append(needles,
				needle{"message text", []byte(nm.Text)},
				needle{"sender username", []byte(nm.Username)},
				needle{"CLM nonce", []byte(nm.Nonce)},
				needle{"pointer", []byte(nm.Pointer)},
				needle{"pointer data", []byte(fmt.Sprintf("PointerData%02d%02d", ki, i))})
		}
	}
	needles = append(needles, needle{"text fragment", []byte("meet at the old mill")})

	// Change a secret, trash and purge some: old and new secrets both
	// stay off the disk.
	nk, _, err := s.Rekey(ctx, keys[0], []byte(chats[0].newSecret))
	if err != nil {
		t.Fatal(err)
	}
	addSecret(chats[0].name, chats[0].newSecret)
	addKey(nk)
	if err := s.Trash(ctx, nk, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, nk, 4); err != nil {
		t.Fatal(err)
	}
	// A wrong guess leaves nothing either.
	if _, err := s.UnlockChat(ctx, alice.ID, chats[1].name, []byte("Wrong-Guess-Secret-Zeta")); err == nil {
		t.Fatal("wrong secret unlocked")
	}
	needles = append(needles, needle{"wrong guess", []byte("Wrong-Guess-Secret-Zeta")})
	visible = []needle{{"chat name", []byte("VisibleChatName-Work")}, {"channel", []byte("VisibleChannel")}}
	return needles, visible
}

func TestNothingSecretOnDisk(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	files := []string{path, path + "-wal", path + "-shm"}
	needles, visible := fillWithSecrets(t, s)

	// While open: the WAL holds the recent writes.
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("expected a non-empty WAL while open: %v", err)
	}
	// The scan must be able to see what is stored in clear, or it proves
	// nothing.
	assertVisible := func(when string, files []string) {
		t.Helper()
		var all []byte
		for _, f := range files {
			b, _ := os.ReadFile(f)
			all = append(all, b...)
		}
		for _, v := range visible {
			if !bytes.Contains(all, v.b) {
				t.Fatalf("%s: scan cannot see the %s stored in clear", when, v.what)
			}
		}
	}
	assertVisible("open", files)
	n := scanFiles(t, "while open", files, needles)
	t.Logf("scanned %d bytes while open (%d needles)", n, len(needles))

	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	assertVisible("backup", []string{backup})
	scanFiles(t, "backup", []string{backup}, needles)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	assertVisible("closed", files)
	n = scanFiles(t, "after close", files, needles)
	t.Logf("scanned %d bytes after close", n)
}

// What an operator's pg_dump of a PostgreSQL store holds is what a thief
// of the SQLite file learns: no secret, plaintext, pointer, CLM nonce,
// data key or 2.0.2 hash. pg_dump writes bytea columns as hex, so each
// needle is looked for in hex too.
func TestNothingSecretInAPgDump(t *testing.T) {
	be := backend{name: "postgres"}
	be.skipIfMissing(t)
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		t.Skip("pg_dump not found (install postgresql-client): the dump scan needs it")
	}
	dsn, schema := testSchema(t)
	s, err := OpenPostgres(context.Background(), dsn, cheapOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	needles, visible := fillWithSecrets(t, s)
	for _, n := range slices.Clone(needles) {
		needles = append(needles, needle{n.what + " (as hex)", []byte(hex.EncodeToString(n.b))})
	}

	dump := filepath.Join(t.TempDir(), "store.sql")
	// The server's address goes in the environment, never argv (it may
	// hold a password).
	cfg, err := pgx.ParseConfig(os.Getenv(testDatabaseURL))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pgDump, "--schema="+schema, "--no-owner", "--format=plain", "--file="+dump)
	cmd.Env = append(os.Environ(), "PGHOST="+cfg.Host, fmt.Sprintf("PGPORT=%d", cfg.Port),
		"PGUSER="+cfg.User, "PGPASSWORD="+cfg.Password, "PGDATABASE="+cfg.Database)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	data, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range visible {
		if !bytes.Contains(data, v.b) {
			t.Fatalf("the scan cannot see the %s stored in clear: the dump is not of the store", v.what)
		}
	}
	n := scanFiles(t, "pg_dump", []string{dump}, needles)
	t.Logf("scanned a %d-byte pg_dump (%d needles)", n, len(needles))
}

func TestMembersWithTheSameChatNameAndSecretAreIsolated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		a := mustMember(t, s, "1", "alice")
		b := mustMember(t, s, "2", "bob")
		ka := mustChat(t, s, a.ID, "Work", "shared secret")
		kb := mustChat(t, s, b.ID, "Work", "shared secret")
		if ka.ChatID() == kb.ChatID() {
			t.Fatal("two members share a chat row")
		}
		if ka.km.key == kb.km.key {
			t.Fatal("two members' chats of the same name and secret share a key")
		}
		aID := mustSave(t, s, ka, testMessage(1))
		bMsg := testMessage(2)
		bMsg.Text = "bob's own"
		bID := mustSave(t, s, kb, bMsg)
		// The same pointer saved by both is two rows.
		mustSave(t, s, kb, testMessage(1))

		if got := ids(mustHistory(t, s, kb, Page{Size: 10})); len(got) != 2 || got[1] != bID {
			t.Fatalf("bob's history = %v", got)
		}
		if got := ids(mustHistory(t, s, ka, Page{Size: 10})); len(got) != 1 || got[0] != aID {
			t.Fatalf("alice's history = %v", got)
		}
		if res, _ := s.Search(ctx, ka, "bob's own", 10); len(res) != 0 {
			t.Fatal("alice's search finds bob's message")
		}
		ca, _ := s.ListChats(ctx, a.ID)
		cb, _ := s.ListChats(ctx, b.ID)
		if len(ca) != 1 || ca[0].Messages != 1 || len(cb) != 1 || cb[0].Messages != 2 {
			t.Fatalf("ListChats: alice %+v, bob %+v", ca, cb)
		}
		// Alice's key cannot touch Bob's rows: a number names a message of
		// the key's own chat.
		wantErr(t, s.Trash(ctx, ka, 2), ErrNotFound) // bob has a #2, alice has not
		wantErr(t, s.Purge(ctx, ka, 2), ErrNotFound)
		if err := s.Trash(ctx, ka, aID); err != nil { // alice's #1, not bob's
			t.Fatal(err)
		}
		if got := mustHistory(t, s, kb, Page{Size: 10}); len(got) != 2 {
			t.Fatalf("alice's trash and purge touched bob's messages: %v", ids(got))
		}
		// Alice's secret change leaves Bob's chat as it was.
		if _, _, err := s.Rekey(ctx, ka, []byte("alice only")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UnlockChat(ctx, b.ID, "Work", []byte("shared secret")); err != nil {
			t.Fatalf("bob's chat after alice's rekey: %v", err)
		}
		// Deleting Alice's chat leaves Bob's.
		if err := s.DeleteChat(ctx, a.ID, "Work"); err != nil {
			t.Fatal(err)
		}
		if h := mustHistory(t, s, kb, Page{Size: 10}); len(h) != 2 {
			t.Fatal("deleting alice's chat touched bob's")
		}
	})
}

func TestKeyOfOneChatCannotOpenAnothersMessages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		a := mustMember(t, s, "1", "alice")
		work := mustChat(t, s, a.ID, "Work", "pw")
		home := mustChat(t, s, a.ID, "Home", "pw")
		mustSave(t, s, home, testMessage(1))
		// Work's key material presented as Home's key, as a confused session
		// cache might: the identity checks pass, the cipher does not.
		forged := &ChatKey{memberID: home.memberID, chatID: home.chatID, name: home.name, salt: home.salt, km: work.km}
		h, err := s.History(ctx, forged, Page{Size: 10})
		wantOnlyDamaged(t, h, err, 1)
		h, err = s.Search(ctx, forged, "message", 10)
		wantOnlyDamaged(t, h, err, 1)
		// A key presented for another member's chat is refused outright.
		b := mustMember(t, s, "2", "bob")
		bobs := mustChat(t, s, b.ID, "Home", "pw")
		wrongOwner := &ChatKey{memberID: a.ID, chatID: bobs.chatID, name: "Home", salt: bobs.salt, km: bobs.km}
		_, err = s.History(ctx, wrongOwner, Page{Size: 10})
		wantErr(t, err, ErrNotFound)
		_, _, err = s.SaveMessage(ctx, wrongOwner, testMessage(5))
		wantErr(t, err, ErrNotFound)
	})
}

// wantOnlyDamaged fails the test unless a listing succeeded and holds
// exactly the message numbered num, marked damaged, with no content.
func wantOnlyDamaged(t *testing.T, h []Message, err error, num int64) {
	t.Helper()
	if err != nil {
		t.Fatalf("listing with a damaged message: %v", err)
	}
	if len(h) != 1 || h[0].ID != num || !h[0].Damaged || h[0].NewMessage != (NewMessage{}) {
		t.Fatalf("listing = %+v, want only #%d, damaged and empty", h, num)
	}
}

// copyRow copies message number num of chat from into chat to, every
// column as it is, as someone editing the file might.
func copyRow(t *testing.T, s *Store, from, num, to int64) {
	t.Helper()
	rawExec(t, s, `INSERT INTO messages (chat_id, num, ad_version, pointer_hash, direction, epoch, authenticated,
		src_platform, src_channel, src_message_id, sealed, saved)
		SELECT ?, num, ad_version, pointer_hash, direction, epoch, authenticated, src_platform, src_channel, src_message_id, sealed, saved
		FROM messages WHERE chat_id = ? AND num = ?`, to, from, num)
}

func TestRowCopiedIntoAnotherChatFailsToOpen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		a := mustMember(t, s, "1", "alice")
		b := mustMember(t, s, "2", "bob")
		src := mustChat(t, s, a.ID, "Work", "shared")
		cases := map[string]*ChatKey{
			"same member, other chat":         mustChat(t, s, a.ID, "Home", "shared"),
			"other member, same name, secret": mustChat(t, s, b.ID, "Work", "shared"),
		}
		num := mustSave(t, s, src, testMessage(1))
		for name, dst := range cases {
			t.Run(name, func(t *testing.T) {
				copyRow(t, s, src.ChatID(), num, dst.ChatID())
				h, err := s.History(ctx, dst, Page{Size: 10})
				wantOnlyDamaged(t, h, err, num)
			})
		}
	})
}

// TestAssociatedDataBindsChatAndMember shows the AD alone stops a moved
// row: the target chat is given the very same key (salt, params and
// verifier copied), and the row still fails to open.
func TestAssociatedDataBindsChatAndMember(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		a := mustMember(t, s, "1", "alice")
		b := mustMember(t, s, "2", "bob")
		src := mustChat(t, s, a.ID, "Work", "pw")
		num := mustSave(t, s, src, testMessage(1))
		for _, target := range []struct {
			name   string
			member int64
		}{{"same member", a.ID}, {"other member", b.ID}} {
			t.Run(target.name, func(t *testing.T) {
				chat := "Clone " + target.name
				mustChat(t, s, target.member, chat, "other")
				rawExec(t, s, `UPDATE chats SET (kdf_salt, kdf_memory, kdf_time, kdf_threads, verifier) =
				(SELECT kdf_salt, kdf_memory, kdf_time, kdf_threads, verifier FROM chats WHERE id = ?)
				WHERE member_id = ? AND name = ?`, src.ChatID(), target.member, chat)
				dst, err := s.UnlockChat(ctx, target.member, chat, []byte("pw"))
				if err != nil {
					t.Fatal(err)
				}
				if dst.km.key != src.km.key {
					t.Fatal("setup: target chat does not share the source key")
				}
				copyRow(t, s, src.ChatID(), num, dst.ChatID())
				h, err := s.History(ctx, dst, Page{Size: 10})
				wantOnlyDamaged(t, h, err, num)
			})
		}
	})
}
