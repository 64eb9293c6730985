package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
)

func TestCommandsBecomeRequests(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	dm := alice.PrivateChat()
	tests := []struct {
		name      string
		chat      telegramtest.Chat
		text      string
		command   string
		args      string
		post      string
		placeKind bridge.PlaceKind
	}{
		{"private command", dm, "/clm unlock Work s3cret", "unlock", "Work s3cret", "", bridge.Private},
		{"addressed to the bot in a group", team, "/clm@clm_bot chats", "chats", "", "", bridge.Public},
		{"multi-line keeps every line", dm, "/clm send Work line one\nline two\n\nline four", "send", "Work line one\nline two\n\nline four", "", bridge.Private},
		{"group post", team, `look {"e": 1, "n": "x", "d": "ab"}`, "", "", `look {"e": 1, "n": "x", "d": "ab"}`, bridge.Public},
		{"private line", dm, "just words", "", "", "just words", bridge.Private},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := h.tg.SendText(alice, tt.chat, tt.text)
			reqs := h.core.awaitRequests(t, i+1)
			r := reqs[i]
			if r.Command != tt.command || r.Args != tt.args || r.Post != tt.post {
				t.Errorf("request command=%q args=%q post=%q; want %q %q %q", r.Command, r.Args, r.Post, tt.command, tt.args, tt.post)
			}
			if r.Place.Kind != tt.placeKind || r.Place.ID != strconv.FormatInt(tt.chat.ID, 10) {
				t.Errorf("place = %+v", r.Place)
			}
			if r.Member != (bridge.Member{Platform: "telegram", ID: "1001", DisplayName: "Alice"}) {
				t.Errorf("member = %+v", r.Member)
			}
			if r.MessageID != strconv.Itoa(msg.MessageID) || r.Reply == nil || r.Caps.MaxPointerChars != 4096 {
				t.Errorf("message id %q (want %d), reply %v, caps %+v", r.MessageID, msg.MessageID, r.Reply, r.Caps)
			}
			if r.InputIsPrivate() != (tt.placeKind == bridge.Private) {
				t.Errorf("InputIsPrivate = %v", r.InputIsPrivate())
			}
		})
	}

	t.Run("a command for another bot is ignored", func(t *testing.T) {
		before, _ := h.core.requests()
		h.tg.SendText(alice, team, "/clm@other_bot unlock Work x")
		h.tg.SendText(alice, team, "/clm marker")
		reqs := h.core.awaitRequests(t, len(before)+1)
		if last := reqs[len(before)]; last.Command != "marker" {
			t.Errorf("the core saw %q before the marker", last.Command+last.Post)
		}
	})
}

func TestStartHelpAndCommandMenu(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	cmds := h.tg.Commands()
	for _, c := range []string{`"clm"`, `"start"`, `"help"`} {
		if !strings.Contains(cmds, c) {
			t.Errorf("setMyCommands lacks %s: %s", c, cmds)
		}
	}
	h.tg.SendText(alice, alice.PrivateChat(), "/start")
	h.tg.SendText(alice, team, "/help@clm_bot")
	sent := h.awaitCalls("sendMessage", 2)
	for _, c := range sent {
		if !strings.Contains(c.Params["text"], "/clm help") || !strings.Contains(c.Params["text"], "@clm_bot") {
			t.Errorf("intro does not point to the commands: %q", c.Params["text"])
		}
	}
	// The menu and /help are written from the core's schema.
	help := sent[0].Params["text"]
	if !strings.Contains(help, "Commands (type /clm") {
		help = sent[1].Params["text"]
	}
	for _, spec := range bridge.Schema() {
		if !strings.Contains(cmds, spec.Name) {
			t.Errorf("the /clm menu entry lacks %s: %s", spec.Name, cmds)
		}
		if line := strings.TrimSpace(spec.Name+" "+spec.Usage()) + " — " + spec.Summary; !strings.Contains(help, line) {
			t.Errorf("/help lacks %q", line)
		}
	}
	if reqs, _ := h.core.requests(); len(reqs) != 0 {
		t.Errorf("/start and /help reached the core: %+v", reqs)
	}
}

func TestPrivateAnswersAndDeletion(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		if err := req.Reply.DeleteRequest(ctx); err != nil {
			return err
		}
		return req.Reply.Private(ctx, "Work is unlocked.")
	})
	msg := h.tg.SendText(alice, alice.PrivateChat(), "/clm unlock Work s3cret")
	h.core.awaitRequests(t, 1)
	sent := h.awaitCalls("sendMessage", 1)
	if sent[0].Params["chat_id"] != "1001" || sent[0].Params["text"] != "Work is unlocked." {
		t.Errorf("confirmation: %+v", sent[0].Params)
	}
	if e, _ := h.tg.Message(alice.ID, msg.MessageID); !e.Deleted {
		t.Errorf("the message holding the secret was not deleted")
	}
	_, results := h.core.requests()
	if results[0] != nil {
		t.Errorf("responder failed: %v", results[0])
	}
}

func TestGroupPointerGetsReceiveButtonAndTapAnswersPrivately(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	const ref = "r-0123456789abcdef0123456789abcd" // 32 bytes, the core's maximum
	short := "Work · alice: see you at nine"
	long := strings.Repeat("a long secret message ", 20)
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		switch {
		case req.Post != "":
			return req.Reply.Public(ctx, bridge.PublicPost{Text: "A CLM pointer: tap Receive to open it.", ReceiveRef: ref})
		case req.ReceiveRef == ref && req.Member.ID == "1002":
			return req.Reply.Private(ctx, short)
		case req.ReceiveRef == ref && req.Member.ID == "1003":
			return req.Reply.Private(ctx, long)
		}
		return errors.New("unexpected request")
	})
	post := h.tg.SendText(alice, team, `{"e": 1, "n": "x", "d": "ab"}`)
	sent := h.awaitCalls("sendMessage", 1)
	if sent[0].Params["reply_to_message_id"] != strconv.Itoa(post.MessageID) {
		t.Errorf("the Receive post does not reply to the pointer: %+v", sent[0].Params)
	}
	bot := h.tg.BotMessages(team.ID)
	if len(bot) != 1 || len(bot[0].Buttons()) != 1 {
		t.Fatalf("want one bot message with one button, got %+v", bot)
	}
	button := bot[0].Buttons()[0]
	if button.Text != "🔓 Receive" || len(button.CallbackData) > 64 || !strings.HasSuffix(button.CallbackData, ref) {
		t.Fatalf("button = %+v", button)
	}

	t.Run("short text comes as the tapping member's alert", func(t *testing.T) {
		h.tg.PressButton(bob, bot[0], button.CallbackData)
		reqs := h.core.awaitRequests(t, 2)
		r := reqs[1]
		if r.Command != "receive" || r.ReceiveRef != ref || r.Place.Kind != bridge.Public || r.Quoted != post.Text {
			t.Errorf("receive request = %+v", r)
		}
		answers := h.awaitCalls("answerCallbackQuery", 1)
		if answers[0].Params["text"] != short || answers[0].Params["show_alert"] != "true" {
			t.Errorf("answer = %+v", answers[0].Params)
		}
	})
	t.Run("long text goes to the private chat", func(t *testing.T) {
		h.tg.PressButton(carol, bot[0], button.CallbackData)
		h.core.awaitRequests(t, 3)
		answers := h.awaitCalls("answerCallbackQuery", 2)
		if answers[1].Params["show_alert"] == "true" || strings.Contains(answers[1].Params["text"], "secret") {
			t.Errorf("the long text leaked into the alert: %+v", answers[1].Params)
		}
		var dm []string
		for _, m := range h.tg.BotMessages(carol.ID) {
			dm = append(dm, m.Text)
		}
		if strings.Join(dm, "") != long {
			t.Errorf("carol's DM = %q", dm)
		}
	})
	t.Run("a press that can no longer be answered gets the text privately", func(t *testing.T) {
		h.tg.FailNext("answerCallbackQuery", telegramtest.Failure{Status: 400,
			Description: "Bad Request: query is too old and response timeout expired or query ID is invalid"})
		before := len(h.tg.BotMessages(bob.ID))
		h.tg.PressButton(bob, bot[0], button.CallbackData)
		h.core.awaitRequests(t, 4)
		h.tg.Await(t, waitLimit, "bob's DM", func() bool { return len(h.tg.BotMessages(bob.ID)) > before })
		if got := h.tg.BotMessages(bob.ID); got[len(got)-1].Text != short {
			t.Errorf("bob's DM = %q", got[len(got)-1].Text)
		}
	})
	t.Run("the group saw no plaintext", func(t *testing.T) {
		for _, m := range h.tg.BotMessages(team.ID) {
			if strings.Contains(m.Text, "nine") || strings.Contains(m.Text, "secret") {
				t.Errorf("plaintext in the group: %q", m.Text)
			}
		}
	})
}

func TestReceiveAsReplyQuotesThePost(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	post := h.tg.SendText(alice, team, `{"e": 1, "n": "x", "d": "ab"}`)
	h.tg.ReplyText(bob, post, "/clm receive")
	reqs := h.core.awaitRequests(t, 2)
	if reqs[1].Command != "receive" || reqs[1].Args != "" || reqs[1].Quoted != post.Text {
		t.Errorf("reply receive = %+v", reqs[1])
	}
}

func TestSecretInGroupDeletedOrExplained(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	h.tg.SetAdmin(team, false)
	admin := telegramtest.Group(-100600, "Admins")
	var deleteErrs = make(chan error, 2)
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		deleteErrs <- req.Reply.DeleteRequest(ctx)
		return nil
	})
	t.Run("bot is admin: deleted", func(t *testing.T) {
		msg := h.tg.SendText(alice, admin, "/clm unlock Work s3cret")
		if err := <-deleteErrs; err != nil {
			t.Fatalf("DeleteRequest: %v", err)
		}
		if e, _ := h.tg.Message(admin.ID, msg.MessageID); !e.Deleted {
			t.Errorf("not deleted")
		}
	})
	t.Run("bot is not admin: ErrCannotDelete", func(t *testing.T) {
		msg := h.tg.SendText(alice, team, "/clm unlock Work s3cret")
		if err := <-deleteErrs; !errors.Is(err, bridge.ErrCannotDelete) {
			t.Fatalf("DeleteRequest = %v, want ErrCannotDelete", err)
		}
		if e, _ := h.tg.Message(team.ID, msg.MessageID); e.Deleted {
			t.Errorf("deleted although the bot is no admin")
		}
		if strings.Contains(h.logs.String(), "s3cret") {
			t.Errorf("the secret reached the log")
		}
	})
}

func TestMemberWhoNeverStartedTheBotGetsADeepLink(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	h.tg.NeverStarted(bob)
	errs := make(chan error, 4)
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		errs <- req.Reply.Private(ctx, "Work · alice: the plaintext")
		errs <- req.Reply.Private(ctx, "and a second private line")
		return nil
	})

	t.Run("from a command in the group", func(t *testing.T) {
		msg := h.tg.SendText(bob, team, "/clm receive")
		for range 2 {
			if err := <-errs; !errors.Is(err, bridge.ErrCannotReachPrivately) {
				t.Fatalf("Private = %v, want ErrCannotReachPrivately", err)
			}
		}
		// The notice is queued (a group's pacing must not hold up the
		// request): wait for it.
		h.tg.Await(t, waitLimit, "the notice in the group", func() bool { return len(h.tg.BotMessages(team.ID)) > 0 })
		bot := h.tg.BotMessages(team.ID)
		if len(bot) != 1 {
			t.Fatalf("want exactly one notice in the group, got %d", len(bot))
		}
		n := bot[0]
		if !strings.Contains(n.Text, "https://t.me/clm_bot?start=clm") || n.ReplyTo == nil || n.ReplyTo.MessageID != msg.MessageID {
			t.Errorf("notice = %+v", n)
		}
		if strings.Contains(n.Text, "plaintext") || strings.Contains(n.Text, "Work") {
			t.Errorf("the notice reveals something: %q", n.Text)
		}
	})

	t.Run("from a button: the press opens the deep link", func(t *testing.T) {
		h.core.setOn(func(ctx context.Context, req bridge.Request) error {
			if req.Post != "" {
				return req.Reply.Public(ctx, bridge.PublicPost{Text: "pointer", ReceiveRef: "r1"})
			}
			errs <- req.Reply.Private(ctx, strings.Repeat("too long for an alert ", 20))
			return nil
		})
		h.tg.SendText(alice, team, `{"e": 1, "n": "x", "d": "ab"}`)
		var withButton telegramtest.Message
		h.tg.Await(t, waitLimit, "the Receive post", func() bool {
			for _, m := range h.tg.BotMessages(team.ID) {
				if len(m.Buttons()) == 1 {
					withButton = m
					return true
				}
			}
			return false
		})
		h.tg.PressButton(bob, withButton, withButton.Buttons()[0].CallbackData)
		if err := <-errs; !errors.Is(err, bridge.ErrCannotReachPrivately) {
			t.Fatalf("Private = %v", err)
		}
		answers := h.awaitCalls("answerCallbackQuery", 1)
		if answers[0].Params["url"] != "https://t.me/clm_bot?start=clm" {
			t.Errorf("press answer = %+v", answers[0].Params)
		}
	})
}

func TestSendInGroupReachesCoreAsPublic(t *testing.T) {
	// The policy is the core's; the adapter must only say truthfully that a
	// group is public and that nothing was typed confidentially.
	h := startHarness(t, telegramtest.Options{}, nil)
	h.tg.SendText(alice, team, "/clm send Work hello everyone")
	r := h.core.awaitRequests(t, 1)[0]
	if r.Command != "send" || r.Place.Kind != bridge.Public || r.Confidential || r.InputIsPrivate() {
		t.Errorf("group send = %+v", r)
	}
}

func TestInlineModeOffersOnlyUnlockedChats(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil, withInlineDebounce(0))
	h.core.mu.Lock()
	h.core.unlocked["1001"] = []string{"Work", "Home"}
	h.core.mu.Unlock()

	tests := []struct {
		name   string
		query  string
		titles []string
	}{
		{"named unlocked chat", "Work: hello", []string{"Send as CLM pointer to Work"}},
		{"case-insensitive name", "work: hello", []string{"Send as CLM pointer to Work"}},
		{"locked chat offers nothing", "Secret: hello", nil},
		{"no chat named, two unlocked: ask which", "hello", nil},
		{"empty text offers nothing", "Work:", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := h.tg.InlineQuery(alice, tt.query)
			calls := h.awaitCalls("answerInlineQuery", i+1)
			c := calls[i]
			if c.Params["inline_query_id"] != id || c.Params["is_personal"] != "true" || c.Params["cache_time"] != "0" {
				t.Errorf("answer params = %+v", c.Params)
			}
			titles, texts := h.tg.InlineResults(id)
			if strings.Join(titles, "|") != strings.Join(tt.titles, "|") {
				t.Errorf("titles = %q, want %q", titles, tt.titles)
			}
			for _, text := range texts {
				if strings.Contains(text, "hello") || !strings.HasPrefix(text, `{"e": `) {
					t.Errorf("result text is not just a pointer: %q", text)
				}
			}
		})
	}

	t.Run("no chat named and one unlocked: that chat", func(t *testing.T) {
		h.core.mu.Lock()
		h.core.unlocked["1003"] = []string{"Solo"}
		h.core.mu.Unlock()
		id := h.tg.InlineQuery(carol, "hi there")
		h.awaitCalls("answerInlineQuery", len(tests)+1)
		if titles, _ := h.tg.InlineResults(id); strings.Join(titles, "|") != "Send as CLM pointer to Solo" {
			t.Errorf("carol was offered %q", titles)
		}
	})
	t.Run("the core's reason is shown, a failure of the core is not", func(t *testing.T) {
		for i, tc := range []struct {
			err        error
			want, deny string
		}{
			{&bridge.PointerError{Kind: bridge.PointerTooLong, Chat: "Work", Max: 12, Limit: 4096}, "at most 12 bytes", ""},
			{bridge.ErrClosed, "", "closed"},
		} {
			h.core.mu.Lock()
			h.core.offerErr = tc.err
			h.core.mu.Unlock()
			h.tg.InlineQuery(alice, "Work: hello")
			c := h.awaitCalls("answerInlineQuery", len(tests)+2+i)[len(tests)+1+i]
			if !strings.Contains(c.Params["button"], tc.want) || tc.deny != "" && strings.Contains(c.Params["button"], tc.deny) {
				t.Errorf("answer to %v: button %q", tc.err, c.Params["button"])
			}
		}
		h.core.mu.Lock()
		h.core.offerErr = nil
		h.core.mu.Unlock()
	})
	t.Run("bob, with nothing unlocked, is offered nothing", func(t *testing.T) {
		id := h.tg.InlineQuery(bob, "Work: hello")
		h.awaitCalls("answerInlineQuery", len(tests)+4)
		if titles, _ := h.tg.InlineResults(id); len(titles) != 0 {
			t.Errorf("bob was offered %q", titles)
		}
	})

	t.Run("choosing the result posts only the pointer", func(t *testing.T) {
		id := h.tg.InlineQuery(alice, "Work: meet at nine")
		h.awaitCalls("answerInlineQuery", len(tests)+5)
		posted, err := h.tg.ChooseInlineResult(alice, team, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(posted.Text, "nine") || posted.ViaBot == nil {
			t.Errorf("posted = %+v", posted)
		}
		reqs := h.core.awaitRequests(t, 1)
		if reqs[0].Post != posted.Text || reqs[0].Member.ID != "1001" || reqs[0].Place.Kind != bridge.Public {
			t.Errorf("the via-bot post reached the core as %+v", reqs[0])
		}
		rec := h.core.awaitRecorded(t, 1)
		if len(rec) != 1 || rec[0].member != "1001" || rec[0].pointer != posted.Text {
			t.Errorf("recorded as sent: %+v", rec)
		}
	})
}

// TestOnlyTheChosenInlineResultIsRecorded: every pause in typing gets an
// offer, but only the result the member sends (chosen_inline_result) is
// recorded as sent, once, and only for the member it was offered to.
func TestOnlyTheChosenInlineResultIsRecorded(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil, withInlineDebounce(0))
	h.core.mu.Lock()
	h.core.unlocked["1001"] = []string{"Work"}
	h.core.mu.Unlock()
	var queries []string
	for i, draft := range []string{"Work: the", "Work: the plan", "Work: the plan is set"} {
		q := h.tg.InlineQuery(alice, draft)
		h.awaitCalls("answerInlineQuery", i+1)
		queries = append(queries, q)
	}
	h.core.mu.Lock()
	made := h.core.made
	h.core.mu.Unlock()
	if made != 3 || len(h.core.recordedSent()) != 0 {
		t.Fatalf("%d offers made, %d recorded: offers must not be recorded", made, len(h.core.recordedSent()))
	}
	ids := h.tg.InlineResultIDs(queries[2])
	if len(ids) != 1 || ids[0] == h.tg.InlineResultIDs(queries[1])[0] {
		t.Fatalf("result ids %v are not distinct per offer", ids)
	}

	// bob claims alice's result, and alice a result never offered: nothing.
	h.tg.Inject(telegramtest.Update{ChosenInlineResult: &telegramtest.ChosenInlineResult{ResultID: ids[0], From: bob}})
	h.tg.Inject(telegramtest.Update{ChosenInlineResult: &telegramtest.ChosenInlineResult{ResultID: "made-up", From: alice}})
	posted, err := h.tg.ChooseInlineResult(alice, team, queries[2], 0)
	if err != nil {
		t.Fatal(err)
	}
	// The same choice delivered twice is recorded once.
	h.tg.Inject(telegramtest.Update{ChosenInlineResult: &telegramtest.ChosenInlineResult{ResultID: ids[0], From: alice}})
	// Updates are handled in order, and a record is made in the member's
	// private-chat lane: once a later private message of each of them
	// reached the core, every record they could cause has been made.
	h.tg.SendText(alice, alice.PrivateChat(), "/clm chats")
	h.tg.SendText(bob, bob.PrivateChat(), "/clm chats")
	h.core.awaitRequests(t, 3) // the via-bot post in the group, and those two
	rec := h.core.recordedSent()
	if len(rec) != 1 || rec[0].member != "1001" || rec[0].pointer != posted.Text {
		t.Fatalf("recorded %+v, want alice's last pointer once", rec)
	}
}

func TestPrivacyModeIsLoggedOnceAndInStatus(t *testing.T) {
	tests := []struct {
		name    string
		readAll bool
	}{
		{"privacy mode on", false},
		{"privacy mode off", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHarness(t, telegramtest.Options{ReadAllGroupMessages: tt.readAll}, nil)
			st := h.a.Status()
			if st.PrivacyMode == tt.readAll || st.Username != "clm_bot" || !st.Connected || st.Webhook {
				t.Errorf("status = %+v", st)
			}
			n := strings.Count(h.logs.String(), "privacy mode is on")
			if want := map[bool]int{false: 1, true: 0}[tt.readAll]; n != want {
				t.Errorf("privacy notice logged %d times, want %d", n, want)
			}
		})
	}
}

func TestNotifierReachesMembersPrivately(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	n := h.core.notifiers["telegram"]
	if n == nil {
		t.Fatal("the adapter did not register as the telegram notifier")
	}
	ctx := context.Background()
	if err := n.NotifyPrivately(ctx, bridge.Member{Platform: "telegram", ID: "1002"}, "a pointer opened in Work"); err != nil {
		t.Fatal(err)
	}
	if msgs := h.tg.BotMessages(bob.ID); len(msgs) != 1 || msgs[0].Text != "a pointer opened in Work" {
		t.Errorf("bob's DM = %+v", msgs)
	}
	h.tg.NeverStarted(carol)
	if err := n.NotifyPrivately(ctx, bridge.Member{Platform: "telegram", ID: "1003"}, "x"); !errors.Is(err, bridge.ErrCannotReachPrivately) {
		t.Errorf("notify carol = %v", err)
	}
	if err := n.NotifyPrivately(ctx, bridge.Member{Platform: "discord", ID: "1"}, "x"); err == nil {
		t.Errorf("a discord member was notified through telegram")
	}
}

func TestPrivateFileIsADocumentInTheDM(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		return req.Reply.PrivateFile(ctx, bridge.File{Name: "work.json", Content: []byte(`{"chat":"Work"}`)})
	})
	h.tg.SendText(alice, team, "/clm export Work")
	calls := h.awaitCalls("sendDocument", 1)
	f := calls[0].Files["document"]
	if calls[0].Params["chat_id"] != "1001" || f.Name != "work.json" || string(f.Content) != `{"chat":"Work"}` {
		t.Errorf("sendDocument = %+v %+v", calls[0].Params, f)
	}
}

func TestLongPrivateTextIsSplitNotTruncated(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	text := strings.Repeat("0123456789 ", 1000) // 11000 characters
	h.core.setOn(func(ctx context.Context, req bridge.Request) error { return req.Reply.Private(ctx, text) })
	h.tg.SendText(alice, alice.PrivateChat(), "/clm history Work")
	h.awaitCalls("sendMessage", 3)
	var got strings.Builder
	for _, m := range h.tg.BotMessages(alice.ID) {
		got.WriteString(m.Text)
	}
	if got.String() != text {
		t.Errorf("the text came back changed (%d of %d characters)", got.Len(), len(text))
	}
}

func TestReceiveButtonDataIsTheRefOnly(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		return req.Reply.Public(ctx, bridge.PublicPost{Text: "pointer", ReceiveRef: "abc"})
	})
	h.tg.SendText(alice, team, "{}")
	calls := h.awaitCalls("sendMessage", 1)
	var markup struct {
		Keyboard [][]struct {
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(calls[0].Params["reply_markup"]), &markup); err != nil {
		t.Fatal(err)
	}
	if got := markup.Keyboard[0][0].Data; got != "\fclmrecv|abc" {
		t.Errorf("callback data = %q", got)
	}
}

// gateClock's Sleep waits until the test opens the gate.
type gateClock struct{ gate chan struct{} }

func (gateClock) Now() time.Time { return time.Now() }

func (g gateClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-g.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestInlineQueriesTypedOverAreNotAnswered(t *testing.T) {
	// Every answer makes a pointer and an API call: only the query the
	// member paused on is answered, not each keystroke's.
	gc := gateClock{gate: make(chan struct{})}
	h := startHarness(t, telegramtest.Options{}, nil, withClock(gc), withInlineDebounce(time.Hour))
	h.core.mu.Lock()
	h.core.unlocked["1001"] = []string{"Work"}
	h.core.mu.Unlock()
	from := &tele.User{ID: alice.ID, FirstName: "Alice"}
	for i, text := range []string{"Work: he", "Work: hell", "Work: hello"} {
		c := h.a.bot.NewContext(tele.Update{Query: &tele.Query{ID: "q" + strconv.Itoa(i), Sender: from, Text: text}})
		if err := h.a.onQuery(c); err != nil {
			t.Fatal(err)
		}
	}
	close(gc.gate)
	calls := h.awaitCalls("answerInlineQuery", 1)
	if len(calls) != 1 || calls[0].Params["inline_query_id"] != "q2" {
		t.Fatalf("answered %+v, want only q2", calls)
	}
	// The lane has run every query by now; wait for it to drain and check
	// that no late answer came.
	h.stop()
	<-h.done
	h.done <- nil
	if n := len(h.tg.Calls("answerInlineQuery")); n != 1 {
		t.Errorf("%d inline answers, want 1", n)
	}
}
