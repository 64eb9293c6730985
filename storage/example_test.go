package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clmbridge/clmbridge/storage"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "storage-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	// Tests and examples use a cheap Argon2id cost; production passes the
	// zero Options.
	s, err := storage.Open(ctx, filepath.Join(dir, "bridge.db"), storage.Options{
		Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1},
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	m, _ := s.EnsureMember(ctx, storage.MemberRef{Platform: "telegram", UserID: "42"}, "alice")
	key, _ := s.CreateChat(ctx, m.ID, "Work", []byte("correct horse battery staple"))
	defer key.Wipe()

	_, created, _ := s.SaveMessage(ctx, key, storage.NewMessage{
		Direction: storage.Sent, Epoch: 1700000000, Nonce: "abc",
		Pointer: `{"e": 1700000000, "n": "abc", "d": "00"}`, Username: "alice", Text: "Lunch at noon?",
	})
	fmt.Println("created:", created)

	found, _ := s.Search(ctx, key, "LUNCH", 10)
	fmt.Println("found:", found[0].Text)

	_, err = s.UnlockChat(ctx, m.ID, "Work", []byte("wrong"))
	fmt.Println("wrong secret:", errors.Is(err, storage.ErrWrongSecret))
	fmt.Println(key)
	// Output:
	// created: true
	// found: Lunch at noon?
	// wrong secret: true
	// storage.ChatKey{chat:1 member:1 key:REDACTED}
}
