package main

import (
	"testing"

	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/telegram"
)

func TestEncodeNotesTheAdaptersOwnMessageLimits(t *testing.T) {
	want := map[string]int{"Telegram": telegram.MessageLimit, "Discord": discord.MessageLimit}
	got := map[string]int{}
	for _, l := range platformLimits() {
		got[l.name] = l.chars
	}
	if len(got) != len(want) {
		t.Fatalf("limits %v, want %v", got, want)
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s: encode notes a limit of %d characters; the adapter's is %d", name, got[name], n)
		}
	}
}
