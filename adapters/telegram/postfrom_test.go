package telegram

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
)

// sendingCore answers a private /clm send the way the core does (a head
// line, then the pointer alone), and a group post holding a pointer with a
// Receive post.
func sendingCore(pointer string) func(ctx context.Context, req bridge.Request) error {
	return func(ctx context.Context, req bridge.Request) error {
		switch {
		case req.Command == "send" && req.Place.Kind == bridge.Private:
			if err := req.Reply.Private(ctx, "📤 Your pointer for Work: paste or forward it where the chat's members read."); err != nil {
				return err
			}
			return req.Reply.Private(ctx, pointer)
		case req.Post != "" && req.Place.Kind == bridge.Public && strings.Contains(req.Post, `{"e"`):
			return req.Reply.Public(ctx, bridge.PublicPost{Text: "🔓 A CLM pointer", ReceiveRef: "r" + req.MessageID})
		}
		return nil
	}
}

// lastWithButtons returns the newest bot message in chat that has buttons.
func lastWithButtons(h *harness, chat int64) telegramtest.Message {
	h.t.Helper()
	var m telegramtest.Message
	h.tg.Await(h.t, waitLimit, "a message with buttons", func() bool {
		msgs := h.tg.BotMessages(chat)
		for i := len(msgs) - 1; i >= 0; i-- {
			if len(msgs[i].Buttons()) > 0 {
				m = msgs[i]
				return true
			}
		}
		return false
	})
	return m
}

// pressAnswer presses data on msg as from and returns the press's answer.
func pressAnswer(h *harness, from telegramtest.User, msg telegramtest.Message, data string) telegramtest.Call {
	h.t.Helper()
	id := h.tg.PressButton(from, msg, data)
	var ans telegramtest.Call
	h.tg.Await(h.t, waitLimit, "the press's answer", func() bool {
		for _, c := range h.tg.Calls("answerCallbackQuery") {
			if c.OK && c.Params["callback_query_id"] == id {
				ans = c
				return true
			}
		}
		return false
	})
	return ans
}

// TestSendFromPrivateChoosingTheGroup: a member's private /clm send gets a
// "Post in" button per group where the bot saw them; pressing it posts only
// the pointer there, once, with the usual Receive post; only that member
// can use it, once, for 15 minutes. With no group known, the member is
// told how to get one.
func TestSendFromPrivateChoosingTheGroup(t *testing.T) {
	const pointer = `{"e": 1700000000, "n": "AAECAwQFBgcICQoL", "d": "00ff00ff"}`
	fc := newFakeClock()
	h := startHarness(t, telegramtest.Options{}, nil, withClock(fc))
	h.core.setOn(sendingCore(pointer))
	ops := telegramtest.Group(-100700, "Ops")
	dm := alice.PrivateChat()

	t.Run("no group known: the pointer and a hint", func(t *testing.T) {
		h.tg.SendText(alice, dm, "/clm send Work hello there")
		h.tg.Await(t, waitLimit, "three private messages", func() bool { return len(h.tg.BotMessages(alice.ID)) >= 3 })
		msgs := h.tg.BotMessages(alice.ID)
		if msgs[1].Text != pointer || !strings.Contains(msgs[2].Text, "add me to the group") || !strings.Contains(msgs[2].Text, "@clm_bot") {
			t.Errorf("alice got %q, %q", msgs[1].Text, msgs[2].Text)
		}
		for _, m := range msgs {
			if len(m.Buttons()) > 0 {
				t.Errorf("a button with no group known: %+v", m)
			}
		}
	})

	// alice is seen in Team (a command) and then in Ops (a post).
	h.tg.SendText(alice, team, "/clm chats")
	h.tg.SendText(alice, ops, "good morning")
	h.core.awaitRequests(t, 3)
	before := len(h.tg.BotMessages(alice.ID))
	h.tg.SendText(alice, dm, "/clm send Work hello there")
	offer := lastWithButtons(h, alice.ID)
	if got := len(h.tg.BotMessages(alice.ID)); got != before+2 {
		t.Errorf("alice got %d messages, want the head and the pointer (no hint)", got-before)
	}
	buttons := offer.Buttons()
	if offer.Text != pointer || len(buttons) != 2 || buttons[0].Text != "📤 Post in Ops" || buttons[1].Text != "📤 Post in Team" {
		t.Fatalf("the pointer's message: %q with %+v", offer.Text, buttons)
	}
	teamData := buttons[1].CallbackData
	for _, b := range buttons {
		if len(b.CallbackData) > 64 || strings.Contains(b.CallbackData, "ff00") {
			t.Errorf("callback data %q holds more than a token", b.CallbackData)
		}
	}

	t.Run("another member's press is refused", func(t *testing.T) {
		ans := pressAnswer(h, bob, offer, teamData)
		if !strings.Contains(ans.Params["text"], "belongs to the member") || ans.Params["show_alert"] != "true" {
			t.Errorf("bob's press: %v", ans.Params)
		}
		if n := len(h.tg.BotMessages(team.ID)); n != 0 {
			t.Errorf("bob's press posted %d messages in Team", n)
		}
	})

	t.Run("alice's press posts the pointer alone, with a Receive post", func(t *testing.T) {
		ans := pressAnswer(h, alice, offer, teamData)
		if ans.Params["text"] != "📤 Posted in Team." {
			t.Errorf("alice's press: %v", ans.Params)
		}
		receive := lastWithButtons(h, team.ID)
		msgs := h.tg.BotMessages(team.ID)
		if len(msgs) != 2 || msgs[0].Text != pointer || len(msgs[0].Buttons()) != 0 {
			t.Fatalf("Team got %+v", msgs)
		}
		if receive.ReplyTo == nil || receive.ReplyTo.MessageID != msgs[0].MessageID || receive.Buttons()[0].Text != "🔓 Receive" {
			t.Errorf("the Receive post: %+v", receive)
		}
		reqs, _ := h.core.requests()
		last := reqs[len(reqs)-1]
		if last.Post != pointer || last.Place.Kind != bridge.Public || last.Place.ID != strconv.FormatInt(team.ID, 10) ||
			last.Member.ID != "1001" || last.MessageID != strconv.Itoa(msgs[0].MessageID) {
			t.Errorf("the core saw %+v", last)
		}
	})

	t.Run("a button works once", func(t *testing.T) {
		ans := pressAnswer(h, alice, offer, teamData)
		if !strings.Contains(ans.Params["text"], "no longer works") {
			t.Errorf("second press: %v", ans.Params)
		}
		if n := len(h.tg.BotMessages(team.ID)); n != 2 {
			t.Errorf("Team has %d bot messages after a second press, want 2", n)
		}
	})

	t.Run("a button expires", func(t *testing.T) {
		fc.mu.Lock()
		fc.now = fc.now.Add(postTokenTTL)
		fc.mu.Unlock()
		ans := pressAnswer(h, alice, offer, buttons[0].CallbackData)
		if !strings.Contains(ans.Params["text"], "no longer works") {
			t.Errorf("a press after 15 minutes: %v", ans.Params)
		}
		if n := len(h.tg.BotMessages(ops.ID)); n != 0 {
			t.Errorf("an expired button posted in Ops")
		}
	})

	t.Run("a group the bot was removed from is forgotten", func(t *testing.T) {
		before := len(h.tg.BotMessages(alice.ID))
		h.tg.SendText(alice, dm, "/clm send Work hello again")
		h.tg.Await(t, waitLimit, "a fresh offer", func() bool { return len(h.tg.BotMessages(alice.ID)) == before+2 })
		fresh := lastWithButtons(h, alice.ID)
		if len(fresh.Buttons()) != 2 {
			t.Fatalf("the fresh offer: %+v", fresh.Buttons())
		}
		h.tg.FailNext("sendMessage", telegramtest.Forbidden("Forbidden: bot was kicked from the supergroup chat"))
		ans := pressAnswer(h, alice, fresh, fresh.Buttons()[0].CallbackData)
		if !strings.Contains(ans.Params["text"], "could not post in Ops") || !strings.Contains(ans.Params["text"], "paste the pointer") {
			t.Errorf("press answer: %v", ans.Params)
		}
		if got := h.a.groups.list(alice.ID, fc.Now()); len(got) != 1 || got[0].id != team.ID {
			t.Errorf("alice's groups: %+v", got)
		}
	})

	t.Run("the groups saw no plaintext", func(t *testing.T) {
		for _, g := range []int64{team.ID, ops.ID} {
			for _, e := range h.tg.Transcript(g) {
				if e.ByBot && strings.Contains(e.Text, "hello") {
					t.Errorf("the bot posted %q", e.Text)
				}
			}
		}
	})
}

func TestMemberGroupsAreBounded(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	chat := func(id int64) *tele.Chat {
		return &tele.Chat{ID: id, Type: tele.ChatSuperGroup, Title: "g" + strconv.FormatInt(-id, 10)}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, g *memberGroups)
	}{
		{"most recent first, at most five", func(t *testing.T, g *memberGroups) {
			for i := range int64(7) {
				g.see(1, chat(-10-i), t0.Add(time.Duration(i)*time.Second))
			}
			g.see(1, chat(-10), t0.Add(time.Minute)) // seen again
			got := g.list(1, t0.Add(time.Hour))
			if len(got) != maxGroupButtons || got[0].id != -10 || got[1].id != -16 {
				t.Errorf("list = %+v", got)
			}
		}},
		{"at most maxGroupsPerMember kept", func(t *testing.T, g *memberGroups) {
			for i := range int64(3 * maxGroupsPerMember) {
				g.see(1, chat(-10-i), t0)
			}
			if _, n := g.size(); n != maxGroupsPerMember {
				t.Errorf("%d groups kept", n)
			}
		}},
		{"private chats and channels are not groups", func(t *testing.T, g *memberGroups) {
			g.see(1, &tele.Chat{ID: 1, Type: tele.ChatPrivate}, t0)
			g.see(1, &tele.Chat{ID: -5, Type: tele.ChatChannel}, t0)
			if m, _ := g.size(); m != 0 {
				t.Errorf("remembered %d members", m)
			}
		}},
		{"forgotten after groupMemory", func(t *testing.T, g *memberGroups) {
			g.see(1, chat(-10), t0)
			if got := g.list(1, t0.Add(groupMemory)); len(got) != 0 {
				t.Errorf("list = %+v", got)
			}
		}},
		{"at most maxGroupMembers members, the stalest forgotten", func(t *testing.T, g *memberGroups) {
			for i := range int64(maxGroupMembers + 10) {
				g.see(i+1, chat(-10), t0.Add(time.Duration(i)*time.Second))
			}
			if m, _ := g.size(); m != maxGroupMembers {
				t.Errorf("%d members kept", m)
			}
			if len(g.list(1, t0)) != 0 || len(g.list(maxGroupMembers+10, t0)) != 1 {
				t.Errorf("the wrong members were forgotten")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newMemberGroups()) })
	}
}

func TestPostTokensAreBoundedAndSingleUse(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	p := newPostTokens()
	tok := p.put(postOffer{user: 1, group: -5, text: "P"}, t0)
	if _, res := p.take(tok, 2, t0); res != tokenNotYours {
		t.Errorf("another member's take = %v", res)
	}
	if o, res := p.take(tok, 1, t0); res != tokenOK || o.text != "P" || o.group != -5 {
		t.Errorf("take = %+v, %v", o, res)
	}
	if _, res := p.take(tok, 1, t0); res != tokenGone {
		t.Errorf("a second take = %v", res)
	}
	old := p.put(postOffer{user: 1, group: -5, text: "P"}, t0)
	if _, res := p.take(old, 1, t0.Add(postTokenTTL)); res != tokenGone {
		t.Errorf("an expired take = %v", res)
	}
	first := p.put(postOffer{user: 3, text: "P"}, t0)
	for range 2 * maxPostTokensPerMember {
		p.put(postOffer{user: 3, text: "P"}, t0)
	}
	if n := p.size(); n != maxPostTokensPerMember {
		t.Errorf("%d tokens kept for one member", n)
	}
	if _, res := p.take(first, 3, t0); res != tokenGone {
		t.Errorf("a member's oldest token still works")
	}
	for i := range maxPostTokens + 5 {
		p.put(postOffer{user: int64(100 + i), text: "P"}, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := p.size(); n > maxPostTokens {
		t.Errorf("%d tokens kept, more than %d", n, maxPostTokens)
	}
}

// FuzzPointersOnly: what a "Post in" button posts is the pointers of the
// member's message and nothing else: every line is one pointer, as the
// message held it.
func FuzzPointersOnly(f *testing.F) {
	f.Add(`📤 {"e": 1700000000, "n": "AAEC", "d": "00ff"} secret words`)
	f.Add(`{"e": 1, "n": "x", "d": "ab"}{"e": 2, "n": "y", "d": "cd"}`)
	f.Add("no pointer here")
	f.Fuzz(func(t *testing.T, text string) {
		out, ok := pointersOnly(text)
		want := clm.Extract(text)
		if ok != (len(want) > 0) {
			t.Fatalf("ok = %v with %d pointers in %q", ok, len(want), text)
		}
		if !ok {
			return
		}
		lines := strings.Split(out, "\n")
		if len(lines) != len(want) {
			t.Fatalf("%d lines for %d pointers: %q", len(lines), len(want), out)
		}
		for i, line := range lines {
			got := clm.Extract(line)
			if len(got) != 1 || got[0] != want[i] || got[0].String() != line {
				t.Fatalf("line %q is not exactly pointer %d of %q", line, i, text)
			}
		}
	})
}
