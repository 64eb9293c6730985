package telegram

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
)

// handledTypes are the update types the adapter has handlers for: it must
// ask Telegram for each of them, or Telegram never sends them.
var handledTypes = []string{"message", "edited_message", "callback_query", "inline_query",
	"chosen_inline_result", "chat_member", "my_chat_member"}

func TestTheBotAsksTelegramForEveryUpdateTypeItHandles(t *testing.T) {
	t.Run("long polling", func(t *testing.T) {
		h := startHarness(t, telegramtest.Options{}, nil)
		h.awaitCalls("getUpdates", 1)
		got := h.tg.AllowedUpdates()
		for _, want := range handledTypes {
			if !slices.Contains(got, want) {
				t.Errorf("getUpdates asked for %v, without %q", got, want)
			}
		}
	})
	t.Run("webhook", func(t *testing.T) {
		h := startWebhook(t, "hook-secret")
		got := h.tg.AllowedUpdates()
		for _, want := range handledTypes {
			if !slices.Contains(got, want) {
				t.Errorf("setWebhook asked for %v, without %q", got, want)
			}
		}
	})
}

// TestEditsAndCaptionsGoThroughTheSamePolicy: a group message edited to
// hold a secret-bearing command is handled (and so deleted) like a new
// one; a photo's caption is its text: a pointer there is a post, a /clm
// command there is a command, and a reply to the photo quotes the caption.
func TestEditsAndCaptionsGoThroughTheSamePolicy(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	deleted := make(chan error, 8)
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		switch {
		case req.Command == "unlock":
			deleted <- req.Reply.DeleteRequest(ctx)
		case strings.Contains(req.Post, `{"e"`):
			return req.Reply.Public(ctx, bridge.PublicPost{Text: "🔓 A CLM pointer", ReceiveRef: "r" + req.MessageID})
		}
		return nil
	})
	const pointer = `{"e": 1, "n": "x", "d": "ab"}`

	t.Run("a secret edited into a group message is deleted", func(t *testing.T) {
		msg := h.tg.SendText(alice, team, "good morning")
		h.core.awaitRequests(t, 1)
		if _, err := h.tg.Edit(alice, msg, "/clm unlock Work s3cret"); err != nil {
			t.Fatal(err)
		}
		reqs := h.core.awaitRequests(t, 2)
		if r := reqs[1]; r.Command != "unlock" || r.Args != "Work s3cret" || r.Place.Kind != bridge.Public || r.MessageID != strconv.Itoa(msg.MessageID) {
			t.Fatalf("the edit reached the core as %+v", r)
		}
		if err := <-deleted; err != nil {
			t.Fatalf("DeleteRequest: %v", err)
		}
		if e, _ := h.tg.Message(team.ID, msg.MessageID); !e.Deleted {
			t.Errorf("the edited message with the secret is still in the group")
		}
	})
	var photo telegramtest.Message
	t.Run("a pointer in a caption gets a Receive button", func(t *testing.T) {
		photo = h.tg.SendPhoto(alice, team, "look: "+pointer)
		reqs := h.core.awaitRequests(t, 3)
		if r := reqs[2]; r.Post != "look: "+pointer || r.MessageID != strconv.Itoa(photo.MessageID) {
			t.Fatalf("the photo reached the core as %+v", r)
		}
		btn := lastWithButtons(h, team.ID)
		if btn.ReplyTo == nil || btn.ReplyTo.MessageID != photo.MessageID {
			t.Errorf("the Receive post does not answer the photo: %+v", btn)
		}
	})
	t.Run("a /clm command in a caption is a command", func(t *testing.T) {
		h.tg.ReplyPhoto(bob, photo, "/clm receive")
		reqs := h.core.awaitRequests(t, 4)
		if r := reqs[3]; r.Command != "receive" || r.Quoted != "look: "+pointer || r.Post != "" {
			t.Errorf("the caption command reached the core as %+v", r)
		}
	})
	t.Run("a text reply to the photo quotes its caption", func(t *testing.T) {
		h.tg.ReplyText(bob, photo, "/clm receive")
		reqs := h.core.awaitRequests(t, 5)
		if r := reqs[4]; r.Command != "receive" || r.Quoted != "look: "+pointer {
			t.Errorf("the reply reached the core as %+v", r)
		}
	})
}

// leftUpdate is one way Telegram says that bob is no longer in team.
type leftUpdate struct {
	name   string
	update telegramtest.Update
}

func leftUpdates() []leftUpdate {
	gone := func(status string, member bool) *telegramtest.ChatMemberUpdated {
		return &telegramtest.ChatMemberUpdated{Chat: team, From: bob, Date: 1,
			OldChatMember: telegramtest.ChatMember{Status: "member", User: bob},
			NewChatMember: telegramtest.ChatMember{Status: status, User: bob, IsMember: member}}
	}
	return []leftUpdate{
		{"service message left_chat_member", telegramtest.Update{Message: &telegramtest.Message{
			MessageID: 9001, From: &carol, Chat: team, Date: 1, LeftChatMember: &bob}}},
		{"chat_member left", telegramtest.Update{ChatMember: gone("left", false)}},
		{"chat_member kicked", telegramtest.Update{ChatMember: gone("kicked", false)}},
		{"chat_member restricted and out", telegramtest.Update{ChatMember: gone("restricted", false)}},
	}
}

// TestAMemberWhoLeftIsForgotten: whichever way Telegram says a member left
// a group (or was removed), the core is told, and the group is no longer
// offered to them for posting; a change that keeps them in the group is
// not a leave.
func TestAMemberWhoLeftIsForgotten(t *testing.T) {
	const pointer = `{"e": 1700000000, "n": "AAECAwQFBgcICQoL", "d": "00ff00ff"}`
	for _, lu := range leftUpdates() {
		t.Run(lu.name, func(t *testing.T) {
			h := startHarness(t, telegramtest.Options{}, nil)
			h.core.setOn(sendingCore(pointer))
			h.tg.SendText(bob, team, "/clm chats") // the bot sees bob in Team
			h.core.awaitRequests(t, 1)

			h.tg.Inject(lu.update)
			if got := h.core.awaitLeft(t, 1); fmt.Sprint(got) != "[1002@-100500]" {
				t.Errorf("the core was told %v, want [1002@-100500]", got)
			}
			h.tg.SendText(bob, bob.PrivateChat(), "/clm send Work hello")
			h.tg.Await(t, waitLimit, "the pointer", func() bool {
				return len(h.tg.BotMessages(bob.ID)) >= 2
			})
			for _, m := range h.tg.BotMessages(bob.ID) {
				if len(m.Buttons()) > 0 {
					t.Errorf("bob is offered to post in a group he left: %+v", m.Buttons())
				}
			}
		})
	}
	t.Run("a change that keeps the member is not a leave", func(t *testing.T) {
		h := startHarness(t, telegramtest.Options{}, nil)
		for _, status := range []struct {
			name   string
			member bool
		}{{"administrator", false}, {"restricted", true}, {"member", false}} {
			h.tg.Inject(telegramtest.Update{ChatMember: &telegramtest.ChatMemberUpdated{Chat: team, From: carol, Date: 1,
				OldChatMember: telegramtest.ChatMember{Status: "member", User: bob},
				NewChatMember: telegramtest.ChatMember{Status: status.name, User: bob, IsMember: status.member}}})
		}
		// The leaves of a group are handled in the group's order: once a
		// later message is handled, the changes before it were too.
		h.tg.SendText(alice, team, "/clm marker")
		h.core.awaitRequests(t, 1)
		if got := h.core.leftCalls(); len(got) != 0 {
			t.Errorf("the core was told %v", got)
		}
	})
}

// TestTheBotLeavingAGroupStopsOfferingIt: when the bot itself is removed
// from a group, no member is offered to post there any more, and no member
// is reported as having left.
func TestTheBotLeavingAGroupStopsOfferingIt(t *testing.T) {
	const pointer = `{"e": 1700000000, "n": "AAECAwQFBgcICQoL", "d": "00ff00ff"}`
	h := startHarness(t, telegramtest.Options{}, nil)
	h.core.setOn(sendingCore(pointer))
	h.tg.SendText(bob, team, "/clm chats")
	h.core.awaitRequests(t, 1)
	h.tg.Inject(telegramtest.Update{MyChatMember: &telegramtest.ChatMemberUpdated{Chat: team, From: carol, Date: 1,
		OldChatMember: telegramtest.ChatMember{Status: "administrator", User: h.tg.Bot},
		NewChatMember: telegramtest.ChatMember{Status: "kicked", User: h.tg.Bot}}})
	// A later update of the group is handled after the bot's removal.
	h.tg.SendText(carol, team, "/clm marker")
	h.core.awaitRequests(t, 2)

	h.tg.SendText(bob, bob.PrivateChat(), "/clm send Work hello")
	h.tg.Await(t, waitLimit, "the pointer", func() bool {
		return len(h.tg.BotMessages(bob.ID)) >= 2
	})
	for _, m := range h.tg.BotMessages(bob.ID) {
		if len(m.Buttons()) > 0 {
			t.Errorf("bob is offered a group the bot was removed from: %+v", m.Buttons())
		}
	}
	if got := h.core.leftCalls(); len(got) != 0 {
		t.Errorf("the bot's own removal was reported as a member's leave: %v", got)
	}
}
