//go:build ignore

// make_v1_fixture writes storage/testdata/v1.db: a store at schema
// version 1 (before per-chat message numbers, messages sealed with the
// "ad2" associated data), made by the storage package of commit 75379d2.
// It only works run from that commit, which is the point: the fixture is
// what that version wrote. TestVersion1StoreOpensAndReads reads it.
//
//	git checkout 75379d2 -- storage && go run storage/testdata/make_v1_fixture.go
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/clmbridge/clmbridge/storage"
)

func main() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "v1fixture")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := storage.Open(ctx, filepath.Join(dir, "bridge.db"), storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	if err != nil {
		log.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	alice, err := s.EnsureMember(ctx, storage.MemberRef{Platform: "telegram", UserID: "1001"}, "alice")
	must(err)
	bob, err := s.EnsureMember(ctx, storage.MemberRef{Platform: "telegram", UserID: "1002"}, "bob")
	must(err)
	aw, err := s.CreateChat(ctx, alice.ID, "Work", []byte("fixture work secret"))
	must(err)
	ah, err := s.CreateChat(ctx, alice.ID, "Home", []byte("fixture home secret"))
	must(err)
	bw, err := s.CreateChat(ctx, bob.ID, "Work", []byte("fixture work secret"))
	must(err)
	save := func(k *storage.ChatKey, who string, i int) int64 {
		id, _, err := s.SaveMessage(ctx, k, storage.NewMessage{
			Direction: storage.Received, Epoch: 1_700_000_000 + int64(i),
			Nonce:         fmt.Sprintf("nonce-%s-%s-%d", who, k.Name(), i),
			Pointer:       fmt.Sprintf(`{"e": %d, "n": "nonce-%s-%s-%d", "d": "x"}`, 1_700_000_000+i, who, k.Name(), i),
			Authenticated: true, Username: "carol",
			Text:   fmt.Sprintf("%s %s %d", who, k.Name(), i),
			Source: storage.Source{Platform: "telegram", Channel: "-100555", MessageID: fmt.Sprint(i)},
		})
		must(err)
		return id
	}
	// Interleaved, as a shared channel fills several stores at once:
	// global ids 1..12.
	save(aw, "alice", 1)
	save(bw, "bob", 1)
	save(ah, "alice", 1)
	trashed := save(aw, "alice", 2)
	save(bw, "bob", 2)
	save(aw, "alice", 3)
	save(bw, "bob", 3)
	save(ah, "alice", 2)
	purged := save(aw, "alice", 4)
	save(aw, "alice", 5)
	save(bw, "bob", 4)
	save(aw, "alice", 6)
	must(s.Trash(ctx, aw, trashed))
	must(s.Purge(ctx, aw, purged))
	out, err := filepath.Abs("storage/testdata/v1.db")
	must(err)
	_ = os.Remove(out)
	must(s.Backup(ctx, out))
	must(s.Close())
}
