package discord

import (
	"log/slog"
	"slices"
	"strconv"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestLeavingAServerForgetsOnlyWhereTheAdapterIsSure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(g *guildChannels)
		want  []string
	}{
		{"channels seen in the guild", func(g *guildChannels) {
			g.note("77", "500")
			g.note("77", "501")
			g.note("88", "600")
		}, []string{"302@500", "302@501"}},
		{"no channel of the guild ever seen", func(g *guildChannels) { g.note("88", "600") }, nil},
		{"more channels than the adapter remembers", func(g *guildChannels) {
			for k := 0; k <= maxChannelsPerGuild; k++ {
				g.note("77", strconv.Itoa(1000+k))
			}
		}, []string{"302@*"}},
		{"the guild was forgotten to stay within bounds", func(g *guildChannels) {
			g.note("77", "500")
			for k := 0; k < maxRememberedGuilds; k++ {
				g.note(strconv.Itoa(9000+k), "1")
			}
		}, []string{"302@*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			core := newFakeCore()
			a := &Adapter{core: core, channels: newGuildChannels(), log: slog.New(slog.DiscardHandler)}
			tt.setup(a.channels)
			a.onMemberRemove(nil, &discordgo.GuildMemberRemove{Member: &discordgo.Member{GuildID: "77", User: &discordgo.User{ID: "302"}}})
			got := slices.Sorted(slices.Values(core.left))
			if !slices.Equal(got, tt.want) {
				t.Errorf("MemberLeft calls %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPointerMemoryTellsWhetherAnEditAddsAPointer(t *testing.T) {
	t.Parallel()
	pm := newPointerMemory(2)
	steps := []struct {
		id, text string
		want     bool
	}{
		{"1", "no pointer here", false},
		{"1", "see " + pointerA, true},
		{"1", "look: " + pointerA, false},
		{"1", pointerA + " " + pointerB, true},
		{"2", pointerA, true}, // another message
		{"3", pointerB, true},
		{"1", pointerA, true}, // message 1 was forgotten (two remembered)
	}
	for k, st := range steps {
		if got := pm.add(st.id, st.text); got != st.want {
			t.Errorf("step %d: add(%s, %q) = %v, want %v", k, st.id, st.text, got, st.want)
		}
	}
}
