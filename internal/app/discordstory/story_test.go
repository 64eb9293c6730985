package discordstory_test

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/internal/app"
	"github.com/clmbridge/clmbridge/platform"
	"github.com/clmbridge/clmbridge/storage"
)

// These stories run the whole bridge (internal/app: configuration, store,
// core, adapter) against the fake Discord: what a member does goes in as
// gateway events, and what they see comes out as recorded REST calls.

var (
	alice   = discordtest.User{ID: "301", Name: "alice"}
	bob     = discordtest.User{ID: "302", Name: "bob"}
	carol   = discordtest.User{ID: "303", Name: "carol"}
	general = discordtest.Channel("77", "500")
)

const workSecret = "correct horse battery staple"

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// story is the bridge on the fake Discord.
type story struct {
	t    *testing.T
	fake *discordtest.Server
	logs *lockedBuffer
	// never lists texts that must never appear in public or in the logs.
	never []string
}

func newStory(t *testing.T, cfg discord.Config) *story {
	t.Helper()
	fake := discordtest.New(t)
	s := &story{t: t, fake: fake, logs: &lockedBuffer{}, never: []string{workSecret, fake.Token()}}
	// The real wiring, as cmd/bridge runs it: configuration, store, core,
	// and the Discord adapter pointed at the fake by CLM_DISCORD_API_URL.
	cfg.Token = fake.Token()
	cfg.APIURL = fake.URL()
	appCfg := app.Config{
		DataDir: t.TempDir(), SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
		RateBurst: 20, RatePerMinute: 0, LogLevel: "debug", LogFormat: "text",
		Platforms: map[string]platform.Config{discord.Name: cfg},
	}
	opts := app.Options{Storage: storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}}}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.RunWith(runCtx, appCfg, opts, strings.NewReader(""), io.Discard, s.logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("app.RunWith: %v", err)
		}
		s.checkNothingLeaked()
	})
	fake.WaitReady(t)
	fake.WaitCall(t, "command registration", func(c discordtest.Call) bool { return c.Method == "PUT" && c.Status == 200 })
	return s
}

// checkNothingLeaked scans every public message and the logs for texts
// that must stay private.
func (s *story) checkNothingLeaked() {
	s.t.Helper()
	logs := s.logs.String()
	for _, secret := range s.never {
		for _, m := range s.fake.PublicMessages() {
			if strings.Contains(m.Content, secret) {
				s.t.Errorf("public message %s holds %q: %q", m.ID, secret, m.Content)
			}
		}
		if strings.Contains(logs, secret) {
			s.t.Errorf("the logs hold %q", secret)
		}
	}
}

// do makes u run /clm sub with options and returns the text they see.
func (s *story) do(u discordtest.User, p discordtest.Place, sub string, opts ...discordtest.CommandOption) string {
	s.t.Helper()
	in := s.fake.Interact(s.t, discordtest.Slash(u, p, sub, opts...))
	return s.answer(in.ID)
}

// answer waits for the member's private answer to an interaction and
// checks that it was ephemeral.
func (s *story) answer(id string) string {
	s.t.Helper()
	rep := s.fake.WaitText(s.t, id)
	if !rep.Ephemeral {
		s.t.Errorf("the answer to interaction %s is not ephemeral: %q", id, rep.Content)
	}
	return rep.Content
}

// form makes u run /clm sub, fill in the modal it opens with values, and
// returns the text they see.
func (s *story) form(u discordtest.User, p discordtest.Place, sub string, values map[string]string, opts ...discordtest.CommandOption) string {
	s.t.Helper()
	in := s.fake.Interact(s.t, discordtest.Slash(u, p, sub, opts...))
	modal := s.fake.WaitModal(s.t, in.ID)
	sub2 := s.fake.Interact(s.t, discordtest.SubmitModal(u, p, modal, values))
	return s.answer(sub2.ID)
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", what, got, w)
		}
	}
}

// setUpWork has alice create Work and bob join it, both by modal.
func (s *story) setUpWork() {
	s.t.Helper()
	mustContain(s.t, "alice creates Work", s.form(alice, general, "new", map[string]string{"secret": workSecret}, discordtest.Opt("chat", "Work")), "Work")
	mustContain(s.t, "bob unlocks Work", s.form(bob, general, "unlock", map[string]string{"secret": workSecret}, discordtest.Opt("chat", "Work")), "Work")
}

// pointerPosts returns the bot's posts in general that carry a pointer.
func (s *story) pointerPosts() []discordtest.Message {
	var out []discordtest.Message
	for _, m := range s.fake.ChannelMessages(general.ChannelID) {
		if len(clm.Extract(m.Content)) > 0 {
			out = append(out, m)
		}
	}
	return out
}

func TestStorySendReceiveAndHint(t *testing.T) {
	t.Parallel()
	s := newStory(t, discord.Config{GuildID: "77"})
	const plaintext = "meet at noon by the fountain"
	s.never = append(s.never, plaintext)
	s.setUpWork()

	confirm := s.do(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", plaintext))
	mustContain(t, "alice's confirmation", confirm, "Posted")
	posts := s.pointerPosts()
	if len(posts) != 1 {
		t.Fatalf("%d pointer posts, want 1", len(posts))
	}
	post := posts[0]
	if !strings.HasPrefix(post.Content, "<@"+alice.ID+"> posted a CLM pointer\n") || len(post.ButtonIDs()) != 1 {
		t.Fatalf("post %q with buttons %v", post.Content, post.ButtonIDs())
	}

	press := s.fake.Interact(t, discordtest.Button(bob, general, post, post.ButtonIDs()[0]))
	mustContain(t, "bob's Receive", s.answer(press.ID), plaintext, "alice")
	mustContain(t, "bob's history", s.do(bob, general, "history", discordtest.Opt("chat", "Work")), plaintext)

	hint := s.fake.Interact(t, discordtest.Button(carol, general, post, post.ButtonIDs()[0]))
	got := s.answer(hint.ID)
	mustContain(t, "carol's hint", got, "unlock")
	if strings.Contains(got, plaintext) {
		t.Error("carol, who has no secret, saw the text")
	}
	if n := len(s.pointerPosts()); n != 1 {
		t.Errorf("%d pointer posts after the receives, want 1", n)
	}
}

func TestStoryContextMenuOnAPastedPointerWithoutMessageContent(t *testing.T) {
	t.Parallel()
	s := newStory(t, discord.Config{GuildID: "77"})
	const plaintext = "lunch at one, usual place"
	s.never = append(s.never, plaintext)
	s.setUpWork()

	// alice makes a pointer in her DM with the bot and pastes it in general.
	dm := discordtest.DM(alice)
	s.fake.PostMessage(t, alice, dm, "send Work "+plaintext)
	reply := s.fake.WaitChannelMessage(t, dm.ChannelID, func(m discordtest.Message) bool { return len(clm.Extract(m.Content)) > 0 })
	pointer := clm.Extract(reply.Content)[0].String()
	pasted, _ := s.fake.PostMessage(t, alice, general, "for the team: ```"+pointer+"```")

	menu := s.fake.Interact(t, discordtest.ContextMenu(bob, general, discord.ContextMenuName, pasted))
	mustContain(t, "bob's context-menu receive", s.answer(menu.ID), plaintext)
	if n := len(s.fake.ChannelMessages(general.ChannelID)); n != 0 {
		t.Errorf("the bot posted %d messages in general; without the intent it sees no posts", n)
	}
}

func TestStoryGatewayDropAndResume(t *testing.T) {
	t.Parallel()
	s := newStory(t, discord.Config{GuildID: "77"})
	const plaintext = "the drop did not eat this"
	s.never = append(s.never, plaintext)
	s.setUpWork()

	s.fake.Drop()
	// alice sends while the bot is away; the resumed session replays it.
	send := s.fake.Interact(t, discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", plaintext)))
	s.fake.WaitHandshakes(t, 2)
	mustContain(t, "alice's confirmation", s.answer(send.ID), "Posted")
	if s.fake.Resumes() != 1 || s.fake.Identifies() != 1 {
		t.Errorf("identifies %d, resumes %d: want one session, resumed", s.fake.Identifies(), s.fake.Resumes())
	}
	// The gateway delivers alice's command once more; then alice asks for
	// her chats, which the adapter handles after the replay (her requests
	// are served in order).
	s.fake.Redeliver(t, send.Seq)
	s.do(alice, general, "chats")

	posts := s.pointerPosts()
	if len(posts) != 1 {
		t.Fatalf("%d pointer posts, want exactly 1", len(posts))
	}
	press := s.fake.Interact(t, discordtest.Button(bob, general, posts[0], posts[0].ButtonIDs()[0]))
	mustContain(t, "bob's Receive", s.answer(press.ID), plaintext)
	callbacks := 0
	for _, c := range s.fake.Calls() {
		if strings.HasPrefix(c.Path, "/api/v9/interactions/"+send.ID+"/") {
			callbacks++
		}
	}
	if callbacks != 1 {
		t.Errorf("alice's send was acknowledged %d times", callbacks)
	}
}

func TestStoryRateLimitBurstPostsEachPointerOnce(t *testing.T) {
	t.Parallel()
	s := newStory(t, discord.Config{GuildID: "77"})
	s.setUpWork()
	s.fake.RateLimit("POST", "/channels/"+general.ChannelID+"/messages", 5, 0.05)
	texts := []string{"first of three", "second of three", "third of three"}
	s.never = append(s.never, texts...)
	for _, text := range texts {
		mustContain(t, "alice's confirmation", s.do(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", text)), "Posted")
	}
	posts := s.pointerPosts()
	if len(posts) != len(texts) {
		t.Fatalf("%d pointer posts, want %d", len(posts), len(texts))
	}
	seen := map[string]bool{}
	for _, p := range posts {
		if seen[p.Content] {
			t.Errorf("a pointer was posted twice")
		}
		seen[p.Content] = true
	}
	limited := 0
	for _, c := range s.fake.Calls() {
		if c.Status == 429 {
			limited++
		}
	}
	if limited != 5 {
		t.Errorf("%d answers were 429, want the 5 injected", limited)
	}
	// Each pointer opens for bob, in order.
	for k, p := range posts {
		press := s.fake.Interact(t, discordtest.Button(bob, general, p, p.ButtonIDs()[0]))
		mustContain(t, "bob's Receive", s.answer(press.ID), texts[k])
	}
}

func TestStoryChatNamesWithSpacesAndQuotes(t *testing.T) {
	t.Parallel()
	s := newStory(t, discord.Config{GuildID: "77"})
	for _, name := range []string{"Project Athena", `say "hi" team`} {
		t.Run(name, func(t *testing.T) {
			mustContain(t, "create", s.form(alice, general, "new", map[string]string{"secret": workSecret}, discordtest.Opt("chat", name)), "Created "+name)
			mustContain(t, "send", s.form(alice, general, "send", map[string]string{"text": "hello " + name}, discordtest.Opt("chat", name)), "of "+name)
			mustContain(t, "history", s.do(alice, general, "history", discordtest.Opt("chat", name)), "hello "+name)
		})
	}
	in := s.fake.Interact(t, discordtest.Autocomplete(alice, general, "history", discordtest.Focused("chat", "")))
	rep := s.fake.WaitReply(t, in.ID, func(r discordtest.Reply) bool { return r.Kind == "choices" })
	if strings.Join(rep.Choices, "|") != `Project Athena|say "hi" team` {
		t.Errorf("autocomplete offered %q", rep.Choices)
	}
}

func TestStoryOverTheLimitGetsTheCoresAnswerNeverATruncatedPointer(t *testing.T) {
	t.Parallel()
	s := newStory(t, discord.Config{GuildID: "77"})
	s.setUpWork()
	long := strings.Repeat("a long report line. ", 60) // 1200 bytes: the pointer would pass 2000 characters
	s.never = append(s.never, long[:40])

	refused := s.form(alice, general, "send", map[string]string{"text": long}, discordtest.Opt("chat", "Work"))
	mustContain(t, "over the limit", refused, "too long", "Nothing was sent")
	if n := len(s.pointerPosts()); n != 0 {
		t.Fatalf("%d pointer posts for a refused message", n)
	}

	// With split:true the core sends numbered parts, each a whole post.
	mustContain(t, "split", s.form(alice, general, "send", map[string]string{"text": long}, discordtest.Opt("chat", "Work"), discordtest.Opt("split", true)), "Posted")
	posts := s.pointerPosts()
	if len(posts) < 2 {
		t.Fatalf("%d posts, want numbered parts", len(posts))
	}
	var got strings.Builder
	for _, p := range posts {
		if n := len([]rune(p.Content)); n > 2000 {
			t.Errorf("a post of %d characters: over Discord's 2000", n)
		}
		press := s.fake.Interact(t, discordtest.Button(bob, general, p, p.ButtonIDs()[0]))
		text := s.answer(press.ID)
		_, part, _ := strings.Cut(text, "] ")
		got.WriteString(part)
	}
	if !strings.Contains(got.String(), strings.TrimSpace(long)) {
		t.Errorf("bob's parts do not add up to the message:\n%s", got.String())
	}
}

func TestStoryMessageContentOffersReceiveUnderAPastedPointer(t *testing.T) {
	t.Parallel()
	s := newStory(t, discord.Config{GuildID: "77", MessageContent: true})
	const plaintext = "seen in the channel"
	s.never = append(s.never, plaintext)
	s.setUpWork()
	if s.fake.Intents()&discordtest.IntentMessageContent == 0 {
		t.Fatal("the adapter did not ask for the Message Content intent")
	}
	dm := discordtest.DM(alice)
	s.fake.PostMessage(t, alice, dm, "send Work "+plaintext)
	reply := s.fake.WaitChannelMessage(t, dm.ChannelID, func(m discordtest.Message) bool { return len(clm.Extract(m.Content)) > 0 })
	pasted, _ := s.fake.PostMessage(t, alice, general, clm.Extract(reply.Content)[0].String())

	offer := s.fake.WaitChannelMessage(t, general.ChannelID, func(m discordtest.Message) bool { return len(m.ButtonIDs()) > 0 })
	if offer.ReplyTo != pasted.ID || strings.Contains(offer.Content, plaintext) {
		t.Fatalf("offer %+v", offer)
	}
	press := s.fake.Interact(t, discordtest.Button(bob, general, offer, offer.ButtonIDs()[0]))
	mustContain(t, "bob's Receive", s.answer(press.ID), plaintext)
	hint := s.fake.Interact(t, discordtest.Button(carol, general, offer, offer.ButtonIDs()[0]))
	if got := s.answer(hint.ID); strings.Contains(got, plaintext) {
		t.Error("carol saw the text")
	}
}

func TestStoryDMPromptForTheSecretCreatesTheChat(t *testing.T) {
	t.Parallel()
	s := newStory(t, discord.Config{GuildID: "77"})
	const plaintext = "welcome to Work, bob"
	s.never = append(s.never, plaintext)
	mustContain(t, "alice creates Work", s.form(alice, general, "new", map[string]string{"secret": workSecret}, discordtest.Opt("chat", "Work")), "Work")
	s.fake.PostMessage(t, alice, discordtest.DM(alice), "send Work "+plaintext)
	reply := s.fake.WaitChannelMessage(t, discordtest.DMChannelID(alice.ID), func(m discordtest.Message) bool { return len(clm.Extract(m.Content)) > 0 })
	pointer := clm.Extract(reply.Content)[0].String()

	// bob has no chat yet: he pastes the pointer to the bot, which asks for
	// the secret; his next line in the DM is the answer.
	dm := discordtest.DM(bob)
	s.fake.PostMessage(t, bob, dm, "/clm receive "+pointer)
	s.fake.WaitChannelMessage(t, dm.ChannelID, func(m discordtest.Message) bool { return strings.Contains(m.Content, "secret") })
	s.fake.PostMessage(t, bob, dm, workSecret)
	opened := s.fake.WaitChannelMessage(t, dm.ChannelID, func(m discordtest.Message) bool { return strings.Contains(m.Content, plaintext) })
	mustContain(t, "bob's DM", opened.Content, "alice")
	for _, m := range s.fake.Messages() {
		if m.Bot && strings.Contains(m.Content, workSecret) {
			t.Errorf("the bot repeated the secret in %s: %q", m.ChannelID, m.Content)
		}
	}
	mustContain(t, "bob's chats", s.do(bob, general, "chats"), "Work")
}

func TestStoryEveryWayOfWritingClmWithASecretInAChannelIsDeletedAndWarned(t *testing.T) {
	t.Parallel()
	const secret = "quartz-velvet-orchid-4411"
	s := newStory(t, discord.Config{GuildID: "77", MessageContent: true})
	s.never = append(s.never, secret)
	variants := []string{
		"/CLM unlock Work " + secret,
		"/clm\nunlock Work " + secret,
		"/clm\tunlock Work " + secret,
		"/clm\u00a0unlock Work " + secret,
		"/clm\u3000unlock Work " + secret,
		"\uff0fclm unlock Work " + secret,
		"/clm unlock " + secret,
		"/clm rekey " + secret,
		`/clm unlock "Work ` + secret + `"`,
		"/clm " + secret,
		"/clm unlcok Work " + secret,
		"/unlock Work " + secret, // the /clm forgotten
	}
	dm := discordtest.DMChannelID(alice.ID)
	warned := map[string]bool{}
	for _, v := range variants {
		posted, _ := s.fake.PostMessage(t, alice, general, v)
		s.fake.WaitCall(t, "the delete of "+strconv.Quote(v), func(c discordtest.Call) bool {
			return c.Method == "DELETE" && strings.HasSuffix(c.Path, "/messages/"+posted.ID)
		})
		w := s.fake.WaitChannelMessage(t, dm, func(m discordtest.Message) bool {
			return m.Bot && !warned[m.ID] && (strings.Contains(m.Content, "🔥") || strings.Contains(m.Content, "⚠️"))
		})
		warned[w.ID] = true
	}
	for _, m := range s.fake.Messages() {
		if m.Bot && strings.Contains(m.Content, secret) {
			t.Errorf("the bot repeated the secret in %s: %q", m.ChannelID, m.Content)
		}
	}
	if got := s.do(alice, general, "chats"); !strings.Contains(got, "no chats") {
		t.Errorf("a secret typed in the channel did something: %q", got)
	}
}

func TestStoryASecretTypedByEditingIsDeletedAndTheMemberWarned(t *testing.T) {
	t.Parallel()
	s := newStory(t, discord.Config{GuildID: "77", MessageContent: true})
	s.setUpWork()
	post, _ := s.fake.PostMessage(t, alice, general, "hello all")
	s.fake.EditMessage(t, alice, post, "/clm unlock Work "+workSecret)

	warning := s.fake.WaitChannelMessage(t, discordtest.DMChannelID(alice.ID), func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "secret")
	})
	mustContain(t, "alice's warning", warning.Content, "rekey")
	deleted := false
	for _, m := range s.fake.Messages() {
		deleted = deleted || (m.ID == post.ID && m.Deleted)
	}
	if !deleted {
		t.Error("the edited message holding the secret is still in the channel")
	}
}
