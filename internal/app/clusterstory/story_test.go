package clusterstory_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
)

// One community served by three bridge processes on one PostgreSQL
// schema, as deploy/cluster runs it: two are the Discord shards 0 and 1 of
// two, and all three take Telegram webhook requests from the load
// balancer (the test). A member's unlocked chats live in the memory of
// the one instance that owns them; a request arriving anywhere else is
// forwarded there, and the owner answers the member itself, through the
// platform's API. A member is owned only by an instance serving their
// platform, so the Telegram-only instance never owns a Discord member.

const (
	discordSecret  = "lantern-otter-basalt-5521"
	telegramSecret = "meadow-cobalt-fjord-3390"
	firstText      = "the vault code changes at dawn"
	secondText     = "bring the blue folder on thursday"
	tgFirstText    = "the ferry leaves at seven"
	tgSecondText   = "dinner moved to the harbour cafe"
	tgAfterText    = "still here after the crash"
	tgLateText     = "sent after a clean stop"
)

var (
	alice = discordtest.User{ID: "301", Name: "alice"}
	bob   = discordtest.User{ID: "302", Name: "bob"}
	// shard1Guild is a guild Discord routes to shard 1 of 2:
	// (guild_id >> 22) % 2 == 1. DMs always arrive on shard 0.
	shard1Guild = strconv.Itoa(1 << 22)
	lobby       = discordtest.Channel(shard1Guild, "4194400")

	tina = telegramtest.User{ID: 2101, FirstName: "tina"}
	team = telegramtest.Group(-1002101, "Team")
)

// telegramCandidates are the Telegram members of whom the story follows
// the first one not owned by alice's instance (rendezvous hashing decides
// owners, so the test finds one rather than assume one).
var telegramCandidates = []telegramtest.User{
	{ID: 2201, FirstName: "tom"}, {ID: 2202, FirstName: "uma"}, {ID: 2203, FirstName: "vic"},
	{ID: 2204, FirstName: "wen"}, {ID: 2205, FirstName: "xia"}, {ID: 2206, FirstName: "yan"},
	{ID: 2207, FirstName: "zed"}, {ID: 2208, FirstName: "ada"},
}

func memberKey(platform string, id any) string {
	switch v := id.(type) {
	case int64:
		return platform + ":" + strconv.FormatInt(v, 10)
	default:
		return platform + ":" + v.(string)
	}
}

// newSince returns the messages of after that are not in before (as a
// multiset: a message shown twice, once before, is new once).
func newSince(before, after []string) []string {
	seen := map[string]int{}
	for _, s := range before {
		seen[s]++
	}
	var out []string
	for _, s := range after {
		if seen[s] > 0 {
			seen[s]--
			continue
		}
		out = append(out, s)
	}
	return out
}

// unlockAgain reports whether a message tells a member to unlock again
// (their sessions were lost), as opposed to the ordinary hint to a member
// who never unlocked the chat ("None of your unlocked chats opens …").
func unlockAgain(s string) bool {
	return strings.Contains(strings.ToLower(s), "unlock") && !strings.HasPrefix(s, "None of your unlocked chats")
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", what, got, w)
		}
	}
}

// telegramUnlock has member unlock chat Work privately, delivered to p,
// and checks that the message holding the secret was deleted and the
// answer does not repeat it.
func (c *cluster) telegramUnlock(p *proc, member telegramtest.User) {
	c.t.Helper()
	msg, answer := c.ask(p, member, "/clm unlock Work "+telegramSecret, func(s string) bool { return strings.Contains(s, "Work") })
	if strings.Contains(answer, telegramSecret) {
		c.t.Fatalf("%s's unlock answer: %q", member.FirstName, answer)
	}
	c.tg.Await(c.t, waitLimit, member.FirstName+"'s secret deleted", func() bool {
		e, _ := c.tg.Message(member.ID, msg.MessageID)
		return e.Deleted
	})
}

func TestStoryThreeInstancesOneCommunitySurviveAKill(t *testing.T) {
	c := newCluster(t, discordtest.WithGuilds(shard1Guild))
	p1 := c.start("bridge-1", "0", true)
	p2 := c.start("bridge-2", "1", true)
	p3 := c.start("bridge-3", "", true)
	procs := []*proc{p1, p2, p3}
	for _, p := range procs {
		if ok, out := c.ready(p); !ok {
			t.Errorf("%s is not ready (bridge healthcheck ready): %s", p.name, out)
		}
	}

	// ---- Discord: the DM on shard 0, the guild on shard 1 -------------
	dm := discordtest.DM(alice)
	mustContain(t, "alice creates Work in her DM",
		c.form(alice, dm, "new", map[string]string{"secret": discordSecret}, discordtest.Opt("chat", "Work")), "Work")
	mustContain(t, "bob unlocks Work in the lobby",
		c.form(bob, lobby, "unlock", map[string]string{"secret": discordSecret}, discordtest.Opt("chat", "Work")), "Work")
	mustContain(t, "bob's send", c.do(bob, lobby, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", firstText)), "Posted")
	posts := c.pointerPosts(lobby.ChannelID)
	if len(posts) != 1 {
		t.Fatalf("%d pointer posts in the lobby, want 1", len(posts))
	}
	press := c.interact(alice, discordtest.Button(alice, lobby, posts[0], posts[0].ButtonIDs()[0]))
	mustContain(t, "alice's Receive on shard 1", c.answer(press.ID), firstText)
	if n := c.discordSeen(alice, firstText); n != 1 {
		t.Errorf("alice was shown the first text %d times, want once", n)
	}
	aliceOwner := c.ownerOf(memberKey("discord", alice.ID))
	t.Logf("alice is owned by %s", aliceOwner.name)
	if aliceOwner == p3 {
		t.Fatalf("alice, a Discord member, is owned by %s, which serves Telegram only", p3.name)
	}

	// bob posts the second pointer now, while his own owner surely lives.
	mustContain(t, "bob's second send", c.do(bob, lobby, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", secondText)), "Posted")
	posts = c.pointerPosts(lobby.ChannelID)
	if len(posts) != 2 {
		t.Fatalf("%d pointer posts in the lobby, want 2", len(posts))
	}
	second := posts[1]

	// ---- Telegram: webhooks spread over the instances ------------------
	c.telegramUnlock(p3, tina)
	var tom telegramtest.User
	var tomOwner *proc
	for k, cand := range telegramCandidates {
		c.telegramUnlock(procs[k%3], cand)
		if o := c.ownerOf(memberKey("telegram", cand.ID)); o != aliceOwner {
			tom, tomOwner = cand, o
			break
		}
	}
	if tomOwner == nil {
		t.Fatalf("every one of %d Telegram members is owned by alice's instance", len(telegramCandidates))
	}
	t.Logf("%s is owned by %s", tom.FirstName, tomOwner.name)

	pointer := c.pointerFor(p3, tina, "Work", tgFirstText)
	pasted := c.tg.SendText(tina, team, pointer)
	c.deliver(p1)
	btn, data := c.receiveButton(team.ID, pasted)
	// The press reaches an instance other than the one that made the
	// button (and, for two of three owners, other than tom's owner).
	ans := c.pressAt(p2, tom, btn, data)
	if got := strings.Join(c.telegramPrivate(tom), "\n"); !strings.Contains(got, tgFirstText) {
		t.Fatalf("%s was shown %q (press answer %v)", tom.FirstName, got, ans.Params)
	}
	if n := c.telegramSeen(tom, tgFirstText); n != 1 {
		t.Errorf("%s was shown the text %d times, want once", tom.FirstName, n)
	}
	pointer2 := c.pointerFor(p3, tina, "Work", tgSecondText)
	pasted2 := c.tg.SendText(tina, team, pointer2)
	c.deliver(p2)
	btn2, data2 := c.receiveButton(team.ID, pasted2)
	tomBefore := c.telegramPrivate(tom)

	// ---- SIGKILL alice's owner ------------------------------------------
	aliceOwner.kill(t)
	t.Logf("killed %s", aliceOwner.name)
	live := []*proc{}
	for _, p := range procs {
		if p != aliceOwner {
			live = append(live, p)
		}
	}
	if aliceOwner.shard != "" {
		// A supervisor starts the shard again (a new instance).
		live = append(live, c.start(aliceOwner.name+"-replacement", aliceOwner.shard, aliceOwner.telegram))
	}
	c.waitExpired(aliceOwner)

	// alice's next request: her sessions died with her owner.
	aliceBefore := c.discordShown(alice)
	again := c.interact(alice, discordtest.Button(alice, lobby, second, second.ButtonIDs()[0]))
	c.awaitShown("alice told to unlock again", func() []string { return newSince(aliceBefore, c.discordShown(alice)) }, unlockAgain)
	// The press itself is then answered as any press of a member with no
	// unlocked chat (the new owner may first wait a moment for a post it
	// never saw published); she unlocks after that answer.
	c.awaitShown("the answer to alice's press", func() []string { return c.repliesTo(again.ID) }, func(s string) bool {
		return strings.HasPrefix(s, "None of your unlocked chats")
	})
	if n := c.discordSeen(alice, secondText); n != 0 {
		t.Fatalf("alice, whose sessions died, was shown the second text:\n%s", c.discordTrace(alice))
	}
	mustContain(t, "alice unlocks again in her DM",
		c.form(alice, dm, "unlock", map[string]string{"secret": discordSecret}, discordtest.Opt("chat", "Work")), "Work")
	retry := c.interact(alice, discordtest.Button(alice, lobby, second, second.ButtonIDs()[0]))
	mustContain(t, "alice's Receive after unlocking again", c.answer(retry.ID), secondText)
	if n := c.discordSeen(alice, secondText); n != 1 {
		t.Errorf("alice was shown the second text %d times, want once:\n%s", n, c.discordTrace(alice))
	}
	history := c.do(alice, dm, "history", discordtest.Opt("chat", "Work"))
	for _, text := range []string{firstText, secondText} {
		if n := strings.Count(history, text); n != 1 {
			t.Errorf("alice's history holds %q %d times, want once:\n%s", text, n, history)
		}
	}
	if newOwner := c.ownerOf(memberKey("discord", alice.ID)); newOwner == aliceOwner {
		t.Errorf("alice is still owned by the killed %s", aliceOwner.name)
	}

	// ---- tom, owned elsewhere, noticed nothing -------------------------
	via := live[0]
	if via == tomOwner && len(live) > 1 {
		via = live[1] // a forwarded request, not one his owner received
	}
	c.pressAt(via, tom, btn2, data2)
	if n := c.telegramSeen(tom, tgSecondText); n != 1 {
		t.Errorf("%s was shown the second text %d times after the kill, want once", tom.FirstName, n)
	}
	// Sending needs his unlocked chat: it is still in his owner's memory.
	c.pointerFor(via, tom, "Work", tgAfterText)
	for _, s := range newSince(tomBefore, c.telegramPrivate(tom)) {
		if unlockAgain(s) {
			t.Errorf("%s, whose owner lives, was told %q after the kill", tom.FirstName, s)
		}
	}
	_, tomHistory := c.ask(via, tom, "/clm history Work", func(s string) bool { return strings.Contains(s, tgFirstText) })
	for _, text := range []string{tgFirstText, tgSecondText, tgAfterText} {
		if n := strings.Count(tomHistory, text); n != 1 {
			t.Errorf("%s's history holds %q %d times, want once:\n%s", tom.FirstName, text, n, tomHistory)
		}
	}
	if o := c.ownerOf(memberKey("telegram", tom.ID)); o != tomOwner {
		t.Errorf("%s moved from %s to %s, though %s lives", tom.FirstName, tomOwner.name, o.name, tomOwner.name)
	}

	// ---- a graceful stop: tom's owner leaves at once, handing nothing on
	c.stop(tomOwner)
	if code := tomOwner.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("%s stopped on SIGTERM with exit status %d, want 0", tomOwner.name, code)
	}
	var registered bool
	c.db(func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM cluster_instances WHERE id = $1)", tomOwner.instance).Scan(&registered)
	})
	if registered {
		t.Errorf("%s stopped cleanly but is still registered: its members wait for the TTL", tomOwner.name)
	}
	var other *proc
	for _, p := range live {
		if p != tomOwner {
			other = p
			break
		}
	}
	// No waiting for the TTL: his next request finds him moved, and his
	// chats locked (his secret went nowhere).
	tomBefore = c.telegramPrivate(tom)
	c.tg.SendText(tom, tom.PrivateChat(), "/clm send Work "+tgLateText)
	c.deliver(other)
	c.awaitShown(tom.FirstName+" told to unlock again after a graceful stop", func() []string {
		return newSince(tomBefore, c.telegramPrivate(tom))
	}, unlockAgain)

	// ---- nothing secret anywhere public or in any log ------------------
	never := []string{discordSecret, telegramSecret, firstText, secondText, tgFirstText, tgSecondText, tgAfterText,
		tgLateText, telegramToken, webhookSecret, c.dc.Token()}
	if found, scanned := c.dumpHolds(never); scanned && len(found) > 0 {
		t.Errorf("a pg_dump of the cluster's schema holds %q", found)
	}
	logs := c.allLogs()
	for _, s := range never {
		if strings.Contains(logs, s) {
			t.Errorf("a process logged %q", s)
		}
		for _, m := range c.dc.PublicMessages() {
			if strings.Contains(m.Content, s) {
				t.Errorf("public Discord message %s holds %q", m.ID, s)
			}
		}
		for _, e := range c.tg.Transcript(team.ID) {
			if e.ByBot && strings.Contains(e.Text, s) {
				t.Errorf("the bot's post in Team holds %q", s)
			}
		}
	}
}
