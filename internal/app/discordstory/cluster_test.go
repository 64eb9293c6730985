package discordstory_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/internal/app"
	"github.com/clmbridge/clmbridge/internal/pgtest"
	"github.com/clmbridge/clmbridge/platform"
	"github.com/clmbridge/clmbridge/storage"
)

// farGuild's events go to shard 1 of 2 ((id >> 22) % 2), general's (77)
// and every DM to shard 0.
const farGuild = "4194304"

// newClusterStory runs two instances of the bridge on one PostgreSQL
// schema, as shards 0 and 1 of one bot on the fake Discord, and waits
// until both serve and have joined the cluster.
func newClusterStory(t *testing.T) *story {
	t.Helper()
	dbURL, _ := pgtest.Schema(t)
	fake := discordtest.New(t, discordtest.WithGuilds("77", farGuild))
	s := &story{t: t, fake: fake, logs: &lockedBuffer{}, never: []string{workSecret, fake.Token()}}
	for shard := range 2 {
		cfg := discord.Config{Token: fake.Token(), APIURL: fake.URL(), GuildID: "77", ShardID: shard, ShardCount: 2}
		appCfg := app.Config{
			DataDir: t.TempDir(), DatabaseURL: app.DatabaseURL(dbURL), ClusterHeartbeat: 200 * time.Millisecond, ClusterTTL: 2 * time.Second,
			SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
			RateBurst: 20, RatePerMinute: 0, LogLevel: "debug", LogFormat: "text",
			Platforms: map[string]platform.Config{discord.Name: cfg},
		}
		opts := app.Options{Storage: storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- app.RunWith(ctx, appCfg, opts, strings.NewReader(""), io.Discard, s.logs) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("instance %d: app.RunWith: %v", shard, err)
			}
		})
		fake.WaitShardReady(t, shard)
	}
	t.Cleanup(s.checkNothingLeaked)
	fake.WaitCall(t, "command registration", func(c discordtest.Call) bool { return c.Method == "PUT" && c.Status == 200 })
	// The log is the only sign of joining; poll it, bounded.
	for k := 0; strings.Count(s.logs.String(), "cluster: joined") < 2; k++ {
		if k == 300 {
			t.Fatalf("the two instances did not both join the cluster:\n%s", s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// Alice creates Work in her DM, which only shard 0's instance receives,
// and sends in a server that only shard 1's instance receives: one of the
// two requests reached an instance that does not hold her unlocked chat
// (it lives in her owner's memory only), and was answered by the owner.
func TestStoryTwoShardedInstancesServeAMemberWhereverHerRequestsArrive(t *testing.T) {
	t.Parallel()
	s := newClusterStory(t)
	const plaintext = "the shards agree"
	s.never = append(s.never, plaintext)
	far := discordtest.Channel(farGuild, "600")

	mustContain(t, "alice creates Work in her DM", s.form(alice, discordtest.DM(alice), "new", map[string]string{"secret": workSecret}, discordtest.Opt("chat", "Work")), "Work")
	send := s.fake.Interact(t, discordtest.Slash(alice, far, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", plaintext)))
	mustContain(t, "alice sends in the far server", s.answer(send.ID), "Posted")
	var posts []discordtest.Message
	for _, m := range s.fake.ChannelMessages(far.ChannelID) {
		if len(clm.Extract(m.Content)) > 0 {
			posts = append(posts, m)
		}
	}
	if len(posts) != 1 {
		t.Fatalf("%d pointer posts in the far server, want 1", len(posts))
	}
	mustContain(t, "alice's history in her DM", s.do(alice, discordtest.DM(alice), "history", discordtest.Opt("chat", "Work")), plaintext)
	s.fake.PostMessage(t, alice, discordtest.DM(alice), "/clm history Work")
	s.fake.WaitChannelMessage(t, discordtest.DMChannelID(alice.ID), func(m discordtest.Message) bool { return strings.Contains(m.Content, plaintext) })

	var shown []string
	for _, r := range s.fake.Replies(send.ID) {
		if r.Content != "" {
			shown = append(shown, r.Content)
		}
	}
	if len(shown) != 1 {
		t.Errorf("alice's send was answered %q, want once", shown)
	}
}
