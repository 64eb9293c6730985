package bridge

import (
	"fmt"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/clm"
)

// benchRegistry holds 10,000 unlocked sessions sharing 1,000 distinct
// secrets: 1,000 chats of 10 members each.
func benchRegistry(b *testing.B) *registry {
	b.Helper()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	r := newRegistry(time.Hour, 12*time.Hour, func() time.Time { return now })
	for chat := 0; chat < 1000; chat++ {
		secret := []byte(fmt.Sprintf("secret-of-chat-%04d-xxxxxxxx", chat))
		for m := 0; m < 10; m++ {
			who := Member{Platform: "bench", ID: fmt.Sprintf("m%d-%d", chat, m)}
			r.add(who, int64(chat*10+m), fmt.Sprintf("chat-%04d", chat), secret, nil, false, false)
		}
	}
	if s, d := r.count(); s != 10000 || d != 1000 {
		b.Fatalf("sessions %d secrets %d", s, d)
	}
	return r
}

// BenchmarkTrialOpenSessions tries one pointer against 10,000 unlocked
// sessions holding 1,000 distinct secrets (goal: ≤ 2 ms per pointer).
func BenchmarkTrialOpenSessions(b *testing.B) {
	r := benchRegistry(b)
	msg := clm.Message{Chat: "chat-0500", Username: "alice", Text: "a typical short message of some fifty bytes"}
	cases := []struct {
		name   string
		secret string
		hits   int
	}{
		{"no-secret-opens", "a secret nobody here holds", 0},
		{"one-chat-opens", "secret-of-chat-0500-xxxxxxxx", 10},
	}
	for _, c := range cases {
		p, err := clm.NewPointer([]byte(c.secret), msg, 1764158400)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				hits := r.trialOpen(p, nil)
				if len(hits) != c.hits {
					b.Fatalf("%d hits, want %d", len(hits), c.hits)
				}
				for _, h := range hits {
					r.release(h.s)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
