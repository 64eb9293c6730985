package relay

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/internal/cluster"
	"github.com/clmbridge/clmbridge/internal/pgtest"
	"github.com/clmbridge/clmbridge/storage"
)

// The community of BenchmarkPointerFanOut: fanOutChats chats of
// fanOutPerChat members each, every member with watch on and their one
// chat unlocked, all seen in #general.
const (
	fanOutChats   = 6
	fanOutPerChat = 10
	// fanOutWait bounds the wait for one post's deliveries.
	fanOutWait = 30 * time.Second
	// fanOutMark starts the text of each benchmark post, followed by its
	// number, so a delivery names its post.
	fanOutMark = "fan-out post #"
)

// fanOutLog records every watch delivery of every instance.
type fanOutLog struct {
	owner map[string]string // member → the instance that should deliver to them; set before serving

	mu    sync.Mutex
	got   map[string]map[int]int // member → post number → deliveries
	wrong []string               // deliveries from an instance not the member's owner, or of no post
	// arrived gets the post number of each delivery.
	arrived chan int
}

// fanOutNotifier is one instance's watch Notifier.
type fanOutNotifier struct {
	instance string
	log      *fanOutLog
}

var _ bridge.Notifier = (*fanOutNotifier)(nil)

func (f *fanOutNotifier) NotifyPrivately(ctx context.Context, m bridge.Member, text string) error {
	post := -1
	if i := strings.Index(text, fanOutMark); i >= 0 {
		if _, err := fmt.Sscanf(text[i+len(fanOutMark):], "%d", &post); err != nil {
			post = -1
		}
	}
	l := f.log
	l.mu.Lock()
	if post < 0 || l.owner[m.ID] != f.instance {
		l.wrong = append(l.wrong, fmt.Sprintf("%s got %q from %s (owner %s)", m.ID, text, f.instance, l.owner[m.ID]))
	}
	if l.got[m.ID] == nil {
		l.got[m.ID] = make(map[int]int)
	}
	l.got[m.ID][post]++
	l.mu.Unlock()
	select {
	case l.arrived <- post:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fanOutWorld starts n instances on a fresh schema, each with its own
// store, whose watch deliveries go to log. Their published channels get
// a signal per published post while there is room (setup waits on them).
func fanOutWorld(tb testing.TB, a *answers, log *fanOutLog, n int) []*pgInstance {
	tb.Helper()
	dbURL, _ := pgtest.Schema(tb)
	ctx := context.Background()
	var out []*pgInstance
	for i := range n {
		name := fmt.Sprintf("I%d", i)
		st, err := storage.OpenPostgres(ctx, dbURL, storage.Options{Argon2: cheapArgon2})
		if err != nil {
			tb.Fatal(err)
		}
		in := &pgInstance{id: name, published: make(chan struct{}, 64)}
		var r *Router
		// Watch's per-member budget is lifted: the benchmark posts far
		// more than a member's 10 a minute.
		b := bridge.New(st, bridge.Options{RatePerMinute: -1, SweepEvery: -1, WatchPerMinute: 1 << 20,
			Publish: func(ctx context.Context, p bridge.Published) error { return r.Publish(ctx, p) }}, nil)
		r = New(b, Options{RetryWait: 3 * time.Second, Logger: slog.New(slog.DiscardHandler)})
		cl, err := cluster.Open(ctx, cluster.Config{URL: dbURL, Handle: r.HandleForwarded,
			OnPointer: func(ctx context.Context, from string, body []byte) {
				r.HandlePublished(ctx, from, body)
				select {
				case in.published <- struct{}{}:
				default: // nobody waits on it while the benchmark runs
				}
			}})
		if err != nil {
			tb.Fatal(err)
		}
		r.SetCluster(cl)
		r.SetRelay("test", &fakeRelay{a: a, instance: name})
		r.RegisterNotifier("test", &fanOutNotifier{instance: name, log: log})
		in.bridge, in.router, in.cl = b, r, cl
		tb.Cleanup(func() {
			_ = cl.Close(context.Background())
			_ = b.Close()
			_ = st.Close()
		})
		out = append(out, in)
	}
	return out
}

// fanOutSecret is the secret of chat k.
func fanOutSecret(k int) []byte {
	return fmt.Appendf(nil, "fan-out secret %d of the benchmark's community", k)
}

// fanOutPost has poster post, in #general at in, a pointer of chat k
// holding text.
func fanOutPost(tb testing.TB, a *answers, in *pgInstance, poster string, k int, text string) {
	tb.Helper()
	p, err := clm.NewPointer(fanOutSecret(k), clm.Message{Chat: fmt.Sprintf("Chat%d", k), Username: poster, Text: text}, time.Now().Unix())
	if err != nil {
		tb.Fatal(err)
	}
	runAt(tb, a, in, poster, bridge.Request{Place: general, Post: p.String()})
}

// BenchmarkPointerFanOut measures watch's fan-out of channel posts on real
// PostgreSQL, with one and with three instances, each with its own store
// (as separate processes). 60 members in 6 chats of 10 have watch on and
// their chat unlocked on their owner (their requests reach the instances
// in turn and are forwarded); each op is one post holding one pointer,
// reaching the instances in turn, published once, trial-opened by every
// instance for the members it owns, and done when its 10 members were
// notified. It reports posts/s and deliveries/s, and fails unless every
// member got each post of their chat exactly once, from their owner.
func BenchmarkPointerFanOut(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			benchmarkPointerFanOut(b, n)
		})
	}
}

func benchmarkPointerFanOut(b *testing.B, n int) {
	a := newAnswers()
	log := &fanOutLog{owner: map[string]string{}, got: map[string]map[int]int{}, arrived: make(chan int, 4*fanOutChats*fanOutPerChat)}
	ins := fanOutWorld(b, a, log, n)
	ctx := context.Background()
	const poster = "herald"
	// Member j is in chat j%fanOutChats.
	members := make([]string, fanOutChats*fanOutPerChat)
	name := make(map[string]string) // cluster id → instance name
	for _, in := range ins {
		name[in.cl.Self()] = in.id
	}
	owned := make(map[string]int)
	for j := range members {
		members[j] = fmt.Sprintf("m%02d", j)
		owner, err := ins[0].cl.Owner(ctx, key(member(members[j])))
		if err != nil {
			b.Fatal(err)
		}
		log.owner[members[j]] = name[owner]
		owned[name[owner]]++
	}
	b.Logf("%d members owned per instance: %v", len(members), owned)
	at := func(j int) *pgInstance { return ins[j%n] } // where member j's requests arrive

	// Each member joins their chat with unlock, then opens a pointer the
	// poster posted through its Receive button: that confirms the chat
	// and its secret, so watch opens its pointers for them.
	for j, m := range members {
		k := j % fanOutChats
		runAt(b, a, at(j), m, bridge.Request{Place: dm, Command: "unlock", Args: fmt.Sprintf("Chat%d %s", k, fanOutSecret(k))})
	}
	refs := make([]string, fanOutChats)
	for k := range refs {
		fanOutPost(b, a, ins[0], poster, k, fmt.Sprintf("welcome to Chat%d", k))
		for _, in := range ins {
			select {
			case <-in.published:
			case <-time.After(fanOutWait):
				b.Fatalf("%s did not receive a published post", in.id)
			}
		}
		pub := a.to(poster, "public")
		text := pub[len(pub)-1].text
		refs[k] = strings.TrimSuffix(text[strings.LastIndex(text, "[")+1:], "]")
	}
	for j, m := range members {
		k := j % fanOutChats
		runAt(b, a, at(j), m, bridge.Request{Place: general, Command: "receive", ReceiveRef: refs[k]})
		if got := a.holding(m, fmt.Sprintf("welcome to Chat%d", k)); len(got) != 1 || got[0].instance != log.owner[m] {
			b.Fatalf("%s's Receive was answered %+v, want once by their owner %s", m, got, log.owner[m])
		}
		runAt(b, a, at(j), m, bridge.Request{Place: dm, Command: "watch", Args: "on"})
		runAt(b, a, at(j), m, bridge.Request{Place: general, Post: "morning all"})
	}
	for _, in := range ins { // the poster's owner learns they were seen everywhere
		runAt(b, a, in, poster, bridge.Request{Place: general, Post: "good morning"})
	}
	for j, m := range members {
		for _, in := range ins {
			held := in.bridge.UnlockedChats(member(m))
			want := []string(nil)
			if in.id == log.owner[m] {
				want = []string{fmt.Sprintf("Chat%d", j%fanOutChats)}
			}
			if !slices.Equal(held, want) {
				b.Fatalf("%s holds %v of %s's sessions, want %v", in.id, held, m, want)
			}
		}
	}

	post := 0
	wait := time.NewTimer(fanOutWait)
	defer wait.Stop()
	for b.Loop() {
		fanOutPost(b, a, ins[post%n], poster, post%fanOutChats, fmt.Sprintf("%s%d", fanOutMark, post))
		wait.Reset(fanOutWait)
		for left := fanOutPerChat; left > 0; {
			select {
			case p := <-log.arrived:
				if p == post {
					left--
				}
			case <-wait.C:
				b.Fatalf("post %d: %d of its %d watch deliveries did not arrive within %v", post, left, fanOutPerChat, fanOutWait)
			}
		}
		post++
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(post)/secs, "posts/s")
	b.ReportMetric(float64(post*fanOutPerChat)/secs, "deliveries/s")

	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.wrong) > 0 {
		b.Fatalf("%d deliveries came from an instance that does not own the member or named no post, e.g. %s", len(log.wrong), log.wrong[0])
	}
	for j, m := range members {
		ofChat := 0
		for p := range post {
			want := 0
			if p%fanOutChats == j%fanOutChats {
				want = 1
				ofChat++
			}
			if got := log.got[m][p]; got != want {
				b.Fatalf("%s got post %d (of Chat%d) %d times, want %d", m, p, p%fanOutChats, got, want)
			}
		}
		if len(log.got[m]) != ofChat {
			b.Fatalf("%s got deliveries of %d posts, want the %d made of their chat", m, len(log.got[m]), ofChat)
		}
	}
}
