package discord

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/bridge"
)

// offeringCore answers a post holding pointers with a Receive offer, as the
// core does (its ref says how many pointers the post held), and stays
// silent on chatter.
func offeringCore() *fakeCore {
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		if req.Command != "" {
			return req.Reply.Private(ctx, "ok "+req.Command)
		}
		if !strings.Contains(req.Post, `"e"`) {
			return nil
		}
		return req.Reply.Public(ctx, bridge.PublicPost{Text: "🔓 A CLM pointer", ReceiveRef: "ref-" + strconv.Itoa(strings.Count(req.Post, `"e"`))})
	}
	return core
}

const (
	pointerA = `{"e": 1700000000, "n": "abcdefghijklmnop", "d": "00ff"}`
	pointerB = `{"e": 1700000001, "n": "qrstuvwxyzabcdef", "d": "ff00"}`
)

func TestAPointerAddedByAnEditGetsItsReceiveButton(t *testing.T) {
	t.Parallel()
	core := offeringCore()
	r := start(t, Config{GuildID: "77", MessageContent: true}, core)
	post, _ := r.fake.PostMessage(t, bob, general, "lunch?")
	r.fake.EditMessage(t, bob, post, "lunch? "+pointerA)

	reqs := core.waitRequests(t, 2)
	if reqs[1].Post != "lunch? "+pointerA || reqs[1].MessageID != post.ID || reqs[1].Place.Kind != bridge.Public || !reqs[1].Caps.CanDelete {
		t.Fatalf("the edit reached the core as %+v", reqs[1])
	}
	offer := r.fake.WaitChannelMessage(t, general.ChannelID, func(m discordtest.Message) bool { return len(m.ButtonIDs()) > 0 })
	if offer.ReplyTo != post.ID || offer.ButtonIDs()[0] != "clm:recv:ref-1" {
		t.Errorf("offer %+v", offer)
	}
}

func TestAnEditThatAddsNoPointerIsNotOfferedAgain(t *testing.T) {
	t.Parallel()
	core := offeringCore()
	r := start(t, Config{GuildID: "77", MessageContent: true}, core)
	post, _ := r.fake.PostMessage(t, bob, general, "see "+pointerA)
	core.waitRequests(t, 1)
	// A typo fixed beside the same pointer, a link preview resolving, and
	// the gateway delivering an edit twice: none of them is a new pointer.
	edited, sent := r.fake.EditMessage(t, bob, post, "look: "+pointerA)
	r.fake.UnfurlMessage(t, edited)
	r.fake.Redeliver(t, sent.Seq)
	// Then a second pointer, added by another edit, is offered.
	r.fake.EditMessage(t, bob, edited, "look: "+pointerA+" and "+pointerB)

	// Events are handled in order, so had any of the first three reached
	// the core, it would be the second request.
	reqs := core.waitRequests(t, 2)
	if !strings.Contains(reqs[1].Post, pointerB) {
		t.Fatalf("the core's second request is %+v, want the edit that added a pointer", reqs[1])
	}
	r.fake.WaitChannelMessage(t, general.ChannelID, func(m discordtest.Message) bool {
		return slices.Contains(m.ButtonIDs(), "clm:recv:ref-2")
	})
	// A later DM, handled after everything above, closes the story.
	r.fake.PostMessage(t, bob, discordtest.DM(bob), "chats")
	core.waitRequests(t, 3)
	if n := len(core.requests()); n != 3 {
		t.Errorf("the core got %d requests, want 3", n)
	}
	if n := offers(r.fake); n != 2 {
		t.Errorf("%d Receive offers, want one for the post and one for the added pointer", n)
	}
}

// offers counts the bot's messages with buttons in general.
func offers(fake *discordtest.Server) int {
	k := 0
	for _, m := range fake.ChannelMessages(general.ChannelID) {
		if len(m.ButtonIDs()) > 0 {
			k++
		}
	}
	return k
}

func TestACommandTypedByEditingReachesTheCoreAndIsDeleted(t *testing.T) {
	t.Parallel()
	deleted := make(chan error, 1)
	core := newFakeCore()
	core.handle = func(ctx context.Context, req bridge.Request) error {
		if req.Command == "unlock" {
			deleted <- req.Reply.DeleteRequest(ctx)
		}
		return nil
	}
	r := start(t, Config{GuildID: "77", MessageContent: true}, core)
	post, _ := r.fake.PostMessage(t, alice, general, "hello")
	r.fake.EditMessage(t, alice, post, "/clm unlock Work s3cret")
	reqs := core.waitRequests(t, 2)
	if err := <-deleted; err != nil { // sent before the core finished the request
		t.Fatalf("deleting the edited message: %v", err)
	}
	if reqs[1].Command != "unlock" || reqs[1].Args != "Work s3cret" || reqs[1].Confidential || reqs[1].Place.Kind != bridge.Public {
		t.Errorf("the edit reached the core as %+v", reqs[1])
	}
	gone := false
	for _, m := range r.fake.Messages() {
		gone = gone || (m.ID == post.ID && m.Deleted)
	}
	if !gone {
		t.Error("the edited message holding a secret is still there")
	}
}

func TestLeavingAServerForgetsTheMemberInItsChannels(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77", GuildMembers: true}, core)
	if r.fake.Intents()&discordtest.IntentGuildMembers == 0 {
		t.Fatal("the Server Members intent was not requested")
	}
	if !strings.Contains(r.a.Status().Detail, "Server Members intent on") {
		t.Errorf("status %q", r.a.Status().Detail)
	}
	random := discordtest.Channel("77", "501")
	elsewhere := discordtest.Channel("88", "600")
	for _, p := range []discordtest.Place{general, random, elsewhere} {
		r.fake.Interact(t, discordtest.Slash(bob, p, "chats"))
	}
	core.waitRequests(t, 3)
	r.fake.RemoveMember(t, "77", bob)
	// Events are handled in order: once this later DM reaches the core,
	// the removal has been handled.
	r.fake.PostMessage(t, alice, discordtest.DM(alice), "chats")
	core.waitRequests(t, 4)
	core.mu.Lock()
	left := slices.Clone(core.left)
	core.mu.Unlock()
	slices.Sort(left)
	if want := []string{bob.ID + "@" + general.ChannelID, bob.ID + "@" + random.ChannelID}; !slices.Equal(left, want) {
		t.Errorf("MemberLeft calls %v, want %v (guild 77's channels only)", left, want)
	}
}

func TestWithoutServerMembersIntentStatusSaysWatchGoesOn(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	r := start(t, Config{GuildID: "77"}, core)
	if r.fake.Intents()&discordtest.IntentGuildMembers != 0 {
		t.Error("the privileged Server Members intent was requested without CLM_DISCORD_GUILD_MEMBERS")
	}
	if d := r.a.Status().Detail; !strings.Contains(d, "Server Members intent off") || !strings.Contains(d, "CLM_DISCORD_GUILD_MEMBERS=true") {
		t.Errorf("status %q does not say that leaving members keep getting deliveries", d)
	}
}
