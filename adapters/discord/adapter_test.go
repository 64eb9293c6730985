package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
)

func TestRegistersCommandsInTheGuildOrGlobally(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, guild, scope string }{{"guild", "77", "77"}, {"global", "", "global"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, Config{GuildID: tc.guild}, newFakeCore())
			cmds := r.fake.Commands(tc.scope)
			if len(cmds) != 2 || cmds[0]["name"] != "clm" || cmds[1]["name"] != ContextMenuName {
				t.Fatalf("registered %v", cmds)
			}
			if tc.guild != "" && len(r.fake.Commands("global")) != 0 {
				t.Error("registered globally although a guild is configured")
			}
			if !strings.Contains(r.a.Status().Detail, "Message Content intent off") {
				t.Errorf("status %q does not say the bot sees only commands", r.a.Status().Detail)
			}
			if r.fake.Intents()&discordtest.IntentMessageContent != 0 {
				t.Error("asked for the privileged Message Content intent without CLM_DISCORD_MESSAGE_CONTENT")
			}
			if !r.a.Status().Connected {
				t.Error("status says disconnected")
			}
		})
	}
}

func TestAutocompleteSuggestsOnlyTheMembersChats(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.names[alice.ID] = []string{"Work", "Family", "Homework"}
	core.names[bob.ID] = []string{"Workshop"}
	r := start(t, Config{GuildID: "77"}, core)
	in := r.fake.Interact(t, discordtest.Autocomplete(alice, general, "send", discordtest.Focused("chat", "wo")))
	rep := r.fake.WaitReply(t, in.ID, func(r discordtest.Reply) bool { return r.Kind == "choices" })
	if strings.Join(rep.Choices, ",") != "Work,Homework" {
		t.Errorf("alice was offered %v", rep.Choices)
	}
	if len(core.requests()) != 0 {
		t.Error("autocomplete reached the core as a request")
	}
}

func TestUnlockByModalIsConfidentialAndEphemeral(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		return req.Reply.Private(ctx, "Work is unlocked.")
	}
	r := start(t, Config{GuildID: "77"}, core)
	in := r.fake.Interact(t, discordtest.Slash(alice, general, "unlock", discordtest.Opt("chat", "Work")))
	modal := r.fake.WaitModal(t, in.ID)
	if modal.Fields[0].Value != "Work" || modal.Fields[1].CustomID != "secret" || modal.Fields[1].Value != "" {
		t.Fatalf("modal %+v", modal)
	}
	sub := r.fake.Interact(t, discordtest.SubmitModal(alice, general, modal, map[string]string{"secret": "correct horse"}))
	reqs := core.waitRequests(t, 1)
	if got := reqs[0]; got.Command != "unlock" || got.Args != "Work correct horse" || !got.Confidential || !got.InputIsPrivate() || got.Place.Kind != bridge.Public {
		t.Errorf("core got %+v", got)
	}
	rep := r.fake.WaitText(t, sub.ID)
	if rep.Content != "Work is unlocked." || !rep.Ephemeral {
		t.Errorf("reply %+v", rep)
	}
	// The modal was acknowledged by a deferral first (within 3 s), privately.
	if first := r.fake.Replies(sub.ID)[0]; first.Kind != "deferred" || !first.Ephemeral {
		t.Errorf("first answer %+v; want an ephemeral deferral", first)
	}
	for _, m := range r.fake.PublicMessages() {
		t.Errorf("something public was posted: %+v", m)
	}
}

func TestSendPostsFramedPointerWithReceiveButton(t *testing.T) {
	t.Parallel()
	const pointer = `{"e": 1700000000, "n": "abcdefghijklmnop", "d": "00ff", "t": "x"}`
	core := newFakeCore()
	var caps bridge.Capabilities
	core.handle = func(ctx context.Context, req bridge.Request) error {
		caps = req.Caps
		if err := req.Reply.Public(ctx, bridge.PublicPost{Text: pointer, ReceiveRef: "ref-1"}); err != nil {
			return err
		}
		return req.Reply.Private(ctx, "Sent to Work.")
	}
	r := start(t, Config{GuildID: "77"}, core)
	in := r.fake.Interact(t, discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", "hello")))
	core.waitRequests(t, 1)
	if errs := core.responderErrors(); errs[0] != nil {
		t.Fatalf("responder: %v", errs[0])
	}
	posted := r.fake.ChannelMessages(general.ChannelID)
	if len(posted) != 1 {
		t.Fatalf("%d channel messages", len(posted))
	}
	want := "<@" + alice.ID + "> posted a CLM pointer\n" + pointer
	if posted[0].Content != want {
		t.Errorf("posted %q, want %q", posted[0].Content, want)
	}
	if ids := posted[0].ButtonIDs(); len(ids) != 1 || ids[0] != "clm:recv:ref-1" || posted[0].ButtonLabels()[0] != "🔓 Receive" {
		t.Errorf("buttons %v %v", ids, posted[0].ButtonLabels())
	}
	if caps.MaxPointerChars != 2000-len("<@301> posted a CLM pointer\n") || !caps.Ephemeral || !caps.Buttons {
		t.Errorf("caps %+v", caps)
	}
	if rep := r.fake.WaitText(t, in.ID); rep.Content != "Sent to Work." || !rep.Ephemeral {
		t.Errorf("confirmation %+v", rep)
	}
	// The pointer's post must not ping anyone.
	c := r.fake.WaitCall(t, "the post", func(c discordtest.Call) bool { return c.Method == "POST" && strings.HasSuffix(c.Path, "/messages") })
	am, _ := c.JSON()["allowed_mentions"].(map[string]any)
	if parse, ok := am["parse"].([]any); !ok || len(parse) != 0 {
		t.Errorf("allowed_mentions %v; want no pings", am)
	}
}

func TestSendWithoutTextOpensAModal(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	in := r.fake.Interact(t, discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Project Athena")))
	modal := r.fake.WaitModal(t, in.ID)
	sub := r.fake.Interact(t, discordtest.SubmitModal(alice, general, modal, map[string]string{"text": "line 1\nline 2"}))
	reqs := core.waitRequests(t, 1)
	if reqs[0].Command != "send" || reqs[0].Args != "\"Project Athena\" line 1\nline 2" {
		t.Errorf("core got %q %q", reqs[0].Command, reqs[0].Args)
	}
	r.fake.WaitText(t, sub.ID)
}

func TestReceiveButtonAndContextMenuAnswerEphemerally(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		return req.Reply.Private(ctx, "Work · alice: the plaintext")
	}
	r := start(t, Config{GuildID: "77"}, core)
	// A pointer bob pasted; without the Message Content intent the bot does
	// not see it, but the context menu carries the text.
	pasted, _ := r.fake.PostMessage(t, bob, general, `{"e": 1700000000, "n": "abcdefghijklmnop", "d": "00ff"}`)
	menu := r.fake.Interact(t, discordtest.ContextMenu(carol, general, ContextMenuName, pasted))
	botPost := discordtest.Message{ID: "999", ChannelID: general.ChannelID, GuildID: general.GuildID, AuthorID: discordtest.DefaultBotID, Bot: true}
	press := r.fake.Interact(t, discordtest.Button(bob, general, botPost, "clm:recv:ref-9"))
	reqs := core.waitRequests(t, 2)
	byMember := map[string]bridge.Request{}
	for _, q := range reqs {
		byMember[q.Member.ID] = q
	}
	if q := byMember[carol.ID]; q.Command != "receive" || q.Quoted != pasted.Content || q.MessageID != pasted.ID {
		t.Errorf("context menu gave %+v", q)
	}
	if q := byMember[bob.ID]; q.Command != "receive" || q.ReceiveRef != "ref-9" {
		t.Errorf("button gave %+v", q)
	}
	for _, id := range []string{menu.ID, press.ID} {
		if rep := r.fake.WaitText(t, id); !rep.Ephemeral || rep.Content != "Work · alice: the plaintext" {
			t.Errorf("reply %+v", rep)
		}
	}
	for _, m := range r.fake.PublicMessages() {
		if strings.Contains(m.Content, "plaintext") {
			t.Errorf("plaintext posted publicly: %+v", m)
		}
	}
}

func TestDMPlainMessagesReachTheCoreAsPrivate(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		if req.Command == "unlock" {
			if err := req.Reply.DeleteRequest(ctx); !errors.Is(err, bridge.ErrCannotDelete) {
				return errors.New("a DM message cannot be deleted by a bot, want ErrCannotDelete")
			}
		}
		return req.Reply.Private(ctx, "ok "+req.Command)
	}
	r := start(t, Config{GuildID: "77"}, core)
	dm := discordtest.DM(alice)
	r.fake.PostMessage(t, alice, dm, "/clm unlock Work s3cret phrase")
	r.fake.PostMessage(t, alice, dm, "unlock Work or an answer to a question")
	reqs := core.waitRequests(t, 2)
	if q := reqs[0]; q.Command != "unlock" || q.Args != "Work s3cret phrase" || q.Place.Kind != bridge.Private || q.Caps.Ephemeral {
		t.Errorf("first %+v", q)
	}
	if q := reqs[1]; q.Post != "unlock Work or an answer to a question" || q.Command != "" || q.Place.Kind != bridge.Private {
		t.Errorf("second %+v", q)
	}
	for _, err := range core.responderErrors() {
		if err != nil {
			t.Error(err)
		}
	}
	r.fake.WaitChannelMessage(t, dm.ChannelID, func(m discordtest.Message) bool { return m.Content == "ok unlock" })
	if len(r.fake.PublicMessages()) != 0 {
		t.Error("a DM conversation produced a public message")
	}
}

func TestOneMembersMessagesReachTheCoreInOrder(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.handle = func(context.Context, bridge.Request) error { return nil }
	r := start(t, Config{GuildID: "77"}, core)
	const n = 30
	for k := range n {
		r.fake.PostMessage(t, alice, discordtest.DM(alice), "line "+strconv.Itoa(k))
	}
	reqs := core.waitRequests(t, n)
	for k, q := range reqs {
		if q.Post != "line "+strconv.Itoa(k) {
			t.Fatalf("request %d is %q: out of order", k, q.Post)
		}
	}
}

func TestMessageContentIntentOffersReceiveUnderPointers(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		if !strings.Contains(req.Post, `"e"`) {
			return nil // chatter: the core stays silent
		}
		return req.Reply.Public(ctx, bridge.PublicPost{Text: "🔓 A CLM pointer", ReceiveRef: "seen-1"})
	}
	r := start(t, Config{GuildID: "77", MessageContent: true}, core)
	if r.fake.Intents()&discordtest.IntentMessageContent == 0 {
		t.Fatal("the Message Content intent was not requested")
	}
	if !strings.Contains(r.a.Status().Detail, "Message Content intent on") {
		t.Errorf("status %q", r.a.Status().Detail)
	}
	r.fake.PostMessage(t, bob, general, "lunch?")
	post, _ := r.fake.PostMessage(t, bob, general, "```json\n{\"e\": 1700000000, \"n\": \"abcdefghijklmnop\", \"d\": \"00ff\"}\n```")
	reqs := core.waitRequests(t, 2)
	if reqs[0].Post != "lunch?" {
		t.Errorf("chatter reached the core as %+v", reqs[0])
	}
	if reqs[1].Post != post.Content || reqs[1].Place.Kind != bridge.Public || !reqs[1].Caps.CanDelete {
		t.Errorf("core got %+v", reqs[1])
	}
	m := r.fake.WaitChannelMessage(t, general.ChannelID, func(discordtest.Message) bool { return true })
	if m.ReplyTo != post.ID || len(m.ButtonIDs()) != 1 || m.ButtonIDs()[0] != "clm:recv:seen-1" {
		t.Errorf("offer %+v", m)
	}
	if n := len(r.fake.ChannelMessages(general.ChannelID)); n != 1 {
		t.Errorf("%d bot posts; chatter must get no answer", n)
	}
}

func TestWithoutMessageContentChannelPostsAreNotSeen(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	r.fake.PostMessage(t, bob, general, `{"e": 1700000000, "n": "abcdefghijklmnop", "d": "00ff"}`)
	// The gateway delivers events in order and the adapter reads them in
	// order, so once this later DM reaches the core the channel post has
	// been seen (and dropped) already.
	r.fake.PostMessage(t, bob, discordtest.DM(bob), "/clm chats")
	reqs := core.waitRequests(t, 1)
	if len(reqs) != 1 || reqs[0].Command != "chats" {
		t.Errorf("requests %+v; the channel post must not reach the core without the intent", reqs)
	}
}

func TestReplayedInteractionIsHandledOnce(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	in := r.fake.Interact(t, discordtest.Slash(alice, general, "chats"))
	r.fake.Redeliver(t, in.Seq)
	// A later request of the same member is handled after the replay was
	// seen (events are read in order), so waiting for it is enough.
	r.fake.Interact(t, discordtest.Slash(alice, general, "help"))
	reqs := core.waitRequests(t, 2)
	if len(reqs) != 2 || reqs[0].Command != "chats" || reqs[1].Command != "help" {
		t.Errorf("requests %+v", reqs)
	}
	callbacks := 0
	for _, c := range r.fake.Calls() {
		if strings.Contains(c.Path, "/interactions/"+in.ID+"/") {
			callbacks++
		}
	}
	if callbacks != 1 {
		t.Errorf("%d callbacks for one interaction", callbacks)
	}
}

func TestGatewayDropAndResumeLosesNothing(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	first := r.fake.Interact(t, discordtest.Slash(alice, general, "chats"))
	core.waitRequests(t, 1)
	r.fake.Drop()
	// Dispatched while the bot is away: replayed when it resumes.
	second := r.fake.Interact(t, discordtest.Slash(bob, general, "chats"))
	r.fake.WaitHandshakes(t, 2)
	reqs := core.waitRequests(t, 2)
	if r.fake.Resumes() != 1 || r.fake.Identifies() != 1 {
		t.Errorf("identifies %d, resumes %d; want the session resumed", r.fake.Identifies(), r.fake.Resumes())
	}
	if reqs[0].Member.ID != alice.ID || reqs[1].Member.ID != bob.ID {
		t.Errorf("requests %+v", reqs)
	}
	for _, id := range []string{first.ID, second.ID} {
		r.fake.WaitText(t, id)
	}
}

func TestRateLimitedPostIsRetriedAndPostedOnce(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		return req.Reply.Public(ctx, bridge.PublicPost{Text: "pointer", ReceiveRef: "r"})
	}
	r := start(t, Config{GuildID: "77"}, core)
	r.fake.RateLimit("POST", "/channels/"+general.ChannelID+"/messages", 3, 0.01)
	r.fake.Interact(t, discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", "x")))
	core.waitRequests(t, 1)
	if err := core.responderErrors()[0]; err != nil {
		t.Fatalf("Public: %v", err)
	}
	if n := len(r.fake.ChannelMessages(general.ChannelID)); n != 1 {
		t.Errorf("posted %d times", n)
	}
	var statuses []int
	for _, c := range r.fake.Calls() {
		if c.Method == "POST" && strings.HasSuffix(c.Path, "/messages") {
			statuses = append(statuses, c.Status)
		}
	}
	if len(statuses) != 4 || statuses[3] != 200 {
		t.Errorf("statuses %v; want three 429s then one success", statuses)
	}
}

func TestEndlessRateLimitDoesNotHang(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		retryAfter float64
	}{{"short waits, forever", 0.01}, {"a wait longer than the bound", 3600}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Through the real core: it is the core that tells the member.
			r, core := startReal(t, Config{GuildID: "77"}, WithRESTBounds(5*time.Second, 4, time.Second))
			const secret = "correct horse battery staple"
			am := bridge.Member{Platform: Name, ID: alice.ID, DisplayName: alice.Name}
			if err := core.Handle(context.Background(), bridge.Request{Member: am, Place: bridge.Place{Kind: bridge.Private},
				Command: "new", Args: "Work " + secret, Reply: nopReply{}}); err != nil {
				t.Fatal(err)
			}
			r.fake.RateLimit("POST", "/channels/", -1, tc.retryAfter)
			in := r.fake.Interact(t, discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", "the plan")))
			// The member is told, privately, why, and given the pointer to
			// paste; never that it was posted.
			r.fake.WaitReply(t, in.ID, func(rep discordtest.Reply) bool { return len(clm.Extract(rep.Content)) > 0 })
			if err := r.stop(); err != nil { // lets the request finish: nothing more may come
				t.Fatal(err)
			}
			var said strings.Builder
			for _, rep := range r.fake.Replies(in.ID) {
				if rep.Kind == "message" || rep.Kind == "edit" || rep.Kind == "followup" {
					if !rep.Ephemeral {
						t.Errorf("a non-ephemeral answer: %q", rep.Content)
					}
					said.WriteString(rep.Content + "\n")
				}
			}
			got := said.String()
			for _, want := range []string{"could not post your pointer for Work", "rate limiting", "paste it there yourself"} {
				if !strings.Contains(got, want) {
					t.Errorf("the member was told %q, without %q", got, want)
				}
			}
			if strings.Contains(got, "Posted") || strings.Contains(got, "Nobody else saw that") {
				t.Errorf("the member was told %q", got)
			}
			if ptrs := clm.Extract(got); len(ptrs) != 1 {
				t.Errorf("%d pointers given to paste", len(ptrs))
			} else if o, err := ptrs[0].Open([]byte(secret)); err != nil || o.Text != "the plan" {
				t.Errorf("the pointer given opens to %+v, %v", o, err)
			}
			if n := len(r.fake.ChannelMessages(general.ChannelID)); n != 0 {
				t.Errorf("%d posts", n)
			}
		})
	}
}

func TestFailedPostSaysWhyAndKeepsTheCause(t *testing.T) {
	limited := fmt.Errorf("discord: posting in a channel: %w", ErrRateLimited)
	other := errors.New("discord: posting in a channel: HTTP 500")
	if postFailure(nil) != nil {
		t.Fatal("a post that worked became an error")
	}
	for _, tc := range []struct {
		err  error
		why  string
		keep error
	}{{limited, "rate limiting me", ErrRateLimited}, {other, "did not accept", other}} {
		var pe *bridge.PostError
		err := postFailure(tc.err)
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, tc.why) || !errors.Is(err, tc.keep) {
			t.Errorf("postFailure(%v) = %#v", tc.err, err)
		}
	}
}

func TestRefusedDMIsExplainedInPlace(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		return req.Reply.Private(ctx, "the plaintext for you")
	}
	r := start(t, Config{GuildID: "77", MessageContent: true}, core)
	r.fake.RefuseDMs(bob.ID)
	post, _ := r.fake.PostMessage(t, bob, general, `{"e": 1700000000, "n": "abcdefghijklmnop", "d": "00ff"}`)
	core.waitRequests(t, 1)
	if err := core.responderErrors()[0]; !errors.Is(err, bridge.ErrCannotReachPrivately) {
		t.Errorf("Private returned %v, want ErrCannotReachPrivately", err)
	}
	m := r.fake.WaitChannelMessage(t, general.ChannelID, func(discordtest.Message) bool { return true })
	if !strings.Contains(m.Content, "cannot send you a direct message") || m.ReplyTo != post.ID {
		t.Errorf("explanation %+v", m)
	}
	for _, pm := range r.fake.PublicMessages() {
		if strings.Contains(pm.Content, "plaintext") {
			t.Errorf("plaintext went public: %q", pm.Content)
		}
	}
}

func TestNotifierSendsADM(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	core.mu.Lock()
	n := core.notifier
	core.mu.Unlock()
	if n == nil {
		t.Fatal("the adapter did not register a notifier")
	}
	ctx := context.Background()
	if err := n.NotifyPrivately(ctx, bridge.Member{Platform: "discord", ID: alice.ID}, "psst"); err != nil {
		t.Fatal(err)
	}
	r.fake.WaitChannelMessage(t, discordtest.DMChannelID(alice.ID), func(m discordtest.Message) bool { return m.Content == "psst" })
	r.fake.RefuseDMs(bob.ID)
	if err := n.NotifyPrivately(ctx, bridge.Member{Platform: "discord", ID: bob.ID}, "psst"); !errors.Is(err, bridge.ErrCannotReachPrivately) {
		t.Errorf("refused DM gave %v", err)
	}
	if err := n.NotifyPrivately(ctx, bridge.Member{Platform: "telegram", ID: "1"}, "psst"); err == nil {
		t.Error("a Telegram member was notified on Discord")
	}
}

func TestLongPrivateAnswerIsSplitNotTruncated(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("history line\n", 350) // 4550 characters
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error { return req.Reply.Private(ctx, long) }
	r := start(t, Config{GuildID: "77"}, core)
	in := r.fake.Interact(t, discordtest.Slash(alice, general, "history", discordtest.Opt("chat", "Work")))
	core.waitRequests(t, 1)
	var got strings.Builder
	for _, rep := range r.fake.Replies(in.ID) {
		if rep.Kind == "edit" || rep.Kind == "followup" {
			if !rep.Ephemeral {
				t.Errorf("a part is not ephemeral")
			}
			got.WriteString(rep.Content)
		}
	}
	if got.String() != long {
		t.Errorf("got %d characters back, want %d", got.Len(), len(long))
	}
}

func TestExportFileIsEphemeral(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		if err := req.Reply.Private(ctx, "Here is Work:"); err != nil {
			return err
		}
		return req.Reply.PrivateFile(ctx, bridge.File{Name: "work.json", Content: []byte(`[{"text":"plaintext"}]`)})
	}
	r := start(t, Config{GuildID: "77"}, core)
	in := r.fake.Interact(t, discordtest.Slash(alice, general, "export", discordtest.Opt("chat", "Work")))
	rep := r.fake.WaitReply(t, in.ID, func(r discordtest.Reply) bool { return len(r.Files) > 0 })
	if !rep.Ephemeral || string(rep.Files["work.json"]) != `[{"text":"plaintext"}]` {
		t.Errorf("file reply %+v", rep)
	}
}

func TestDeleteRequestInAGuildChannel(t *testing.T) {
	t.Parallel()
	results := make(chan error, 2)
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		results <- req.Reply.DeleteRequest(ctx)
		return nil
	}
	r := start(t, Config{GuildID: "77", MessageContent: true}, core)
	typed, _ := r.fake.PostMessage(t, alice, general, "/clm unlock Work s3cret")
	if err := <-results; err != nil {
		t.Errorf("deleting with rights: %v", err)
	}
	deleted := false
	for _, m := range r.fake.Messages() {
		deleted = deleted || (m.ID == typed.ID && m.Deleted)
	}
	if !deleted {
		t.Error("the message holding a secret is still there")
	}
	r.fake.Fail(discordtest.Rule{Method: "DELETE", PathContains: "/messages/", Times: 1, Status: 403, Body: `{"code":50013,"message":"Missing Permissions"}`})
	r.fake.PostMessage(t, alice, general, "/clm unlock Work other")
	if err := <-results; !errors.Is(err, bridge.ErrCannotDelete) {
		t.Errorf("deleting without rights: %v, want ErrCannotDelete", err)
	}
}

func TestRefusedTokenEndsRunWithoutShowingIt(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t)
	logs := &syncBuffer{}
	const wrong = "wrong-token-do-not-print"
	a, err := New(Config{Token: wrong}, newFakeCore(), slog.New(slog.NewTextHandler(logs, nil)), WithAPIBase(fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "CLM_DISCORD_TOKEN") {
		t.Fatalf("Run = %v, want an error naming CLM_DISCORD_TOKEN", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(logs.String(), wrong) {
		t.Error("the token is in the error or the logs")
	}
	if st := a.Status(); st.Connected || st.LastError == "" || strings.Contains(st.LastError, wrong) {
		t.Errorf("status %+v; want disconnected with a redacted reason", st)
	}
}

func TestTokensNeverLogged(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	// Make answers fail at the connection, so that errors carrying URLs
	// with interaction tokens are logged.
	r.fake.Fail(discordtest.Rule{PathContains: "/webhooks/", Times: -1, Disconnect: true})
	in := r.fake.Interact(t, discordtest.Slash(alice, general, "chats"))
	core.waitRequests(t, 1)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "answering the member privately") {
		t.Fatalf("the failure was not logged; logs:\n%s", logs)
	}
	for _, leak := range []string{r.fake.Token(), "interaction-token-" + in.ID} {
		if strings.Contains(logs, leak) {
			t.Errorf("%q is in the logs", leak)
		}
	}
}

func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		close(entered)
		<-release
		return req.Reply.Private(ctx, "finished after the stop")
	}
	r := start(t, Config{GuildID: "77"}, core)
	in := r.fake.Interact(t, discordtest.Slash(alice, general, "chats"))
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	// Run returned only after the request answered.
	found := false
	for _, rep := range r.fake.Replies(in.ID) {
		found = found || rep.Content == "finished after the stop"
	}
	if !found {
		t.Errorf("the request in flight was cut off: %+v", r.fake.Replies(in.ID))
	}
}

func TestShutdownCancelsRequestsThatOutstayTheDrain(t *testing.T) {
	t.Parallel()
	entered, sawCancel := make(chan struct{}), make(chan bool, 1)
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		close(entered)
		<-ctx.Done()
		sawCancel <- true
		return ctx.Err()
	}
	r := start(t, Config{GuildID: "77"}, core, WithDrainTimeout(50*time.Millisecond))
	r.fake.Interact(t, discordtest.Slash(alice, general, "chats"))
	<-entered
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sawCancel:
	default:
		t.Error("Run returned while a request was still running")
	}
}

func TestAnInteractionThatCannotBeAcknowledgedNeverReachesTheCore(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	// Another instance (or a past run) answered it already.
	r.fake.Fail(discordtest.Rule{Method: "POST", PathContains: "/callback", Times: 1, Status: 400,
		Body: `{"code":40060,"message":"Interaction has already been acknowledged."}`})
	first := r.fake.Interact(t, discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", "x")))
	r.fake.WaitCall(t, "the refused acknowledgement", func(c discordtest.Call) bool {
		return strings.Contains(c.Path, "/interactions/"+first.ID+"/") && c.Status == 400
	})
	// alice's next request is handled after the first was dropped.
	r.fake.Interact(t, discordtest.Slash(alice, general, "chats"))
	reqs := core.waitRequests(t, 1)
	if len(reqs) != 1 || reqs[0].Command != "chats" {
		t.Errorf("the core got %+v; the unacknowledged send must not run", reqs)
	}
	if !strings.Contains(r.logs.String(), "already answered") {
		t.Error("the replay was not logged")
	}
}
