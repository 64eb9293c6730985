package discord

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/bridge"
)

// texts returns everything the member was shown in answer to an
// interaction so far, in order.
func texts(fake *discordtest.Server, id string) []string {
	var out []string
	for _, r := range fake.Replies(id) {
		if r.Content != "" {
			out = append(out, r.Content)
		}
	}
	return out
}

func TestDoneIsSaidOnlyAfterAPublicPost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		handle func(ctx context.Context, req bridge.Request) error
		want   string
	}{
		{"the core only posted", func(ctx context.Context, req bridge.Request) error {
			return req.Reply.Public(ctx, bridge.PublicPost{Text: "a pointer"})
		}, "Done."},
		{"the core said and did nothing", func(context.Context, bridge.Request) error { return nil }, "Nothing was done"},
		{"the core was shutting down", func(context.Context, bridge.Request) error { return bridge.ErrClosed }, "shutting down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			core := newFakeCore()
			core.handle = tt.handle
			if tt.name == "the core was shutting down" {
				core.handle, core.handleErr = func(context.Context, bridge.Request) error { return nil }, bridge.ErrClosed
			}
			r := start(t, Config{GuildID: "77"}, core)
			in := r.fake.Interact(t, discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", "hi")))
			rep := r.fake.WaitText(t, in.ID)
			if !strings.Contains(rep.Content, tt.want) || !rep.Ephemeral {
				t.Errorf("alice was shown %q (ephemeral %v), want %q", rep.Content, rep.Ephemeral, tt.want)
			}
		})
	}
}

func TestRateLimitedCommandsAreToldSoNotDone(t *testing.T) {
	t.Parallel()
	r, _ := startRealWith(t, Config{GuildID: "77"}, bridge.Options{RateBurst: 2, RatePerMinute: 1, SweepEvery: -1})
	for k := 1; k <= 5; k++ {
		in := r.fake.Interact(t, discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", "hi")))
		got := r.fake.WaitText(t, in.ID).Content
		if k > 2 && !strings.Contains(got, "too fast") {
			t.Errorf("request %d over the limit was shown %q, want that it was refused", k, got)
		}
		if strings.Contains(got, "Done") {
			t.Errorf("request %d was shown %q though nothing was posted", k, got)
		}
	}
	if n := len(r.fake.ChannelMessages(general.ChannelID)); n != 0 {
		t.Errorf("%d posts in the channel", n)
	}
}

func TestAFailedEditOfTheAnswerIsRetried(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	// The connection drops on the first edit of the deferred answer.
	r.fake.Fail(discordtest.Rule{Method: "PATCH", PathContains: "/webhooks/", Times: 1, Disconnect: true})
	in := r.fake.Interact(t, discordtest.Slash(bob, general, "chats"))
	core.waitRequests(t, 1)
	r.fake.WaitText(t, in.ID)
	// Handled in order after bob's chats, so his answer is complete by then.
	r.fake.Interact(t, discordtest.Slash(bob, general, "help"))
	core.waitRequests(t, 2)
	if got := texts(r.fake, in.ID); !slices.Equal(got, []string{"ok chats"}) {
		t.Errorf("bob was shown %q, want his answer once", got)
	}
}

func TestAnAnswerThatCannotBeShownIsSaidSo(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	r.fake.Fail(discordtest.Rule{Method: "PATCH", PathContains: "/webhooks/", Times: -1, Disconnect: true})
	in := r.fake.Interact(t, discordtest.Slash(bob, general, "chats"))
	rep := r.fake.WaitText(t, in.ID)
	if rep.Kind != "followup" || !rep.Ephemeral || !strings.Contains(rep.Content, "could not show it") {
		t.Errorf("bob was shown %+v, want a private note that his answer could not be shown", rep)
	}
	edits := 0
	for _, c := range r.fake.Calls() {
		if c.Method == "PATCH" {
			edits++
		}
	}
	if edits < 2 || edits > editAttempts {
		t.Errorf("%d edits of the answer, want it retried at most %d times", edits, editAttempts)
	}
}

// latest returns the latest version of the message id.
func latest(fake *discordtest.Server, id string) discordtest.Message {
	var m discordtest.Message
	for _, v := range fake.Messages() {
		if v.ID == id {
			m = v
		}
	}
	return m
}

func TestForgetAsksWithConfirmAndCancelButtons(t *testing.T) {
	t.Parallel()
	for _, press := range []string{confirmLabel, cancelLabel} {
		t.Run(press, func(t *testing.T) {
			t.Parallel()
			r, core := startReal(t, Config{GuildID: "77"})
			who := bridge.Member{Platform: Name, ID: alice.ID, DisplayName: alice.Name}
			if err := core.Handle(context.Background(), bridge.Request{Member: who, Place: bridge.Place{Kind: bridge.Private},
				Command: "new", Args: `"Project Athena" correct horse battery staple`, Reply: nopReply{}}); err != nil {
				t.Fatal(err)
			}
			ask := r.fake.Interact(t, discordtest.Slash(alice, general, "forget", discordtest.Opt("chat", "Project Athena")))
			rep := r.fake.WaitText(t, ask.ID)
			prompt := latest(r.fake, rep.MessageID)
			if !strings.Contains(prompt.Content, "deletes your chat Project Athena") || strings.Contains(prompt.Content, "answer yes") || !prompt.Ephemeral {
				t.Errorf("prompt %q (ephemeral %v): want the question without typing instructions, only for alice", prompt.Content, prompt.Ephemeral)
			}
			if got := prompt.ButtonLabels(); !slices.Equal(got, []string{confirmLabel, cancelLabel}) {
				t.Fatalf("prompt buttons %v", got)
			}
			button := prompt.ButtonIDs()[slices.Index(prompt.ButtonLabels(), press)]
			pressed := r.fake.Interact(t, discordtest.Button(alice, general, prompt, button))
			answer := r.fake.WaitText(t, pressed.ID)
			after := latest(r.fake, prompt.ID)
			if answer.Kind != "edit" || answer.MessageID != prompt.ID || len(after.ButtonIDs()) != 0 {
				t.Errorf("the press answered %+v; want the prompt replaced, without its buttons (now %v)", answer, after.ButtonIDs())
			}
			names, _ := core.ChatNames(context.Background(), who)
			switch press {
			case confirmLabel:
				if !strings.Contains(answer.Content, "Forgot Project Athena") || len(names) != 0 {
					t.Errorf("Confirm: shown %q, chats %v", answer.Content, names)
				}
			case cancelLabel:
				if !strings.Contains(answer.Content, "Cancelled") || len(names) != 1 {
					t.Errorf("Cancel: shown %q, chats %v", answer.Content, names)
				}
			}
		})
	}
}
