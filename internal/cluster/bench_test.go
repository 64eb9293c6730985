package cluster

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/internal/pgtest"
)

// BenchmarkForwardedRequest measures the extra latency a request pays when
// it reached an instance that does not own the member: the round trip
// through PostgreSQL to the owner's handler (which does nothing) and back.
// It reports the 50th and 99th percentiles in milliseconds (goal: p99 at
// most 5 ms on loopback).
func BenchmarkForwardedRequest(b *testing.B) {
	dbURL, _ := pgtest.Schema(b)
	join := func(cfg Config) *Postgres {
		cfg.URL = dbURL
		p, err := Open(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = p.Close(context.Background()) })
		return p
	}
	a := join(Config{})
	owner := join(Config{Handle: func(context.Context, string, Message) ([]byte, error) { return []byte("ok"), nil }})
	m := Message{Kind: "receive", Body: []byte(`{"member":"telegram:12345","chat":"Work"}`)}
	ctx := context.Background()
	if _, err := a.Forward(ctx, owner.Self(), m); err != nil { // warm the key cache and connections
		b.Fatal(err)
	}
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := a.Forward(ctx, owner.Self(), m); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	at := func(q float64) float64 {
		return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkPointerFanOut measures how many published pointers per second
// reach every instance, with one and with three instances listening (the
// issue asks for the ratio). Each op is one pointer received by all.
func BenchmarkPointerFanOut(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			dbURL, _ := pgtest.Schema(b)
			got := make(chan struct{}, 1024)
			var ps []*Postgres
			for range n {
				p, err := Open(context.Background(), Config{URL: dbURL, OnPointer: func(context.Context, string, []byte) {
					got <- struct{}{}
				}})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = p.Close(context.Background()) })
				ps = append(ps, p)
			}
			ptr := []byte(`{"e":"1758500000","n":"bm9uY2Vub25jZW5vbmNl","d":"ZGF0YWRhdGFkYXRhZGF0YWRhdGFkYXRh"}`)
			ctx := context.Background()
			for b.Loop() {
				if err := ps[0].Publish(ctx, ptr); err != nil {
					b.Fatal(err)
				}
				for range n {
					select {
					case <-got:
					case <-time.After(30 * time.Second):
						b.Fatal("a published pointer did not reach every instance")
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pointers/s")
		})
	}
}
