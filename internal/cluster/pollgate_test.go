package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/internal/pgtest"
	"github.com/clmbridge/clmbridge/platform"
)

// acquired is what one Acquire returned.
type acquired struct {
	lost    <-chan struct{}
	release func()
	err     error
}

// acquireAsync starts g.Acquire(ctx) and returns where its result lands.
func acquireAsync(ctx context.Context, g platform.PollGate) <-chan acquired {
	out := make(chan acquired, 1)
	go func() {
		lost, release, err := g.Acquire(ctx)
		out <- acquired{lost, release, err}
	}()
	return out
}

// await waits (at most 20 s) for ch.
func await[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("gave up waiting: %s", what)
		panic("unreachable")
	}
}

// mustNotAcquire checks that g cannot be acquired for a few heartbeats,
// while another instance holds it.
func mustNotAcquire(t *testing.T, g platform.PollGate) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*testHeartbeat)
	defer cancel()
	_, release, err := g.Acquire(ctx)
	if err == nil {
		release()
		t.Fatal("a second instance acquired a gate another one holds")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire = %v, want it to wait until its context ends", err)
	}
}

func TestPollGateLetsOneInstanceHoldIt(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a, b := join(t, dbURL, Config{}), join(t, dbURL, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ga, gb := a.PollGate("telegram"), b.PollGate("telegram")

	first := await(t, "a's gate", acquireAsync(ctx, ga))
	if first.err != nil {
		t.Fatal(first.err)
	}
	mustNotAcquire(t, gb)

	// Releasing lets b take it.
	bGot := acquireAsync(ctx, gb)
	first.release()
	second := await(t, "b's gate after a released it", bGot)
	if second.err != nil {
		t.Fatal(second.err)
	}
	mustNotAcquire(t, ga)

	// Killing b's gate connection (as a crash or a network cut would end
	// it) tells b it lost the gate, and a takes it.
	aGot := acquireAsync(ctx, ga)
	if n := sql(t, dbURL, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
		gb.(*pollGate).appName()); n != 1 {
		t.Fatalf("terminated %d gate connections of b, want 1", n)
	}
	await(t, "b to see it lost the gate", second.lost)
	second.release()
	third := await(t, "a's gate after b's connection died", aGot)
	if third.err != nil {
		t.Fatal(third.err)
	}
	third.release()
}

func TestPollGateIsLostWhenTheInstanceLeaves(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a, b := join(t, dbURL, Config{}), join(t, dbURL, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	held := await(t, "a's gate", acquireAsync(ctx, a.PollGate("telegram")))
	if held.err != nil {
		t.Fatal(held.err)
	}
	bGot := acquireAsync(ctx, b.PollGate("telegram"))
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	await(t, "a to see it lost the gate", held.lost)
	held.release()
	if got := await(t, "b's gate after a left", bGot); got.err != nil {
		t.Fatal(got.err)
	} else {
		got.release()
	}
	// A closed instance acquires nothing.
	if _, _, err := a.PollGate("telegram").Acquire(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Acquire on a closed instance = %v, want ErrStopped", err)
	}
}

func TestPollGatesOfOtherClustersAndNamesAreApart(t *testing.T) {
	url1, _ := pgtest.Schema(t)
	url2, _ := pgtest.Schema(t)
	a, b := join(t, url1, Config{}), join(t, url2, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, g := range []platform.PollGate{a.PollGate("telegram"), b.PollGate("telegram"), a.PollGate("other")} {
		got := await(t, "a gate no one else holds", acquireAsync(ctx, g))
		if got.err != nil {
			t.Fatal(got.err)
		}
		defer got.release()
	}
}
