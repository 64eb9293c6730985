package relay

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/cluster"
	"github.com/clmbridge/clmbridge/internal/pgtest"
	"github.com/clmbridge/clmbridge/storage"
)

// pgInstance is one instance on real PostgreSQL: its own store, bridge,
// router and cluster membership.
type pgInstance struct {
	id        string
	bridge    *bridge.Bridge
	router    *Router
	cl        *cluster.Postgres
	published chan struct{} // one per published post handled
}

// pgWorld starts n instances on a fresh schema.
func pgWorld(tb testing.TB, a *answers, n int) []*pgInstance {
	tb.Helper()
	dbURL, _ := pgtest.Schema(tb)
	ctx := context.Background()
	var out []*pgInstance
	for i := range n {
		st, err := storage.OpenPostgres(ctx, dbURL, storage.Options{Argon2: cheapArgon2})
		if err != nil {
			tb.Fatal(err)
		}
		in := &pgInstance{published: make(chan struct{}, 64)}
		var r *Router
		b := bridge.New(st, bridge.Options{RatePerMinute: -1, SweepEvery: -1,
			Publish: func(ctx context.Context, p bridge.Published) error { return r.Publish(ctx, p) }}, nil)
		r = New(b, Options{RetryWait: 3 * time.Second, Logger: slog.New(slog.DiscardHandler)})
		cl, err := cluster.Open(ctx, cluster.Config{URL: dbURL, Heartbeat: 200 * time.Millisecond, TTL: time.Second,
			Handle: r.HandleForwarded,
			OnPointer: func(ctx context.Context, from string, body []byte) {
				r.HandlePublished(ctx, from, body)
				in.published <- struct{}{}
			}})
		if err != nil {
			tb.Fatal(err)
		}
		r.SetCluster(cl)
		name := fmt.Sprintf("I%d", i)
		r.SetRelay("test", &fakeRelay{a: a, instance: name})
		r.RegisterNotifier("test", &fakeNotifier{a: a, instance: name})
		in.id, in.bridge, in.router, in.cl = name, b, r, cl
		tb.Cleanup(func() {
			_ = cl.Close(context.Background())
			_ = b.Close()
			_ = st.Close()
		})
		out = append(out, in)
	}
	return out
}

// memberOwnedBy returns a member name whose owner is want (bounded: each
// new member goes to want with probability 1/n).
func memberOwnedBy(tb testing.TB, cl cluster.Cluster, want, prefix string) string {
	tb.Helper()
	for i := range 64 {
		name := fmt.Sprintf("%s%d", prefix, i)
		owner, err := cl.Owner(context.Background(), key(member(name)))
		if err != nil {
			tb.Fatal(err)
		}
		if owner == want {
			return name
		}
	}
	tb.Fatal("no member landed on the wanted instance in 64 tries")
	return ""
}

// runAt has who's request reach in, failing the test on an error.
func runAt(tb testing.TB, a *answers, in *pgInstance, who string, req bridge.Request) {
	tb.Helper()
	req.Member, req.Reply, req.Caps = member(who), &fakeReply{a: a, instance: in.id, member: who}, caps
	if err := in.router.Handle(context.Background(), req); err != nil {
		tb.Fatalf("Handle at %s: %v", in.id, err)
	}
}

func TestPostgresForwardedUnlockAndReceive(t *testing.T) {
	a := newAnswers()
	ins := pgWorld(t, a, 2)
	one, two := ins[0], ins[1]
	alice := memberOwnedBy(t, one.cl, two.cl.Self(), "alice")
	bob := memberOwnedBy(t, one.cl, one.cl.Self(), "bob")

	runAt(t, a, one, bob, bridge.Request{Place: dm, Command: "new", Args: "Work " + secret})
	runAt(t, a, one, alice, bridge.Request{Place: dm, Command: "unlock", Args: "Work " + secret})
	got := a.to(alice, "")
	if len(got) != 1 || got[0].instance != "I1" || !strings.Contains(got[0].text, "unlocked") {
		t.Fatalf("alice's unlock at I0 was answered %+v, want once by I1", got)
	}
	if s := two.bridge.UnlockedChats(member(alice)); !slices.Equal(s, []string{"Work"}) {
		t.Errorf("I1 holds %v for alice, want [Work]", s)
	}
	if s := one.bridge.UnlockedChats(member(alice)); len(s) != 0 {
		t.Errorf("I0 holds a session of alice: %v", s)
	}

	runAt(t, a, one, bob, bridge.Request{Place: dm, Command: "send", Args: "Work across instances"})
	ptr := a.to(bob, "private")
	pointer := ptr[len(ptr)-1].text
	runAt(t, a, one, bob, bridge.Request{Place: general, Post: pointer})
	for _, in := range ins { // both instances took the publish in
		select {
		case <-in.published:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not receive the published post", in.id)
		}
	}
	pub := a.to(bob, "public")
	text := pub[len(pub)-1].text
	ref := strings.TrimSuffix(text[strings.LastIndex(text, "[")+1:], "]")

	runAt(t, a, one, alice, bridge.Request{Place: general, Command: "receive", ReceiveRef: ref})
	opened := a.holding(alice, "across instances")
	if len(opened) != 1 || opened[0].instance != "I1" {
		t.Errorf("alice got the message %+v, want once from I1", opened)
	}
}

// BenchmarkForwardedHandle measures what a request pays when it reaches
// an instance that does not own its member, against one handled where it
// arrives: both run the same cheap command (chats, in a DM) through the
// Router on real PostgreSQL. It reports p50 and p99 of each, and the extra
// latency of the forwarded one, in milliseconds.
func BenchmarkForwardedHandle(b *testing.B) {
	a := newAnswers()
	ins := pgWorld(b, a, 2)
	one, two := ins[0], ins[1]
	local := memberOwnedBy(b, one.cl, one.cl.Self(), "local")
	remote := memberOwnedBy(b, one.cl, two.cl.Self(), "remote")
	req := bridge.Request{Place: dm, Command: "chats"}
	runAt(b, a, one, local, req) // warm up: members, keys, connections
	runAt(b, a, one, remote, req)
	var tookLocal, tookFwd []time.Duration
	for b.Loop() {
		start := time.Now()
		runAt(b, a, one, local, req)
		tookLocal = append(tookLocal, time.Since(start))
		start = time.Now()
		runAt(b, a, one, remote, req)
		tookFwd = append(tookFwd, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(tookLocal)
	slices.Sort(tookFwd)
	at := func(d []time.Duration, q float64) float64 {
		return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(tookLocal, 0.50), "local-p50-ms")
	b.ReportMetric(at(tookLocal, 0.99), "local-p99-ms")
	b.ReportMetric(at(tookFwd, 0.50), "fwd-p50-ms")
	b.ReportMetric(at(tookFwd, 0.99), "fwd-p99-ms")
	b.ReportMetric(at(tookFwd, 0.50)-at(tookLocal, 0.50), "extra-p50-ms")
	b.ReportMetric(at(tookFwd, 0.99)-at(tookLocal, 0.99), "extra-p99-ms")
}
