package telegramstory_test

// End-to-end stories through the real wiring: internal/app builds the
// store, the bridge core and the Telegram adapter from a Config whose API
// URL points at the fake Bot API, exactly as cmd/bridge does.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/telegram"
	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/app"
	"github.com/clmbridge/clmbridge/platform"
	"github.com/clmbridge/clmbridge/storage"
)

const (
	workSecret = "harbor-tulip-quartz-1187"
	launchText = "The launch moves to Friday."
	storyToken = "5550001:AAF-story_token-never-logged"
	waitLimit  = 15 * time.Second
)

var (
	alice = telegramtest.User{ID: 2001, FirstName: "alice"}
	bob   = telegramtest.User{ID: 2002, FirstName: "bob"}
	carol = telegramtest.User{ID: 2003, FirstName: "carol"}
	team  = telegramtest.Group(-1002001, "Team")
)

// logBuffer collects the bridge's log output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// world is one running bridge connected to a fake Telegram.
type world struct {
	t    *testing.T
	tg   *telegramtest.Server
	core *bridge.Bridge
	logs *logBuffer
	dir  string
	stop func()

	mu       sync.Mutex
	pressers map[string]int64 // callback query id → who pressed
}

// startWorld runs app.RunWith with the Telegram adapter on a fake Bot API.
// Pacing and retry waits are shortened (they are tested in the package's
// unit tests with Telegram's real numbers); the rest is production's.
func startWorld(t *testing.T, fo telegramtest.Options) *world {
	t.Helper()
	fo.Token = storyToken
	tg := telegramtest.New(t, fo)
	w := &world{t: t, tg: tg, logs: &logBuffer{}, dir: t.TempDir(), pressers: map[string]int64{}}
	cfg := app.Config{
		DataDir: w.dir, SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
		RateBurst: 100, RatePerMinute: 0, LogLevel: "debug", LogFormat: "json",
		Platforms: map[string]platform.Config{telegram.Name: telegram.Config{
			Token: tg.Token, APIURL: tg.URL, PollTimeout: time.Second,
			PerChatInterval: time.Millisecond, GroupPerMinute: 60_000, GlobalPerSecond: 10_000,
			MaxAttempts: 6, RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond,
		}},
	}
	started := make(chan *bridge.Bridge, 1)
	opts := app.Options{
		Storage: storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}},
		OnStart: func(b *bridge.Bridge) { started <- b },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.RunWith(ctx, cfg, opts, strings.NewReader(""), io.Discard, w.logs) }()
	select {
	case w.core = <-started:
	case err := <-done:
		t.Fatalf("the bridge did not start: %v\n%s", err, w.logs)
	case <-time.After(waitLimit):
		t.Fatal("the bridge did not start")
	}
	var once sync.Once
	w.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("the bridge ended with %v", err)
				}
			case <-time.After(waitLimit):
				t.Errorf("the bridge did not stop")
			}
		})
	}
	t.Cleanup(w.stop)
	tg.Await(t, waitLimit, "the adapter's setup", func() bool { return len(tg.Calls("deleteWebhook")) > 0 })
	return w
}

// botMessagesTo waits until the bot has sent at least n messages to chat
// and returns them. More may still come: a test that counts exactly stops
// the world first (see TestStoryStormOf429sAnd502s).
func (w *world) botMessagesTo(chat int64, n int) []telegramtest.Message {
	w.t.Helper()
	var got []telegramtest.Message
	w.tg.Await(w.t, waitLimit, fmt.Sprintf("%d bot messages in chat %d", n, chat), func() bool {
		got = w.tg.BotMessages(chat)
		return len(got) >= n
	})
	return got
}

// say plays a member writing text and waits for the bot's next message to
// chat (the answer).
func (w *world) say(from telegramtest.User, chat telegramtest.Chat, text string, answerTo int64) (telegramtest.Message, string) {
	w.t.Helper()
	before := len(w.tg.BotMessages(answerTo))
	m := w.tg.SendText(from, chat, text)
	msgs := w.botMessagesTo(answerTo, before+1)
	return m, msgs[len(msgs)-1].Text
}

// unlockWork has member unlock Work privately and checks the bot's side of
// it: the message holding the secret is deleted and the answer does not
// repeat it.
func (w *world) unlockWork(member telegramtest.User) {
	w.t.Helper()
	msg, answer := w.say(member, member.PrivateChat(), "/clm unlock Work "+workSecret, member.ID)
	if !strings.Contains(answer, "Work") || strings.Contains(answer, workSecret) {
		w.t.Fatalf("%s's unlock answer: %q", member.FirstName, answer)
	}
	w.tg.Await(w.t, waitLimit, "the secret's deletion", func() bool {
		e, _ := w.tg.Message(member.ID, msg.MessageID)
		return e.Deleted
	})
}

// receiveButton returns the newest bot message in chat with a button.
func (w *world) receiveButton(chat int64) (telegramtest.Message, string) {
	w.t.Helper()
	var m telegramtest.Message
	w.tg.Await(w.t, waitLimit, "a Receive button", func() bool {
		msgs := w.tg.BotMessages(chat)
		for i := len(msgs) - 1; i >= 0; i-- {
			if len(msgs[i].Buttons()) > 0 {
				m = msgs[i]
				return true
			}
		}
		return false
	})
	return m, m.Buttons()[0].CallbackData
}

// privateTo returns every text the bot showed member privately: messages
// in their private chat and alerts on their button presses.
func (w *world) privateTo(member telegramtest.User) string {
	var b strings.Builder
	for _, m := range w.tg.BotMessages(member.ID) {
		b.WriteString(m.Text + "\n")
	}
	for _, c := range w.tg.Calls("answerCallbackQuery") {
		w.mu.Lock()
		by := w.pressers[c.Params["callback_query_id"]]
		w.mu.Unlock()
		if c.OK && by == member.ID {
			b.WriteString(c.Params["text"] + "\n")
		}
	}
	return b.String()
}

// press plays member pressing the button and waits for its answer.
func (w *world) press(member telegramtest.User, msg telegramtest.Message, data string) telegramtest.Call {
	w.t.Helper()
	id := w.tg.PressButton(member, msg, data)
	w.mu.Lock()
	w.pressers[id] = member.ID
	w.mu.Unlock()
	var answer telegramtest.Call
	w.tg.Await(w.t, waitLimit, member.FirstName+"'s press answered", func() bool {
		for _, c := range w.tg.Calls("answerCallbackQuery") {
			if c.OK && c.Params["callback_query_id"] == id {
				answer = c
				return true
			}
		}
		return false
	})
	return answer
}

// groupText is everything visible in chat: members' messages (deleted ones
// too, they were seen) and the bot's.
func (w *world) groupText(chat int64) string {
	var b strings.Builder
	for _, e := range w.tg.Transcript(chat) {
		b.WriteString(e.Text + "\n")
	}
	return b.String()
}

// TestStoryInlinePostAndReceive: alice and bob unlock Work privately;
// alice posts through inline mode; bob taps Receive and gets the text
// privately and in his store; carol taps and gets the hint; the group sees
// pointers and neutral text only.
func TestStoryInlinePostAndReceive(t *testing.T) {
	w := startWorld(t, telegramtest.Options{})
	w.unlockWork(alice)
	w.unlockWork(bob)
	w.say(carol, carol.PrivateChat(), "/start", carol.ID)

	// alice types "@clm_bot Work: …" in the group, pausing once on the
	// way (Telegram asks for results then too), and picks the result.
	const draft = "The launch moves"
	dq := w.tg.InlineQuery(alice, "Work: "+draft)
	w.tg.Await(t, waitLimit, "the draft's inline answer", func() bool { titles, _ := w.tg.InlineResults(dq); return titles != nil })
	q := w.tg.InlineQuery(alice, "Work: "+launchText)
	w.tg.Await(t, waitLimit, "the inline answer", func() bool { titles, _ := w.tg.InlineResults(q); return titles != nil })
	titles, texts := w.tg.InlineResults(q)
	if len(titles) != 1 || titles[0] != "Send as CLM pointer to Work" || strings.Contains(texts[0], "Friday") {
		t.Fatalf("inline results: %q %q", titles, texts)
	}
	for _, c := range w.tg.Calls("answerInlineQuery") {
		if c.Params["is_personal"] != "true" || c.Params["cache_time"] != "0" {
			t.Errorf("inline answer may be cached or shared: %v", c.Params)
		}
	}
	posted, err := w.tg.ChooseInlineResult(alice, team, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	btnMsg, data := w.receiveButton(team.ID)
	if btnMsg.ReplyTo == nil || btnMsg.ReplyTo.MessageID != posted.MessageID || len(data) > 64 {
		t.Fatalf("Receive post %+v (data %d bytes)", btnMsg, len(data))
	}

	t.Run("bob taps Receive and reads the text privately", func(t *testing.T) {
		ans := w.press(bob, btnMsg, data)
		if !strings.Contains(w.privateTo(bob), "📨 Work · alice: "+launchText) {
			t.Fatalf("bob was shown %q (press answer %v)", w.privateTo(bob), ans.Params)
		}
		if ans.Params["show_alert"] != "true" {
			t.Errorf("a short text should come as the press's alert: %v", ans.Params)
		}
	})
	t.Run("the text is in bob's store", func(t *testing.T) {
		_, hist := w.say(bob, bob.PrivateChat(), "/clm history Work", bob.ID)
		if !strings.Contains(hist, launchText) {
			t.Fatalf("bob's history: %q", hist)
		}
	})
	t.Run("alice's history holds what she sent, once, and not her draft", func(t *testing.T) {
		_, hist := w.say(alice, alice.PrivateChat(), "/clm history Work", alice.ID)
		// The draft is the start of the text: seen once, it is only there.
		if strings.Count(hist, launchText) != 1 || strings.Count(hist, draft) != 1 {
			t.Fatalf("alice's history: %q", hist)
		}
	})
	t.Run("carol taps and gets the hint, not the text", func(t *testing.T) {
		w.press(carol, btnMsg, data)
		hint := w.privateTo(carol)
		if !strings.Contains(hint, "None of your unlocked chats opens") || strings.Contains(hint, launchText) {
			t.Fatalf("carol was shown %q", hint)
		}
	})
	t.Run("the group saw pointers and neutral text only", func(t *testing.T) {
		g := w.groupText(team.ID)
		for _, bad := range []string{launchText, "Friday", workSecret} {
			if strings.Contains(g, bad) {
				t.Errorf("the group saw %q:\n%s", bad, g)
			}
		}
		if !strings.Contains(g, `{"e": `) || !strings.Contains(g, "A CLM pointer") {
			t.Errorf("the group transcript lacks the pointer or the Receive post:\n%s", g)
		}
	})
	w.stop()
	t.Run("no secret, plaintext or token in the logs or on disk", func(t *testing.T) {
		logs := w.logs.String()
		for _, bad := range []string{storyToken, "AAF-story_token", workSecret, launchText} {
			if strings.Contains(logs, bad) {
				t.Errorf("the log holds %q", bad)
			}
		}
		files, _ := filepath.Glob(filepath.Join(w.dir, "*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, bad := range []string{workSecret, launchText, storyToken} {
				if bytes.Contains(data, []byte(bad)) {
					t.Errorf("%s holds %q", filepath.Base(f), bad)
				}
			}
		}
	})
}

// TestStorySecretTypedInTheGroup: alice types /clm unlock Work <secret> in
// the group: deleted, warned privately, nothing unlocked. Where the bot is
// not an admin, the group is told without repeating anything.
func TestStorySecretTypedInTheGroup(t *testing.T) {
	w := startWorld(t, telegramtest.Options{})
	w.say(alice, alice.PrivateChat(), "/start", alice.ID)
	aliceM := bridge.Member{Platform: "telegram", ID: strconv.FormatInt(alice.ID, 10)}

	t.Run("bot is an admin: deleted and warned", func(t *testing.T) {
		msg, warning := w.say(alice, team, "/clm unlock Work "+workSecret, alice.ID)
		if !strings.Contains(warning, "🔥") || strings.Contains(warning, workSecret) {
			t.Fatalf("alice's warning: %q", warning)
		}
		if e, _ := w.tg.Message(team.ID, msg.MessageID); !e.Deleted {
			t.Errorf("the message with the secret is still in the group")
		}
		if got := w.core.UnlockedChats(aliceM); len(got) != 0 {
			t.Errorf("unlocked %v", got)
		}
		if n := len(w.tg.BotMessages(team.ID)); n != 0 {
			t.Errorf("the bot posted %d messages in the group", n)
		}
	})
	t.Run("bot is not an admin: the group is told, nothing repeated", func(t *testing.T) {
		w.tg.SetAdmin(team, false)
		dms := len(w.tg.BotMessages(alice.ID))
		msg, warning := w.say(alice, team, "/clm new Work "+workSecret, alice.ID)
		if !strings.Contains(warning, "🔥") || !strings.Contains(warning, "could not delete") || strings.Contains(warning, workSecret) {
			t.Errorf("alice's warning: %q", warning)
		}
		if got := len(w.tg.BotMessages(alice.ID)); got != dms+1 {
			t.Errorf("alice got %d private messages, want 1", got-dms)
		}
		notice := w.botMessagesTo(team.ID, 1)[0]
		if !strings.Contains(notice.Text, "could not delete") || strings.Contains(notice.Text, workSecret) {
			t.Errorf("group notice: %q", notice.Text)
		}
		if e, _ := w.tg.Message(team.ID, msg.MessageID); e.Deleted {
			t.Errorf("deleted without rights")
		}
		if got := w.core.UnlockedChats(aliceM); len(got) != 0 {
			t.Errorf("unlocked %v", got)
		}
		for _, m := range w.tg.BotMessages(team.ID) {
			if strings.Contains(m.Text, workSecret) {
				t.Errorf("the bot repeated the secret in the group: %q", m.Text)
			}
		}
	})
	t.Run("send typed in the group is refused and explained", func(t *testing.T) {
		before := len(w.tg.BotMessages(team.ID))
		_, answer := w.say(alice, team, "/clm send Work "+launchText, alice.ID)
		if !strings.Contains(answer, "I did not send that") || !strings.Contains(answer, "private chat") {
			t.Errorf("alice was told %q", answer)
		}
		for _, m := range w.tg.BotMessages(team.ID)[before:] {
			if strings.Contains(m.Text, `{"e"`) {
				t.Errorf("a pointer was posted for a send typed in the group: %q", m.Text)
			}
		}
	})
}

// TestStoryStormOf429sAnd502s: during a busy stretch Telegram answers many
// sends with 429 (retry_after) and 502 (an HTML page): every Receive post
// is delivered exactly once, in order, in every group.
func TestStoryStormOf429sAnd502s(t *testing.T) {
	w := startWorld(t, telegramtest.Options{})
	groups := []telegramtest.Chat{team, telegramtest.Group(-1002002, "Ops"), telegramtest.Group(-1002003, "Play")}
	const posts = 6

	// Fail the first attempts of most replies: one or more 502s (HTML) or
	// 500s, and for some a 429 with retry_after 1 s (really waited) first.
	var mu sync.Mutex
	attempts := map[string]int{}
	w.tg.SetFailer(func(method string, p map[string]string) *telegramtest.Failure {
		if method != "sendMessage" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		key := p["chat_id"] + "/" + p["reply_to_message_id"]
		attempts[key]++
		n, _ := strconv.Atoi(p["reply_to_message_id"])
		pattern := [][]telegramtest.Failure{
			{telegramtest.TooManyRequests(1), telegramtest.BadGateway()},
			{telegramtest.BadGateway(), telegramtest.BadGateway()},
			{telegramtest.BadGateway()},
			{telegramtest.InternalError(), telegramtest.BadGateway(), telegramtest.BadGateway()},
			nil,
			{telegramtest.BadGateway()},
			{telegramtest.BadGateway(), telegramtest.InternalError()},
		}[n%7]
		if attempts[key] <= len(pattern) {
			f := pattern[attempts[key]-1]
			return &f
		}
		return nil
	})

	// One poster per group: the core serialises each member's requests, and
	// the groups should be busy at the same time.
	posters := []telegramtest.User{alice, bob, carol}
	var sent [][]int
	for gi, g := range groups {
		var ids []int
		for i := range posts {
			m := w.tg.SendText(posters[gi], g, fmt.Sprintf(`{"e": %d, "n": "storm%d", "d": "00"}`, 1700000000+i, i))
			ids = append(ids, m.MessageID)
		}
		sent = append(sent, ids)
	}
	for _, g := range groups {
		w.botMessagesTo(g.ID, posts)
	}
	// Stopping drains the adapter: every update taken is handled and every
	// queued call made (or the drain fails, checked here), so a late
	// duplicate is in the transcript before it is compared exactly.
	w.stop()
	if strings.Contains(w.logs.String(), "still pending at shutdown") {
		t.Fatalf("the adapter did not drain its outbox at the stop:\n%s", w.logs)
	}
	for gi, g := range groups {
		msgs := w.tg.BotMessages(g.ID)
		if len(msgs) != posts {
			t.Errorf("group %s: the bot posted %d messages, want exactly %d", g.Title, len(msgs), posts)
		}
		var replies []int
		for _, m := range msgs {
			if m.ReplyTo != nil {
				replies = append(replies, m.ReplyTo.MessageID)
			}
		}
		if fmt.Sprint(replies) != fmt.Sprint(sent[gi]) {
			t.Errorf("group %s: replies to %v, want exactly %v in that order", g.Title, replies, sent[gi])
		}
	}
	failed, injected429 := 0, 0
	for _, c := range w.tg.Calls("sendMessage") {
		if c.Injected {
			failed++
			if c.Status == 429 {
				injected429++
			}
		}
	}
	if failed < posts || injected429 == 0 {
		t.Errorf("the storm did not happen: %d failures, %d 429s", failed, injected429)
	}
	if strings.Contains(w.logs.String(), storyToken) {
		t.Errorf("the token is in the log")
	}
}

// TestStoryMemberWhoNeverWroteToTheBot: bob never started the bot, so it
// cannot write to him; asked in the group, it answers there with a deep
// link that reveals nothing.
func TestStoryMemberWhoNeverWroteToTheBot(t *testing.T) {
	w := startWorld(t, telegramtest.Options{})
	w.unlockWork(alice)
	w.tg.NeverStarted(bob)

	q := w.tg.InlineQuery(alice, "Work: "+launchText)
	w.tg.Await(t, waitLimit, "the inline answer", func() bool { titles, _ := w.tg.InlineResults(q); return titles != nil })
	posted, err := w.tg.ChooseInlineResult(alice, team, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	btnMsg, data := w.receiveButton(team.ID)

	t.Run("a reply command gets a deep link in the group", func(t *testing.T) {
		before := len(w.tg.BotMessages(team.ID))
		w.tg.ReplyText(bob, posted, "/clm receive")
		msgs := w.botMessagesTo(team.ID, before+1)
		notice := msgs[len(msgs)-1].Text
		if !strings.Contains(notice, "https://t.me/clm_bot?start=clm") {
			t.Fatalf("notice: %q", notice)
		}
		for _, bad := range []string{launchText, "Work", workSecret} {
			if strings.Contains(notice, bad) {
				t.Errorf("the notice reveals %q: %q", bad, notice)
			}
		}
	})
	t.Run("a button press is answered to bob alone", func(t *testing.T) {
		// The hint fits an alert, which needs no private chat; a longer
		// answer would open the deep link instead (a unit test covers it).
		before := len(w.tg.BotMessages(team.ID))
		ans := w.press(bob, btnMsg, data)
		if !strings.Contains(ans.Params["text"], "None of your unlocked chats") || ans.Params["show_alert"] != "true" {
			t.Errorf("press answer: %v", ans.Params)
		}
		if after := len(w.tg.BotMessages(team.ID)); after != before {
			t.Errorf("the press made %d posts in the group", after-before)
		}
	})
	t.Run("after starting the bot, bob is answered privately", func(t *testing.T) {
		w.say(bob, bob.PrivateChat(), "/start clm", bob.ID)
		before := len(w.tg.BotMessages(bob.ID))
		w.tg.ReplyText(bob, posted, "/clm receive")
		msgs := w.botMessagesTo(bob.ID, before+1)
		if !strings.Contains(msgs[len(msgs)-1].Text, "None of your unlocked chats") {
			t.Errorf("bob's DM: %q", msgs[len(msgs)-1].Text)
		}
	})
	if g := w.groupText(team.ID); strings.Contains(g, launchText) {
		t.Errorf("plaintext in the group:\n%s", g)
	}
}

// TestStorySendFromThePrivateChat: alice sends from her private chat and
// chooses the group with a button; only the pointer is posted there, with
// a Receive button, and bob opens it. Nobody else can use alice's button,
// and the group never sees the text.
func TestStorySendFromThePrivateChat(t *testing.T) {
	w := startWorld(t, telegramtest.Options{})
	w.unlockWork(alice)
	w.unlockWork(bob)
	w.say(carol, carol.PrivateChat(), "/start", carol.ID)
	w.say(alice, team, "/clm chats", alice.ID) // the bot sees alice in Team

	before := len(w.tg.BotMessages(alice.ID))
	w.tg.SendText(alice, alice.PrivateChat(), "/clm send Work "+launchText)
	var offer telegramtest.Message
	w.tg.Await(t, waitLimit, "the pointer with a Post button", func() bool {
		msgs := w.tg.BotMessages(alice.ID)
		for _, m := range msgs[before:] {
			if len(m.Buttons()) > 0 {
				offer = m
				return true
			}
		}
		return false
	})
	b := offer.Buttons()
	if len(b) != 1 || b[0].Text != "📤 Post in Team" || !strings.HasPrefix(offer.Text, `{"e": `) || strings.Contains(offer.Text, "Friday") {
		t.Fatalf("alice's pointer message: %q %+v", offer.Text, b)
	}

	t.Run("carol cannot use alice's button", func(t *testing.T) {
		ans := w.press(carol, offer, b[0].CallbackData)
		if !strings.Contains(ans.Params["text"], "belongs to the member") {
			t.Errorf("carol's press: %v", ans.Params)
		}
		if n := len(w.tg.BotMessages(team.ID)); n != 0 {
			t.Errorf("carol's press posted %d messages", n)
		}
	})
	t.Run("alice's press posts the pointer, with a Receive button", func(t *testing.T) {
		ans := w.press(alice, offer, b[0].CallbackData)
		if ans.Params["text"] != "📤 Posted in Team." {
			t.Errorf("alice's press: %v", ans.Params)
		}
		btnMsg, _ := w.receiveButton(team.ID)
		msgs := w.tg.BotMessages(team.ID)
		if len(msgs) != 2 || msgs[0].Text != offer.Text || btnMsg.ReplyTo == nil || btnMsg.ReplyTo.MessageID != msgs[0].MessageID {
			t.Fatalf("Team got %+v", msgs)
		}
	})
	t.Run("bob opens it with Receive", func(t *testing.T) {
		btnMsg, data := w.receiveButton(team.ID)
		w.press(bob, btnMsg, data)
		if !strings.Contains(w.privateTo(bob), "📨 Work · alice: "+launchText) {
			t.Errorf("bob was shown %q", w.privateTo(bob))
		}
	})
	t.Run("alice's history holds it once", func(t *testing.T) {
		_, hist := w.say(alice, alice.PrivateChat(), "/clm history Work", alice.ID)
		if strings.Count(hist, launchText) != 1 {
			t.Errorf("alice's history: %q", hist)
		}
	})
	t.Run("the group saw the pointer and neutral text only", func(t *testing.T) {
		g := w.groupText(team.ID)
		for _, bad := range []string{launchText, "Friday", workSecret} {
			if strings.Contains(g, bad) {
				t.Errorf("the group saw %q:\n%s", bad, g)
			}
		}
	})
}

// TestStoryEveryWayOfWritingClmWithASecretInTheGroup: however alice
// writes /clm with a secret in the group (other case, a no-break space or
// newline after it, the chat name forgotten, a misplaced quote, or the
// secret alone after /clm), the message is deleted, she is warned
// privately, and nothing repeats the secret.
func TestStoryEveryWayOfWritingClmWithASecretInTheGroup(t *testing.T) {
	const secret = "quartz-velvet-orchid-4411"
	w := startWorld(t, telegramtest.Options{})
	w.say(alice, alice.PrivateChat(), "/start", alice.ID)
	aliceM := bridge.Member{Platform: "telegram", ID: strconv.FormatInt(alice.ID, 10)}
	variants := []string{
		"/CLM unlock Work " + secret,
		"/Clm unlock Work " + secret,
		"/clm\nunlock Work " + secret,
		"/clm\u00a0unlock Work " + secret,
		"/clm\u3000unlock Work " + secret,
		"/clm@clm_bot unlock Work " + secret,
		"/CLM@CLM_BOT\tunlock Work " + secret,
		"\uff0fclm unlock Work " + secret,
		"/clm unlock " + secret,
		"/clm rekey " + secret,
		`/clm unlock "Work ` + secret + `"`,
		"/clm " + secret,
		"/clm unlcok Work " + secret,
		"/unlock Work " + secret, // the /clm forgotten
	}
	for _, v := range variants {
		t.Run(v, func(t *testing.T) {
			msg, warning := w.say(alice, team, v, alice.ID)
			if (!strings.Contains(warning, "🔥") && !strings.Contains(warning, "⚠️")) || strings.Contains(warning, secret) {
				t.Fatalf("alice's warning: %q", warning)
			}
			w.tg.Await(t, waitLimit, "the secret's deletion", func() bool {
				e, _ := w.tg.Message(team.ID, msg.MessageID)
				return e.Deleted
			})
		})
	}
	if got := w.core.UnlockedChats(aliceM); len(got) != 0 {
		t.Errorf("unlocked %v", got)
	}
	if n := len(w.tg.BotMessages(team.ID)); n != 0 {
		t.Errorf("the bot posted %d messages in the group", n)
	}
	for _, m := range w.tg.BotMessages(alice.ID) {
		if strings.Contains(m.Text, secret) {
			t.Errorf("the bot repeated the secret: %q", m.Text)
		}
	}
	t.Run("addressed to another bot: left alone", func(t *testing.T) {
		before := len(w.tg.BotMessages(alice.ID))
		msg := w.tg.SendText(alice, team, "/clm@other_bot unlock Work "+secret)
		// The group's messages are handled in order: once this one is
		// answered, the one before it was handled (and ignored).
		w.say(alice, team, "/clm whoami", alice.ID)
		if e, _ := w.tg.Message(team.ID, msg.MessageID); e.Deleted {
			t.Error("deleted a command for another bot")
		}
		if got := len(w.tg.BotMessages(alice.ID)); got != before+1 {
			t.Errorf("alice got %d private messages, want 1 (the whoami answer)", got-before)
		}
	})
}
