package telegramstory_test

// Stories of the holes found by trying to break the bridge: edits and
// captions, members who leave, and members Telegram answers "chat not
// found" for. They run the real wiring, like story_test.go.

import (
	"strconv"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
)

var (
	dave = telegramtest.User{ID: 2004, FirstName: "dave"}
	erin = telegramtest.User{ID: 2005, FirstName: "erin"}
)

// pointerFor has member make a pointer of Work for text with a private
// /clm send and returns the pointer.
func (w *world) pointerFor(member telegramtest.User, text string) string {
	w.t.Helper()
	before := len(w.tg.BotMessages(member.ID))
	w.tg.SendText(member, member.PrivateChat(), "/clm send Work "+text)
	var pointer string
	w.tg.Await(w.t, waitLimit, member.FirstName+"'s pointer", func() bool {
		for _, m := range w.tg.BotMessages(member.ID)[before:] {
			if strings.HasPrefix(m.Text, `{"e": `) {
				pointer = m.Text
				return true
			}
		}
		return false
	})
	return pointer
}

// TestStoryASecretEditedIntoAGroupMessageIsBurned: alice edits a harmless
// group message into /clm unlock Work <secret>: the message is deleted,
// she is warned privately, nothing is unlocked, nothing is repeated.
func TestStoryASecretEditedIntoAGroupMessageIsBurned(t *testing.T) {
	w := startWorld(t, telegramtest.Options{})
	w.say(alice, alice.PrivateChat(), "/start", alice.ID)
	msg := w.tg.SendText(alice, team, "good morning")

	before := len(w.tg.BotMessages(alice.ID))
	if _, err := w.tg.Edit(alice, msg, "/clm unlock Work "+workSecret); err != nil {
		t.Fatal(err)
	}
	msgs := w.botMessagesTo(alice.ID, before+1)
	if warning := msgs[len(msgs)-1].Text; !strings.Contains(warning, "🔥") || strings.Contains(warning, workSecret) {
		t.Errorf("alice's warning: %q", warning)
	}
	w.tg.Await(t, waitLimit, "the edited message's deletion", func() bool {
		e, _ := w.tg.Message(team.ID, msg.MessageID)
		return e.Deleted
	})
	if got := w.core.UnlockedChats(bridge.Member{Platform: "telegram", ID: strconv.FormatInt(alice.ID, 10)}); len(got) != 0 {
		t.Errorf("unlocked %v", got)
	}
	for _, m := range w.tg.BotMessages(team.ID) {
		if strings.Contains(m.Text, workSecret) {
			t.Errorf("the bot repeated the secret in the group: %q", m.Text)
		}
	}
}

// TestStoryAPointerInAPhotoCaption: alice posts a photo whose caption is a
// pointer: it gets a Receive button like any pointer; bob opens it with the
// button, carol by replying /clm receive, dave by replying with a photo
// captioned /clm receive, erin by sending the photo to the bot privately.
// The group never sees the text.
func TestStoryAPointerInAPhotoCaption(t *testing.T) {
	w := startWorld(t, telegramtest.Options{})
	for _, m := range []telegramtest.User{alice, bob, carol, dave, erin} {
		w.unlockWork(m)
	}
	pointer := w.pointerFor(alice, launchText)
	photo := w.tg.SendPhoto(alice, team, pointer)
	btnMsg, data := w.receiveButton(team.ID)
	if btnMsg.ReplyTo == nil || btnMsg.ReplyTo.MessageID != photo.MessageID {
		t.Errorf("the Receive button does not answer the photo: %+v", btnMsg)
	}
	want := "📨 Work · alice: " + launchText

	t.Run("bob presses Receive", func(t *testing.T) {
		w.press(bob, btnMsg, data)
		if !strings.Contains(w.privateTo(bob), want) {
			t.Errorf("bob was shown %q", w.privateTo(bob))
		}
	})
	t.Run("carol replies /clm receive", func(t *testing.T) {
		before := len(w.tg.BotMessages(carol.ID))
		w.tg.ReplyText(carol, photo, "/clm receive")
		msgs := w.botMessagesTo(carol.ID, before+1)
		if !strings.Contains(msgs[len(msgs)-1].Text, want) {
			t.Errorf("carol was shown %q", msgs[len(msgs)-1].Text)
		}
	})
	t.Run("dave replies with a photo captioned /clm receive", func(t *testing.T) {
		before := len(w.tg.BotMessages(dave.ID))
		w.tg.ReplyPhoto(dave, photo, "/clm receive")
		msgs := w.botMessagesTo(dave.ID, before+1)
		if !strings.Contains(msgs[len(msgs)-1].Text, want) {
			t.Errorf("dave was shown %q", msgs[len(msgs)-1].Text)
		}
	})
	t.Run("erin sends the photo to the bot privately", func(t *testing.T) {
		before := len(w.tg.BotMessages(erin.ID))
		w.tg.SendPhoto(erin, erin.PrivateChat(), pointer)
		msgs := w.botMessagesTo(erin.ID, before+1)
		if !strings.Contains(msgs[len(msgs)-1].Text, want) {
			t.Errorf("erin was shown %q", msgs[len(msgs)-1].Text)
		}
	})
	if g := w.groupText(team.ID); strings.Contains(g, launchText) {
		t.Errorf("plaintext in the group:\n%s", g)
	}
}

// TestStoryAMemberWhoLeftIsNoLongerWatched: bob watches Team and gets
// alice's pointers from there privately, until he leaves the group; the
// next pointer posted there is not opened for him. Both ways Telegram says
// so count: the service message alone (the bot is no admin, so it gets no
// chat_member update) and both together.
func TestStoryAMemberWhoLeftIsNoLongerWatched(t *testing.T) {
	for _, tc := range []struct {
		name  string
		admin bool
	}{
		{"service message only", false},
		{"service message and chat_member", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := startWorld(t, telegramtest.Options{})
			w.tg.SetAdmin(team, tc.admin)
			w.unlockWork(alice)
			w.unlockWork(bob)
			w.say(bob, bob.PrivateChat(), "/clm watch on", bob.ID)

			// bob opens a first pointer in Team (which confirms his secret
			// and shows him there), then watch brings him the next one.
			w.tg.SendText(alice, team, w.pointerFor(alice, "first"))
			btnMsg, data := w.receiveButton(team.ID)
			w.press(bob, btnMsg, data)
			before := len(w.tg.BotMessages(bob.ID))
			w.tg.SendText(alice, team, w.pointerFor(alice, "second"))
			msgs := w.botMessagesTo(bob.ID, before+1)
			if got := msgs[len(msgs)-1].Text; !strings.Contains(got, "second") || !strings.Contains(got, "posted in Team") {
				t.Fatalf("bob's watch delivery: %q", got)
			}

			w.tg.Leave(bob, team)
			buttons := len(w.tg.BotMessages(team.ID))
			third := w.tg.SendText(alice, team, w.pointerFor(alice, "third"))
			w.tg.Await(t, waitLimit, "the Receive post of the third pointer", func() bool {
				msgs := w.tg.BotMessages(team.ID)
				return len(msgs) > buttons && msgs[len(msgs)-1].ReplyTo != nil && msgs[len(msgs)-1].ReplyTo.MessageID == third.MessageID
			})
			// Stopping finishes the handling of that post (and any watch
			// delivery it makes) before the transcript is read.
			w.stop()
			if got := w.privateTo(bob); strings.Contains(got, "third") {
				t.Errorf("bob got a pointer posted after he left Team:\n%s", got)
			}
		})
	}
}

// TestStoryChatNotFoundIsLikeNeverStarted: for bob, who never started the
// bot, Telegram answers a private message with 400 "chat not found". His
// /clm unlock typed in the group is deleted and he is told in the group,
// with the start link and nothing else, that the bot cannot write to him.
func TestStoryChatNotFoundIsLikeNeverStarted(t *testing.T) {
	w := startWorld(t, telegramtest.Options{})
	w.tg.NeverStartedNotFound(bob)
	msg := w.tg.SendText(bob, team, "/clm unlock Work "+workSecret)
	w.tg.Await(t, waitLimit, "the secret's deletion", func() bool {
		e, _ := w.tg.Message(team.ID, msg.MessageID)
		return e.Deleted
	})
	notice := w.botMessagesTo(team.ID, 1)[0].Text
	if !strings.Contains(notice, "https://t.me/clm_bot?start=clm") {
		t.Errorf("the group was told %q", notice)
	}
	for _, m := range w.tg.BotMessages(team.ID) {
		if strings.Contains(m.Text, workSecret) || strings.Contains(m.Text, "Work") {
			t.Errorf("the bot told the group %q", m.Text)
		}
	}
}
