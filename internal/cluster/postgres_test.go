package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/internal/pgtest"
	"github.com/clmbridge/clmbridge/storage"
	"github.com/jackc/pgx/v5"
)

// Test timings: fast enough to see expiry in a second, slack enough that a
// loaded machine does not expire a live instance.
const (
	testHeartbeat = 100 * time.Millisecond
	testTTL       = 2 * time.Second
)

// join opens an instance on dbURL with test timings, closed when t ends.
func join(t *testing.T, dbURL string, cfg Config) *Postgres {
	t.Helper()
	cfg.URL = dbURL
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = testHeartbeat
	}
	if cfg.TTL == 0 {
		cfg.TTL = testTTL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("joining the cluster: %v", err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// eventually waits (at most 20 s) for cond, checking every 20 ms.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		<-tick.C
	}
}

// sql runs one statement on a connection of its own.
func sql(t *testing.T, dbURL, q string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	tag, err := c.Exec(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return tag.RowsAffected()
}

func count(t *testing.T, dbURL, q string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	var n int
	if err := c.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func live(t *testing.T, p *Postgres) []string {
	t.Helper()
	ids, err := p.Live(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func owners(t *testing.T, p *Postgres, members []string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, m := range members {
		o, err := p.Owner(context.Background(), m)
		if err != nil {
			t.Fatalf("owner of %s: %v", m, err)
		}
		got[m] = o
	}
	return got
}

func memberKeys(prefix string, n int) []string {
	ms := make([]string, n)
	for i := range ms {
		ms[i] = fmt.Sprintf("%s:%d", prefix, i)
	}
	return ms
}

// kill ends every connection of p's on the server, as a crashed process
// or a cut network would.
func kill(t *testing.T, dbURL string, p *Postgres) {
	t.Helper()
	if n := sql(t, dbURL, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
		"clm-cluster "+p.Self()); n == 0 {
		t.Fatal("found no connection of the instance to kill")
	}
}

func TestInstancesStayLiveWhileTheyHeartbeatAndACleanStopDeregisters(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a := join(t, dbURL, Config{})
	b := join(t, dbURL, Config{})
	want := []string{a.Self(), b.Self()}
	slices.Sort(want)
	if got := live(t, a); !slices.Equal(got, want) {
		t.Fatalf("live after joining = %v, want %v", got, want)
	}
	// Well past the time-to-live, the heartbeats keep both live.
	eventually(t, "both instances to heartbeat for two time-to-lives", func() bool {
		return count(t, dbURL, `SELECT count(*) FROM cluster_instances
			WHERE last_seen > started_at + make_interval(secs => $1::float8)`, 2*testTTL.Seconds()) == 2
	})
	if got := live(t, b); !slices.Equal(got, want) {
		t.Fatalf("live after two time-to-lives = %v, want %v (heartbeat not kept)", got, want)
	}
	for range 2 { // closing again (the app's deferred Close) is no error
		if err := b.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := live(t, a); !slices.Equal(got, []string{a.Self()}) {
		t.Fatalf("live after a clean stop = %v, want only %s", got, a.Self())
	}
	if !errors.Is(b.Err(), ErrStopped) {
		t.Fatalf("a closed instance's Err = %v, want ErrStopped", b.Err())
	}
	if _, err := b.Owner(context.Background(), "telegram:1"); !errors.Is(err, ErrStopped) {
		t.Fatalf("Owner on a closed instance: %v, want ErrStopped", err)
	}
}

func TestAnInstanceWhoseHeartbeatExpiredLeavesInsteadOfServingMovedMembers(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a := join(t, dbURL, Config{})
	// As if the process had been paused past its time-to-live.
	sql(t, dbURL, `UPDATE cluster_instances SET last_seen = now() - interval '1 hour' WHERE id = $1`, a.Self())
	select {
	case <-a.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the instance did not leave after finding its heartbeat expired")
	}
	if err := a.Err(); !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Err = %v, want ErrStopped saying the heartbeat expired", err)
	}
}

func TestAMemberKeepsTheirOwnerWhenAnInstanceJoins(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a := join(t, dbURL, Config{})
	b := join(t, dbURL, Config{})
	old := memberKeys("telegram", 200)
	before := owners(t, a, old)
	c := join(t, dbURL, Config{})
	after := owners(t, c, old)
	for _, m := range old {
		if before[m] != after[m] {
			t.Fatalf("member %s moved from live %s to %s when an instance joined", m, before[m], after[m])
		}
	}
	// New members spread over all three, the newcomer included.
	got := map[string]int{}
	for _, o := range owners(t, b, memberKeys("discord", 300)) {
		got[o]++
	}
	for _, p := range []*Postgres{a, b, c} {
		if got[p.Self()] < 60 {
			t.Fatalf("instance %s owns %d of 300 new members, want about a third: %v", p.Self(), got[p.Self()], got)
		}
	}
}

func TestTwoInstancesAskingAtOnceAgreeOnAMembersOwner(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a := join(t, dbURL, Config{})
	b := join(t, dbURL, Config{})
	ms := memberKeys("telegram", 50)
	var wg sync.WaitGroup
	var fromA, fromB map[string]string
	wg.Go(func() { fromA = owners(t, a, ms) })
	wg.Go(func() { fromB = owners(t, b, ms) })
	wg.Wait()
	for _, m := range ms {
		if fromA[m] != fromB[m] {
			t.Fatalf("member %s: owner %s according to one instance, %s to the other", m, fromA[m], fromB[m])
		}
	}
}

func TestAKilledInstancesMembersMoveToTheLiveOnesAndOnlyThey(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a := join(t, dbURL, Config{})
	b := join(t, dbURL, Config{})
	c := join(t, dbURL, Config{})
	ms := memberKeys("telegram", 300)
	before := owners(t, a, ms)

	kill(t, dbURL, c)
	select {
	case <-c.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the killed instance did not notice it lost its connection")
	}
	if !errors.Is(c.Err(), ErrStopped) {
		t.Fatalf("the killed instance's Err = %v, want ErrStopped", c.Err())
	}
	eventually(t, "the killed instance to be declared dead", func() bool {
		return !slices.Contains(live(t, a), c.Self())
	})

	after := owners(t, b, ms)
	moved := map[string]int{}
	for _, m := range ms {
		switch {
		case before[m] != c.Self() && after[m] != before[m]:
			t.Fatalf("member %s of live %s moved to %s", m, before[m], after[m])
		case before[m] == c.Self() && after[m] == c.Self():
			t.Fatalf("member %s is still owned by the dead instance", m)
		case before[m] == c.Self():
			moved[after[m]]++
		}
	}
	if moved[a.Self()] == 0 || moved[b.Self()] == 0 {
		t.Fatalf("the dead instance's members went %v, want spread over both live instances", moved)
	}
	// The new owner learns, once, that each moved member must unlock
	// again; for a member who stayed there is nothing to tell.
	for _, m := range ms {
		owner := a
		if after[m] == b.Self() {
			owner = b
		}
		changed, err := owner.OwnerChanged(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		if want := before[m] == c.Self(); changed != want {
			t.Fatalf("member %s (was %s, now %s): OwnerChanged = %v, want %v", m, before[m], after[m], changed, want)
		}
		if again, _ := owner.OwnerChanged(context.Background(), m); again {
			t.Fatalf("member %s: OwnerChanged reported twice", m)
		}
	}
}

func TestAStoppedInstancesMembersAreToldToUnlockAgainByTheirNewOwner(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a := join(t, dbURL, Config{})
	b := join(t, dbURL, Config{})
	var ofB string
	for _, m := range memberKeys("discord", 100) {
		if o, err := a.Owner(context.Background(), m); err == nil && o == b.Self() {
			ofB = m
			break
		}
	}
	if ofB == "" {
		t.Fatal("the second instance owns none of 100 members")
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o, err := a.Owner(context.Background(), ofB); err != nil || o != a.Self() {
		t.Fatalf("after a clean stop the member's owner is %q (%v), want the live instance", o, err)
	}
	if changed, err := a.OwnerChanged(context.Background(), ofB); err != nil || !changed {
		t.Fatalf("OwnerChanged = %v (%v), want true: the member's sessions went with the stopped instance", changed, err)
	}
}

// echo is a Handler that answers "done <kind> <len(body)>" and hands each
// request to seen.
func echo(seen chan<- Message) Handler {
	return func(_ context.Context, _ string, m Message) ([]byte, error) {
		seen <- Message{Kind: m.Kind, Body: bytes.Clone(m.Body), Secret: m.Secret}
		return fmt.Appendf(nil, "done %s %d", m.Kind, len(m.Body)), nil
	}
}

func TestAForwardedRequestReachesTheOwnerAndItsAnswerComesBack(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	seen := make(chan Message, 4)
	a := join(t, dbURL, Config{})
	b := join(t, dbURL, Config{Handle: echo(seen)})
	large := bytes.Repeat([]byte("receive "), 20000) // 160 kB, far past NOTIFY's 8000 bytes
	for _, tc := range []struct {
		name string
		m    Message
	}{
		{"small", Message{Kind: "receive", Body: []byte(`{"member":"telegram:7"}`)}},
		{"large, through a payload row", Message{Kind: "history", Body: large}},
		{"secret, small", Message{Kind: "unlock", Body: []byte("Work hunter2"), Secret: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ans, err := a.Forward(ctx, b.Self(), tc.m)
			if err != nil {
				t.Fatalf("Forward: %v", err)
			}
			if want := fmt.Sprintf("done %s %d", tc.m.Kind, len(tc.m.Body)); string(ans) != want {
				t.Fatalf("answer %q, want %q", ans, want)
			}
			got := <-seen
			if got.Kind != tc.m.Kind || !bytes.Equal(got.Body, tc.m.Body) || got.Secret != tc.m.Secret {
				t.Fatalf("the owner saw kind %q, %d bytes, secret %v; want %q, %d bytes, %v",
					got.Kind, len(got.Body), got.Secret, tc.m.Kind, len(tc.m.Body), tc.m.Secret)
			}
			if n := count(t, dbURL, `SELECT count(*) FROM cluster_payloads`); n != 0 {
				t.Fatalf("%d payload rows left after the request was read, want none", n)
			}
		})
	}
}

func TestASecretNeverPassesThroughPostgreSQLInTheClear(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	seen := make(chan Message, 1)
	a := join(t, dbURL, Config{})
	b := join(t, dbURL, Config{Handle: echo(seen)})
	// A third party listening on the owner's channel sees what the
	// server's notification queue holds.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	spy, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = spy.Close(context.Background()) }()
	if _, err := spy.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel(b.Self())}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	secret := []byte("correct horse battery staple")
	if _, err := a.Forward(ctx, b.Self(), Message{Kind: "unlock", Body: secret, Secret: true}); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; !bytes.Equal(got.Body, secret) {
		t.Fatal("the owner did not get the secret it needs")
	}
	n, err := spy.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(n.Payload, "horse") || strings.Contains(n.Payload, "unlock") {
		t.Fatalf("the notification shows the request in the clear: %s", n.Payload)
	}
}

func TestASecretTooLargeForOneNotificationIsRefusedAndNeverStored(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	seen := make(chan Message, 1)
	a := join(t, dbURL, Config{})
	b := join(t, dbURL, Config{Handle: echo(seen)})
	_, err := a.Forward(context.Background(), b.Self(), Message{Kind: "unlock", Body: bytes.Repeat([]byte("s"), 9000), Secret: true})
	if !errors.Is(err, ErrSecretTooLarge) {
		t.Fatalf("Forward of a 9000-byte secret: %v, want ErrSecretTooLarge", err)
	}
	if n := count(t, dbURL, `SELECT count(*) FROM cluster_payloads`); n != 0 {
		t.Fatalf("%d payload rows written for a refused secret, want none", n)
	}
	select {
	case <-seen:
		t.Fatal("the owner was handed a refused secret")
	default:
	}
}

func TestAForwardToAnOwnerThatDoesNotAnswerTimesOut(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	release := make(chan struct{})
	defer close(release)
	a := join(t, dbURL, Config{ForwardTimeout: 300 * time.Millisecond})
	b := join(t, dbURL, Config{Handle: func(ctx context.Context, _ string, _ Message) ([]byte, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	}})
	_, err := a.Forward(context.Background(), b.Self(), Message{Kind: "receive"})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Forward to a stuck owner: %v, want ErrTimeout", err)
	}
}

func TestAnOwnersFailureComesBackToTheSender(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a := join(t, dbURL, Config{})
	b := join(t, dbURL, Config{Handle: func(context.Context, string, Message) ([]byte, error) {
		return nil, errors.New("no such chat")
	}})
	_, err := a.Forward(context.Background(), b.Self(), Message{Kind: "receive"})
	if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "no such chat") {
		t.Fatalf("Forward: %v, want ErrRemote with the owner's reason", err)
	}
}

func TestAForwardToAnInstanceThatIsNotLiveIsRefused(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a := join(t, dbURL, Config{})
	_, err := a.Forward(context.Background(), "0123456789abcdef", Message{Kind: "receive"})
	if !errors.Is(err, ErrUnknownInstance) {
		t.Fatalf("Forward to no instance: %v, want ErrUnknownInstance", err)
	}
}

func TestAPublishedPointerReachesEveryInstanceOnce(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	type got struct {
		at      int
		pointer string
	}
	recv := make(chan got, 32)
	var ps []*Postgres
	for i := range 3 {
		ps = append(ps, join(t, dbURL, Config{OnPointer: func(_ context.Context, _ string, ptr []byte) {
			recv <- got{i, string(ptr)}
		}}))
	}
	// Another cluster in the same database hears nothing of it.
	otherURL, _ := pgtest.Schema(t)
	join(t, otherURL, Config{OnPointer: func(_ context.Context, _ string, ptr []byte) {
		recv <- got{99, string(ptr)}
	}})
	small := `{"e":"AAAA","n":"BBBB","d":"CCCC"}`
	large := `{"e":"` + strings.Repeat("A", 10000) + `","n":"B","d":"C"}`
	for _, ptr := range []string{small, large} {
		if err := ps[1].Publish(context.Background(), []byte(ptr)); err != nil {
			t.Fatal(err)
		}
		seen := map[int]int{}
		for range 3 {
			select {
			case g := <-recv:
				if g.pointer != ptr {
					t.Fatalf("instance %d got a %d-byte pointer, want the %d-byte one", g.at, len(g.pointer), len(ptr))
				}
				seen[g.at]++
			case <-time.After(20 * time.Second):
				t.Fatalf("after a %d-byte publish only %v received it", len(ptr), seen)
			}
		}
		if len(seen) != 3 || seen[0] != 1 || seen[1] != 1 || seen[2] != 1 {
			t.Fatalf("a %d-byte pointer was received %v, want once by each of the three", len(ptr), seen)
		}
	}
	// Nothing more arrives (a duplicate, or the other cluster's), even
	// after a forward round trip that follows the publishes.
	seen := make(chan Message, 1)
	b := join(t, dbURL, Config{Handle: echo(seen)})
	if _, err := ps[0].Forward(context.Background(), b.Self(), Message{Kind: "sync"}); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-recv:
		t.Fatalf("an extra pointer arrived at instance %d", g.at)
	default:
	}
}

func TestAForwardToAnOwnerThatDiedIsRefusedOnceItIsDeclaredDead(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	seen := make(chan Message, 1)
	a := join(t, dbURL, Config{ForwardTimeout: 500 * time.Millisecond})
	b := join(t, dbURL, Config{Handle: echo(seen)})
	if _, err := a.Forward(context.Background(), b.Self(), Message{Kind: "receive"}); err != nil {
		t.Fatal(err)
	}
	<-seen
	kill(t, dbURL, b)
	<-b.Done()
	eventually(t, "the killed owner to be declared dead", func() bool {
		return !slices.Contains(live(t, a), b.Self())
	})
	// The first try may wait out the timeout; after it the sender knows
	// the owner is gone and asks Owner again.
	_, err := a.Forward(context.Background(), b.Self(), Message{Kind: "receive"})
	if errors.Is(err, ErrTimeout) {
		_, err = a.Forward(context.Background(), b.Self(), Message{Kind: "receive"})
	}
	if !errors.Is(err, ErrUnknownInstance) {
		t.Fatalf("Forward to a dead owner: %v, want ErrUnknownInstance", err)
	}
}

func TestInstancesStartingTogetherBesideTheStoreAllJoinAndMigrateOnce(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	store, err := storage.OpenPostgres(context.Background(), dbURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	ps := make([]*Postgres, 3)
	var wg sync.WaitGroup
	for i := range ps {
		wg.Go(func() {
			p, err := Open(context.Background(), Config{URL: dbURL, Heartbeat: testHeartbeat, TTL: testTTL})
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
				return
			}
			t.Cleanup(func() { _ = p.Close(context.Background()) })
			ps[i] = p
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if got := live(t, ps[0]); len(got) != 3 {
		t.Fatalf("live = %v, want the three instances", got)
	}
	migrations, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, dbURL, `SELECT count(*) FROM cluster_schema_version WHERE version = $1`, len(migrations)); n != 1 ||
		count(t, dbURL, `SELECT count(*) FROM cluster_schema_version`) != 1 {
		t.Fatalf("cluster_schema_version holds %d rows at version %d (the newest), want exactly one row", n, len(migrations))
	}
	// The store's own version is untouched by the cluster's.
	if n := count(t, dbURL, `SELECT count(*) FROM schema_version WHERE version >= 1`); n != 1 {
		t.Fatalf("the store's schema_version holds %d rows, want its one", n)
	}
}

func TestAnInstanceThatLostItsListeningConnectionHandsItsMembersOverWithoutWaitingForItsHeartbeatToExpire(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	// A time-to-live far longer than the test waits: only deregistering
	// can make the others see it gone in time.
	a := join(t, dbURL, Config{TTL: 10 * time.Minute})
	b := join(t, dbURL, Config{TTL: 10 * time.Minute})
	sql(t, dbURL, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1`, b.listen.PgConn().PID())
	<-b.Done()
	eventually(t, "the instance to deregister itself", func() bool {
		return slices.Equal(live(t, a), []string{a.Self()})
	})
}

func TestAnInstanceKilledWithoutAWordIsDeclaredDeadWhenItsHeartbeatExpires(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	a := join(t, dbURL, Config{})
	// A SIGKILLed process: its row and its members stay, its heartbeat stops.
	sql(t, dbURL, `INSERT INTO cluster_instances (id, box_key) VALUES ('ghost', $1)`, make([]byte, 32))
	sql(t, dbURL, `INSERT INTO cluster_owners (member, instance) VALUES ('telegram:1', 'ghost')`)
	if o, err := a.Owner(context.Background(), "telegram:1"); err != nil || o != "ghost" {
		t.Fatalf("while its heartbeat is fresh the owner is %q (%v), want it kept", o, err)
	}
	eventually(t, "the silent instance to be declared dead", func() bool {
		return !slices.Contains(live(t, a), "ghost")
	})
	if o, err := a.Owner(context.Background(), "telegram:1"); err != nil || o != a.Self() {
		t.Fatalf("after the heartbeat expired the owner is %q (%v), want the live instance", o, err)
	}
	if changed, err := a.OwnerChanged(context.Background(), "telegram:1"); err != nil || !changed {
		t.Fatalf("OwnerChanged = %v (%v), want true", changed, err)
	}
}

// A member is owned only by an instance serving their platform (the owner
// answers them through it): with two Discord instances and a Telegram-only
// one, Discord members spread over the two, Telegram members over the
// Telegram ones; when a Discord instance dies its members go to the other
// Discord instance, never to the Telegram-only one; and a platform nobody
// serves has no owner.
func TestMembersAreOwnedOnlyByInstancesServingTheirPlatform(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	d0 := join(t, dbURL, Config{Platforms: []string{"discord", "telegram"}})
	d1 := join(t, dbURL, Config{Platforms: []string{"discord", "telegram"}})
	tg := join(t, dbURL, Config{Platforms: []string{"telegram"}})

	discordOwners := owners(t, tg, memberKeys("discord", 120))
	spread := map[string]int{}
	for m, o := range discordOwners {
		if o == tg.Self() {
			t.Fatalf("discord member %s is owned by the Telegram-only instance", m)
		}
		spread[o]++
	}
	if spread[d0.Self()] == 0 || spread[d1.Self()] == 0 {
		t.Fatalf("discord members spread %v, want over both Discord instances", spread)
	}
	spread = map[string]int{}
	for _, o := range owners(t, d0, memberKeys("telegram", 120)) {
		spread[o]++
	}
	if len(spread) != 3 {
		t.Fatalf("telegram members spread %v, want over all three instances", spread)
	}
	if _, err := tg.Owner(context.Background(), "matrix:1"); !errors.Is(err, ErrNoLiveInstance) {
		t.Fatalf("a member of a platform nobody serves got owner error %v, want ErrNoLiveInstance", err)
	}

	kill(t, dbURL, d1)
	eventually(t, "the killed Discord instance to be declared dead", func() bool {
		return !slices.Contains(live(t, d0), d1.Self())
	})
	for m, o := range owners(t, tg, memberKeys("discord", 120)) {
		if o != d0.Self() {
			t.Fatalf("after the kill, discord member %s (was %s) is owned by %s, want the live Discord instance", m, discordOwners[m], o)
		}
	}
}
