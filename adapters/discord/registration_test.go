package discord

import (
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
)

func TestSwitchingToGlobalCommandsRemovesTheGuildCopies(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t, discordtest.WithGuilds("77", "88"))
	// The bot ran with CLM_DISCORD_GUILD_ID=77 ...
	first := startWith(t, fake, Config{GuildID: "77"}, newFakeCore())
	if len(fake.Commands("77")) != 2 {
		t.Fatalf("guild 77 has %d commands after the first run", len(fake.Commands("77")))
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	// ... and now registers globally: members of 77 must not see /clm twice.
	startWith(t, fake, Config{}, newFakeCore())
	fake.WaitCall(t, "the guild's commands overwritten with none", func(c discordtest.Call) bool {
		return c.Method == "PUT" && strings.HasSuffix(c.Path, "/guilds/77/commands") && string(c.Body) == "[]" && c.Status == 200
	})
	fake.WaitCall(t, "global registration", func(c discordtest.Call) bool {
		return c.Method == "PUT" && strings.HasSuffix(c.Path, "/applications/"+fake.AppID()+"/commands") && c.Status == 200
	})
	fake.WaitCall(t, "guild 88 checked", func(c discordtest.Call) bool {
		return c.Method == "GET" && strings.HasSuffix(c.Path, "/guilds/88/commands")
	})
	if n := len(fake.Commands("77")); n != 0 {
		t.Errorf("guild 77 still has %d commands", n)
	}
	if n := len(fake.Commands("global")); n != 2 {
		t.Errorf("%d global commands, want 2", n)
	}
	for _, c := range fake.Calls() {
		if c.Method == "PUT" && strings.HasSuffix(c.Path, "/guilds/88/commands") {
			t.Errorf("guild 88, which had no commands, was overwritten: %s", c.Body)
		}
	}
}
