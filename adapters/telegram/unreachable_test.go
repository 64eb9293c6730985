package telegram

import (
	"context"
	"errors"
	"strings"
	"testing"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
)

// TestChatNotFoundForAMemberIsLikeNeverStarted: Telegram answers a private
// message to a user who never started the bot with 403 or with 400 "chat
// not found"; either way the member gets the start link in the group
// (revealing nothing), a press opens that link, and a notification says
// the member cannot be reached.
func TestChatNotFoundForAMemberIsLikeNeverStarted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		refuse func(*telegramtest.Server, telegramtest.User)
	}{
		{"403 bot can't initiate conversation", (*telegramtest.Server).NeverStarted},
		{"400 chat not found", (*telegramtest.Server).NeverStartedNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHarness(t, telegramtest.Options{}, nil)
			tc.refuse(h.tg, bob)
			errs := make(chan error, 4)
			h.core.setOn(func(ctx context.Context, req bridge.Request) error {
				if req.Post != "" {
					return req.Reply.Public(ctx, bridge.PublicPost{Text: "pointer", ReceiveRef: "r1"})
				}
				errs <- req.Reply.Private(ctx, strings.Repeat("too long for an alert ", 20))
				return nil
			})

			msg := h.tg.SendText(bob, team, "/clm unlock Work s3cret")
			if err := <-errs; !errors.Is(err, bridge.ErrCannotReachPrivately) {
				t.Fatalf("Private = %v, want ErrCannotReachPrivately", err)
			}
			h.tg.Await(t, waitLimit, "the notice in the group", func() bool { return len(h.tg.BotMessages(team.ID)) > 0 })
			n := h.tg.BotMessages(team.ID)[0]
			if !strings.Contains(n.Text, "https://t.me/clm_bot?start=clm") || n.ReplyTo == nil || n.ReplyTo.MessageID != msg.MessageID {
				t.Errorf("notice = %+v", n)
			}
			if strings.Contains(n.Text, "s3cret") || strings.Contains(n.Text, "Work") {
				t.Errorf("the notice reveals something: %q", n.Text)
			}

			h.tg.SendText(alice, team, `{"e": 1, "n": "x", "d": "ab"}`)
			withButton := lastWithButtons(h, team.ID)
			id := h.tg.PressButton(bob, withButton, withButton.Buttons()[0].CallbackData)
			if err := <-errs; !errors.Is(err, bridge.ErrCannotReachPrivately) {
				t.Fatalf("Private after a press = %v", err)
			}
			var answer telegramtest.Call
			h.tg.Await(t, waitLimit, "the press's answer", func() bool {
				for _, c := range h.tg.Calls("answerCallbackQuery") {
					if c.OK && c.Params["callback_query_id"] == id {
						answer = c
						return true
					}
				}
				return false
			})
			if answer.Params["url"] != "https://t.me/clm_bot?start=clm" {
				t.Errorf("press answer = %+v", answer.Params)
			}

			err := h.a.NotifyPrivately(context.Background(), bridge.Member{Platform: "telegram", ID: "1002"}, "watched")
			if !errors.Is(err, bridge.ErrCannotReachPrivately) {
				t.Errorf("NotifyPrivately = %v, want ErrCannotReachPrivately", err)
			}
		})
	}
}

// TestChatNotFoundMeansUnreachableOnlyForAPrivateChat: "chat not found"
// says a member cannot be written to only when the message went to their
// private chat; for a group it means the group is gone, and the member
// who pressed "Post in" there is told that, not sent a start link.
func TestChatNotFoundMeansUnreachableOnlyForAPrivateChat(t *testing.T) {
	red := newRedactor("")
	tests := []struct {
		name               string
		err                error
		forbidden, unreach bool
	}{
		{"403", tele.ErrNotStartedByUser, true, true},
		{"400 chat not found", tele.ErrChatNotFound, false, true},
		{"400 chat not found, unknown to telebot", errors.New("telegram: chat not found (400)"), false, true},
		{"400 another", tele.ErrEmptyText, false, false},
		{"404", tele.ErrNotFound, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ae := classify("sendMessage", tt.err, red)
			if isForbidden(ae) != tt.forbidden || unreachablePrivately(ae) != tt.unreach {
				t.Errorf("forbidden %v, unreachable privately %v; want %v, %v",
					isForbidden(ae), unreachablePrivately(ae), tt.forbidden, tt.unreach)
			}
		})
	}

	t.Run("a group that is gone", func(t *testing.T) {
		const pointer = `{"e": 1700000000, "n": "AAECAwQFBgcICQoL", "d": "00ff00ff"}`
		h := startHarness(t, telegramtest.Options{}, nil)
		h.core.setOn(sendingCore(pointer))
		h.tg.SendText(alice, team, "/clm chats")
		h.core.awaitRequests(t, 1)
		h.tg.SendText(alice, alice.PrivateChat(), "/clm send Work hello")
		offer := lastWithButtons(h, alice.ID)
		h.tg.GroupGone(team)
		ans := pressAnswer(h, alice, offer, offer.Buttons()[0].CallbackData)
		if !strings.Contains(ans.Params["text"], "I could not post in Team") || ans.Params["url"] != "" {
			t.Errorf("alice's press was answered %v", ans.Params)
		}
		if n := len(h.tg.BotMessages(team.ID)); n != 0 {
			t.Errorf("%d messages in the gone group", n)
		}
	})
}
