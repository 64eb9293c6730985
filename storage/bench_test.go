package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// Run: go test -run '^$' -bench . -benchmem ./storage/
// (with CLM_TEST_DATABASE_URL set, each runs on PostgreSQL too, side by
// side: BenchmarkX/sqlite and BenchmarkX/postgres).
// Goals (issue 3): SaveMessage ≥ 10,000/s; a 50-message history page from
// a 100,000-message chat ≤ 2 ms; a search over 10,000 messages ≤ 50 ms.

// benchBackends runs fn as a sub-benchmark per backend (PostgreSQL only
// when CLM_TEST_DATABASE_URL is set).
func benchBackends(b *testing.B, fn func(b *testing.B, be backend)) {
	for _, name := range backendNames {
		b.Run(name, func(b *testing.B) {
			be := backend{name: name}
			be.skipIfMissing(b)
			fn(b, be)
		})
	}
}

// fillChat adds n messages (testMessage(0..n-1)) to k's chat in one
// transaction, sealed exactly as SaveMessage seals them.
func fillChat(b *testing.B, s *Store, k *ChatKey, n int) {
	b.Helper()
	ctx := context.Background()
	a, err := k.aead()
	if err != nil {
		b.Fatal(err)
	}
	err = s.write(ctx, func(tx dbtx) error {
		st, err := tx.(conn).c.PrepareContext(ctx, s.d.bind(`INSERT INTO messages (chat_id, num, ad_version, pointer_hash, direction, epoch, authenticated,
			src_platform, src_channel, src_message_id, sealed, saved) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			return err
		}
		defer st.Close()
		now := unixNano(s.now())
		var ad, plain []byte
		for i := range n {
			m := testMessage(i)
			ph := pointerHash(m.Pointer)
			ad = appendAD(ad[:0], adFields{version: adCurrent, memberID: k.memberID, chatID: k.chatID, num: int64(i + 1), pointerHash: ph[:],
				direction: m.Direction, epoch: m.Epoch, authenticated: m.Authenticated,
				srcPlatform: []byte(m.Source.Platform), srcChannel: []byte(m.Source.Channel), srcMessageID: []byte(m.Source.MessageID)})
			plain = appendPayload(plain[:0], m.Username, m.Pointer, m.Nonce, m.Text)
			sealed, err := seal(a, plain, ad)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, k.chatID, i+1, adCurrent, ph[:], string(m.Direction), m.Epoch, m.Authenticated,
				m.Source.Platform, m.Source.Channel, m.Source.MessageID, sealed, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("filling chat: %v", err)
	}
	if s.d.name == "postgres" {
		// What autovacuum does soon after a bulk load: without statistics
		// the planner would not know the chat is big.
		if _, err := s.w.ExecContext(ctx, `ANALYZE messages`); err != nil {
			b.Fatal(err)
		}
	}
}

func benchStore(b *testing.B, be backend) (*Store, *ChatKey) {
	b.Helper()
	s := be.open(b)
	m := mustMember(b, s, "1", "alice")
	return s, mustChat(b, s, m.ID, "Bench", "pw")
}

// BenchmarkSaveMessage saves one message per op, each its own commit.
func BenchmarkSaveMessage(b *testing.B) {
	benchBackends(b, func(b *testing.B, be backend) {
		s, k := benchStore(b, be)
		ctx := context.Background()
		msgs := make([]NewMessage, b.N)
		for i := range msgs {
			msgs[i] = testMessage(i)
		}
		b.ReportAllocs()
		cpu0 := cpuTime(b)
		b.ResetTimer()
		for i := range b.N {
			if _, _, err := s.SaveMessage(ctx, k, msgs[i]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "saves/s")
		reportCPU(b, cpu0)
	})
}

// reportCPU reports the CPU time (user+system, all threads) per op since
// cpu0: what an op costs the machine, less sensitive than wall time to
// other load on a shared host.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkHistoryPage reads 50 messages from a chat of 100,000: the
// newest page, and one 50,000 messages deep.
func BenchmarkHistoryPage(b *testing.B) {
	benchBackends(b, func(b *testing.B, be backend) {
		s, k := benchStore(b, be)
		fillChat(b, s, k, 100_000) // once: sub-benchmarks reuse it
		ctx := context.Background()
		for _, page := range []int{0, 1000} {
			b.Run(fmt.Sprintf("50of100000/page%d", page), func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime(b)
				for b.Loop() {
					h, err := s.History(ctx, k, Page{Size: 50, Page: page})
					if err != nil || len(h) != 50 {
						b.Fatalf("History: %d, %v", len(h), err)
					}
				}
				reportCPU(b, cpu0)
			})
		}
	})
}

// BenchmarkSearch decrypts and scans a chat of 10,000 messages: a query
// that matches nothing (the whole chat is read) and one that fills the
// limit early.
func BenchmarkSearch(b *testing.B) {
	benchBackends(b, func(b *testing.B, be backend) {
		s, k := benchStore(b, be)
		fillChat(b, s, k, 10_000)
		ctx := context.Background()
		for _, c := range []struct {
			name, query string
			want        int
		}{{"10000/nomatch", "no such words", 0}, {"10000/match", "Message Number 9", 20}} {
			b.Run(c.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime(b)
				for b.Loop() {
					res, err := s.Search(ctx, k, c.query, 20)
					if err != nil || len(res) != c.want {
						b.Fatalf("Search: %d results, %v", len(res), err)
					}
				}
				reportCPU(b, cpu0)
			})
		}
	})
}

// BenchmarkUnlock is one UnlockChat at the production Argon2id cost
// (DefaultArgon2Params), i.e. the KDF plus two small queries.
func BenchmarkUnlock(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m := mustMember(b, s, "1", "alice")
	mustChat(b, s, m.ID, "Work", "correct horse battery staple")
	p := DefaultArgon2Params()
	b.Logf("Argon2id cost: %v", p)
	b.ReportMetric(float64(p.MemoryKiB)/1024, "MiB/unlock")
	b.ReportAllocs()
	for b.Loop() {
		k, err := s.UnlockChat(ctx, m.ID, "Work", []byte("correct horse battery staple"))
		if err != nil {
			b.Fatal(err)
		}
		k.Wipe()
	}
}
