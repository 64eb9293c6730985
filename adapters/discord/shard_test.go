package discord

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

func TestShardSettingsDiscordWouldRefuseAreConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		id, count int
		says      string // "" when valid
	}{
		{"unset", 0, 0, ""},
		{"one shard", 0, 1, ""},
		{"last of two", 1, 2, ""},
		{"id set without count", 1, 0, "CLM_DISCORD_SHARD_COUNT is not set"},
		{"id not below count", 2, 2, "not below CLM_DISCORD_SHARD_COUNT"},
		{"negative count", 0, -1, "set it to 1 or more"},
		{"negative id", -1, 2, "from 0 to CLM_DISCORD_SHARD_COUNT-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Token: discordtest.DefaultToken, ShardID: tt.id, ShardCount: tt.count}
			err := cfg.Check()
			_, newErr := New(cfg, newFakeCore(), nil)
			switch {
			case tt.says == "" && (err != nil || newErr != nil):
				t.Fatalf("Check: %v, New: %v; want both to accept shard %d of %d", err, newErr, tt.id, tt.count)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Fatalf("Check: %v; want an error saying %q", err, tt.says)
			case tt.says != "" && newErr == nil:
				t.Fatal("New accepted what Check refuses")
			}
		})
	}
}

func TestTheShardIsInTheConfigsPrintingAndLogs(t *testing.T) {
	t.Parallel()
	cfg := Config{Token: "secret-token-value", ShardID: 1, ShardCount: 3}
	var logs syncBuffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "discord", cfg)
	for _, out := range []string{cfg.String(), logs.String()} {
		if !strings.Contains(out, "1") || !strings.Contains(out, "3") || !strings.Contains(strings.ToLower(out), "shard") || strings.Contains(out, "secret-token-value") {
			t.Errorf("%q: want the shard 1 of 3 shown, without the token", out)
		}
	}
}

// guildOnShard1 is a guild whose events go to shard 1 of 2 ((id >> 22) % 2).
const guildOnShard1 = "4194304"

func TestTwoShardsEachGetTheirOwnEventsAndOnlyShardZeroRegisters(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t, discordtest.WithGuilds("77", guildOnShard1))
	core0, core1 := newFakeCore(), newFakeCore()
	r0 := startWith(t, fake, Config{GuildID: "77", ShardID: 0, ShardCount: 2}, core0)
	r1 := startWith(t, fake, Config{GuildID: "77", ShardID: 1, ShardCount: 2}, core1)

	far := discordtest.Channel(guildOnShard1, "600")
	in := fake.Interact(t, discordtest.Slash(bob, far, "chats"))
	if got := fake.WaitText(t, in.ID).Content; got != "ok chats" {
		t.Fatalf("bob was shown %q", got)
	}
	dm := fake.Interact(t, discordtest.Slash(alice, discordtest.DM(alice), "help"))
	fake.WaitText(t, dm.ID)
	fake.PostMessage(t, alice, discordtest.DM(alice), "/clm whoami")
	core0.waitRequests(t, 2)
	core1.waitRequests(t, 1)

	if got := commandsOf(core1.requests()); got != "chats" {
		t.Errorf("shard 1 handled %q, want only the command from its guild", got)
	}
	if got := commandsOf(core0.requests()); got != "help whoami" {
		t.Errorf("shard 0 handled %q, want the DM interaction and the DM", got)
	}
	puts := 0
	for _, c := range fake.Calls() {
		if c.Method == "PUT" && strings.HasSuffix(c.Path, "/commands") {
			puts++
		}
	}
	if puts != 1 {
		t.Errorf("%d command registrations, want shard 0's only", puts)
	}
	if !strings.Contains(r1.logs.String(), "not registering the commands") {
		t.Errorf("shard 1 does not say why it did not register the commands:\n%s", r1.logs.String())
	}
	if d := r1.a.Status().Detail; !strings.Contains(d, "shard 1 of 2") || !strings.Contains(d, "DMs reach shard 0") {
		t.Errorf("shard 1's status %q does not name its shard", d)
	}
	if d := r0.a.Status().Detail; !strings.Contains(d, "shard 0 of 2") || !strings.Contains(d, "registered in guild 77") {
		t.Errorf("shard 0's status %q", d)
	}
	shards := fake.IdentifiedShards()
	if len(shards) != 2 || shards[0] != [2]int{0, 2} || shards[1] != [2]int{1, 2} {
		t.Errorf("IDENTIFY carried shards %v, want [0 2] then [1 2]", shards)
	}
}

// commandsOf lists the requests' commands, space-separated, in order.
func commandsOf(reqs []bridge.Request) string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Command)
	}
	return strings.Join(out, " ")
}

func TestAnInvalidShardIsARefusal(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		&websocket.CloseError{Code: 4010, Text: "Invalid shard."},
		discordgo.ErrWSShardBounds,
	} {
		r := refusal(err)
		if !errors.Is(r, platform.ErrRefused) || !strings.Contains(r.Error(), "CLM_DISCORD_SHARD_ID") {
			t.Errorf("refusal(%v) = %v; want a refusal naming CLM_DISCORD_SHARD_ID", err, r)
		}
	}
}
