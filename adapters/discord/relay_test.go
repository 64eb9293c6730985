package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// pair is two instances of one bot on one fake Discord: a receives guild
// 77's events and the DMs (shard 0 of 2), b is the members' owner (shard
// 1 of 2), to which a's core hands every request but "help".
type pair struct {
	fake         *discordtest.Server
	a, b         *running
	coreA, coreB *fakeCore
	served       chan error // what each b.ServeRelayed returned
}

// fromReceiver is what the receiving instance's core tries to say after it
// marked the reply as relayed; the member must never see it.
const fromReceiver = "from the receiving instance"

func startPair(t *testing.T, cfgA Config) *pair {
	t.Helper()
	fake := discordtest.New(t, discordtest.WithGuilds("77", guildOnShard1))
	p := &pair{fake: fake, coreA: newFakeCore(), coreB: newFakeCore(), served: make(chan error, 8)}
	cfgA.GuildID, cfgA.ShardID, cfgA.ShardCount = "77", 0, 2
	p.a = startWith(t, fake, cfgA, p.coreA)
	p.b = startWith(t, fake, Config{GuildID: "77", ShardID: 1, ShardCount: 2}, p.coreB)
	p.coreA.mu.Lock()
	p.coreA.handle = p.relay
	p.coreA.mu.Unlock()
	return p
}

// relay is a's core: as the host does for a member another instance owns,
// it takes the reply's state, marks it relayed and forwards the request to
// b; then it tries to answer anyway, which must show nothing.
func (p *pair) relay(ctx context.Context, req bridge.Request) error {
	if req.Command == "help" {
		return req.Reply.Private(ctx, "ok help") // handled here
	}
	rel, ok := req.Reply.(platform.Relayable)
	if !ok {
		return errors.New("the reply is not relayable")
	}
	state, err := rel.RelayState()
	if err != nil {
		return err
	}
	rel.Relayed()
	fwd := req
	fwd.Reply, fwd.Caps = nil, bridge.Capabilities{}
	go func() { p.served <- p.b.a.ServeRelayed(context.Background(), p.coreB.Handle, fwd, state) }()
	_ = req.Reply.Private(ctx, fromReceiver)
	_ = req.Reply.Public(ctx, bridge.PublicPost{Text: fromReceiver})
	_ = req.Reply.DeleteRequest(ctx)
	return nil
}

// waitServed waits for b to finish one relayed request and returns its error.
func (p *pair) waitServed(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.served:
		return err
	case <-time.After(15 * time.Second): // a bound against hangs, not a timing assertion
		t.Fatal("the owner did not finish the relayed request")
		return nil
	}
}

// settle has alice run /clm help, which a answers itself after her earlier
// requests (a member's requests are handled in order, closing included):
// once it is answered, a has closed everything before it.
func (p *pair) settle(t *testing.T, where discordtest.Place, n int) {
	t.Helper()
	in := p.fake.Interact(t, discordtest.Slash(alice, where, "help"))
	p.fake.WaitText(t, in.ID)
	p.coreA.waitRequests(t, n)
}

func (p *pair) noneFromReceiver(t *testing.T) {
	t.Helper()
	for _, m := range p.fake.Messages() {
		if strings.Contains(m.Content, fromReceiver) {
			t.Errorf("the receiving instance answered after relaying: %+v", m)
		}
	}
}

func TestARelayedInteractionIsAnsweredOnceByTheOwner(t *testing.T) {
	t.Parallel()
	p := startPair(t, Config{})
	in := p.fake.Interact(t, discordtest.Slash(alice, general, "chats"))
	if err := p.waitServed(t); err != nil {
		t.Fatalf("ServeRelayed: %v", err)
	}
	p.settle(t, general, 2)

	var shown []discordtest.Reply
	for _, r := range p.fake.Replies(in.ID) {
		if r.Content != "" {
			shown = append(shown, r)
		}
	}
	if len(shown) != 1 || shown[0].Content != "ok chats" || shown[0].Kind != "edit" || !shown[0].Ephemeral {
		t.Errorf("alice was shown %+v; want the owner's answer once, as the private edit of the deferred reply", shown)
	}
	reqs := p.coreB.requests()
	if len(reqs) != 1 || reqs[0].Command != "chats" || !reqs[0].Caps.Ephemeral || reqs[0].Caps.MaxPointerChars == 0 {
		t.Errorf("the owner's core got %+v; want the request with an interaction's capabilities", reqs)
	}
	if n := len(p.fake.PublicMessages()); n != 0 {
		t.Errorf("%d public messages", n)
	}
	p.noneFromReceiver(t)
}

func TestTheOwnerClosesARelayedInteractionItLeftUnanswered(t *testing.T) {
	t.Parallel()
	p := startPair(t, Config{})
	p.coreB.handle = func(ctx context.Context, req bridge.Request) error {
		return req.Reply.Public(ctx, bridge.PublicPost{Text: "a pointer"})
	}
	in := p.fake.Interact(t, discordtest.Slash(alice, general, "send", discordtest.Opt("chat", "Work"), discordtest.Opt("text", "hi")))
	if err := p.waitServed(t); err != nil {
		t.Fatalf("ServeRelayed: %v", err)
	}
	p.settle(t, general, 2)
	if got := texts(p.fake, in.ID); !slices.Equal(got, []string{"Done."}) {
		t.Errorf("alice was shown %q; want the owner's one closing Done. after its post", got)
	}
	if posts := p.fake.ChannelMessages(general.ChannelID); len(posts) != 1 || !strings.Contains(posts[0].Content, "a pointer") {
		t.Errorf("posts in the channel: %+v", posts)
	}
	p.noneFromReceiver(t)
}

func TestARelayedConfirmButtonReplacesThePrompt(t *testing.T) {
	t.Parallel()
	p := startPair(t, Config{})
	p.coreB.handle = func(ctx context.Context, req bridge.Request) error {
		if req.Command == "forget" && req.Args == "Work" {
			return req.Reply.(bridge.Confirmer).Confirm(ctx, "Forget Work?", "forget Work yes", "forget Work no")
		}
		return req.Reply.Private(ctx, "Forgot Work.")
	}
	ask := p.fake.Interact(t, discordtest.Slash(alice, general, "forget", discordtest.Opt("chat", "Work")))
	if err := p.waitServed(t); err != nil {
		t.Fatalf("ServeRelayed: %v", err)
	}
	prompt := latest(p.fake, p.fake.WaitText(t, ask.ID).MessageID)
	if len(prompt.ButtonIDs()) != 2 {
		t.Fatalf("prompt %+v has no buttons", prompt)
	}
	pressed := p.fake.Interact(t, discordtest.Button(alice, general, prompt, prompt.ButtonIDs()[0]))
	if err := p.waitServed(t); err != nil {
		t.Fatalf("ServeRelayed of the press: %v", err)
	}
	p.settle(t, general, 3)
	answer := p.fake.WaitText(t, pressed.ID)
	if after := latest(p.fake, prompt.ID); answer.Kind != "edit" || answer.MessageID != prompt.ID || after.Content != "Forgot Work." || len(after.ButtonIDs()) != 0 {
		t.Errorf("the press answered %+v, prompt now %q with buttons %v; want the prompt replaced without buttons", answer, after.Content, after.ButtonIDs())
	}
	if got := texts(p.fake, pressed.ID); len(got) != 1 {
		t.Errorf("the press was answered %q, want once", got)
	}
	p.noneFromReceiver(t)
}

func TestARelayedDMIsAnsweredInTheDMByTheOwner(t *testing.T) {
	t.Parallel()
	p := startPair(t, Config{})
	p.fake.PostMessage(t, alice, discordtest.DM(alice), "/clm chats")
	if err := p.waitServed(t); err != nil {
		t.Fatalf("ServeRelayed: %v", err)
	}
	p.coreA.waitRequests(t, 1)
	msgs := p.fake.ChannelMessages(discordtest.DMChannelID(alice.ID))
	if len(msgs) != 1 || msgs[0].Content != "ok chats" {
		t.Errorf("alice's DM holds %+v; want the owner's answer once", msgs)
	}
	if reqs := p.coreB.requests(); len(reqs) != 1 || reqs[0].Caps.Ephemeral || reqs[0].Caps.CanDelete || reqs[0].Place.Kind != bridge.Private {
		t.Errorf("the owner's core got %+v; want a DM's request and capabilities", reqs)
	}
	p.noneFromReceiver(t)
}

func TestARelayedGuildPostIsAnsweredByDMAndAReplyInTheChannel(t *testing.T) {
	t.Parallel()
	p := startPair(t, Config{MessageContent: true})
	p.coreB.handle = func(ctx context.Context, req bridge.Request) error {
		if err := req.Reply.Private(ctx, "private answer"); err != nil {
			return err
		}
		return req.Reply.Public(ctx, bridge.PublicPost{Text: "public answer"})
	}
	post, _ := p.fake.PostMessage(t, alice, general, "look at this")
	if err := p.waitServed(t); err != nil {
		t.Fatalf("ServeRelayed: %v", err)
	}
	p.coreA.waitRequests(t, 1)
	if dm := p.fake.ChannelMessages(discordtest.DMChannelID(alice.ID)); len(dm) != 1 || dm[0].Content != "private answer" {
		t.Errorf("alice's DM holds %+v; want the private answer once", dm)
	}
	pub := p.fake.ChannelMessages(general.ChannelID)
	if len(pub) != 1 || pub[0].Content != "public answer" || pub[0].ReplyTo != post.ID {
		t.Errorf("the channel holds %+v; want the public answer once, as a reply to alice's post", pub)
	}
	if reqs := p.coreB.requests(); len(reqs) != 1 || !reqs[0].Caps.CanDelete || reqs[0].Post != "look at this" {
		t.Errorf("the owner's core got %+v", reqs)
	}
	p.noneFromReceiver(t)
}

// validState is a well-formed interaction reply's state for alice.
func validState() relayState {
	return relayState{V: relayStateFormat, Kind: relayInteraction, InteractionID: "1001", Token: "interaction-token-1001-aW50",
		AppID: discordtest.DefaultAppID, Type: int(discordgo.InteractionApplicationCommand), ChannelID: general.ChannelID,
		GuildID: general.GuildID, MemberID: alice.ID, Command: "chats"}
}

func TestBadRelayStateIsRefusedAndNothingSent(t *testing.T) {
	t.Parallel()
	r := start(t, Config{GuildID: "77"}, newFakeCore())
	enc := func(change func(*relayState)) []byte {
		st := validState()
		change(&st)
		b, _ := json.Marshal(st)
		return b
	}
	tests := []struct {
		name  string
		state []byte
	}{
		{"empty", nil},
		{"not JSON", []byte("{nope")},
		{"trailing data", append(enc(func(*relayState) {}), []byte(` {"v":1}`)...)},
		{"unknown field", []byte(`{"v":1,"kind":"message","message_id":"5","channel_id":"5","member_id":"301","text":"hi"}`)},
		{"too large", append(enc(func(*relayState) {}), bytes.Repeat([]byte(" "), maxRelayState)...)},
		{"another format", enc(func(s *relayState) { s.V = 2 })},
		{"unknown kind", enc(func(s *relayState) { s.Kind = "webhook" })},
		{"channel not a snowflake", enc(func(s *relayState) { s.ChannelID = "500/../../x" })},
		{"guild not a snowflake", enc(func(s *relayState) { s.GuildID = "-77" })},
		{"member not a snowflake", enc(func(s *relayState) { s.MemberID = "alice" })},
		{"interaction id with a leading zero", enc(func(s *relayState) { s.InteractionID = "01001" })},
		{"id over 64 bits", enc(func(s *relayState) { s.AppID = "99999999999999999999" })},
		{"token with a path", enc(func(s *relayState) { s.Token = "abc/../../channels/5/messages" })},
		{"no token", enc(func(s *relayState) { s.Token = "" })},
		{"autocomplete", enc(func(s *relayState) { s.Type = int(discordgo.InteractionApplicationCommandAutocomplete) })},
		{"bad command", enc(func(s *relayState) { s.Command = "Send Now" })},
		{"message without message id", enc(func(s *relayState) {
			*s = relayState{V: 1, Kind: relayMessage, ChannelID: "500", MemberID: alice.ID}
		})},
		{"message with a token", enc(func(s *relayState) {
			*s = relayState{V: 1, Kind: relayMessage, MessageID: "9", ChannelID: "500", MemberID: alice.ID, Token: "abc"}
		})},
		{"another member", enc(func(s *relayState) { s.MemberID = bob.ID })},
	}
	before := len(r.fake.Calls())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handled := false
			handle := func(context.Context, bridge.Request) error { handled = true; return nil }
			req := bridge.Request{Member: bridge.Member{Platform: Name, ID: alice.ID}, Command: "chats"}
			err := r.a.ServeRelayed(context.Background(), handle, req, tt.state)
			if err == nil || handled {
				t.Fatalf("ServeRelayed: %v, handled %v; want it refused before handling", err, handled)
			}
		})
	}
	if calls := r.fake.Calls()[before:]; len(calls) != 0 {
		t.Errorf("bad states made %d REST calls, first %s %s", len(calls), calls[0].Method, calls[0].Path)
	}
	if _, err := parseRelayState(enc(func(*relayState) {})); err != nil {
		t.Errorf("the valid state is refused: %v", err)
	}
}

func TestRelayStateHoldsNoTextOfTheMember(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Token: discordtest.DefaultToken}, newFakeCore(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const typed = "correct horse battery staple"
	msg := &messageReply{a: a, m: &discordgo.Message{ID: "9", ChannelID: "500", GuildID: "77", Content: "unlock Work " + typed,
		Author: &discordgo.User{ID: alice.ID}}, member: bridge.Member{Platform: Name, ID: alice.ID}, command: "xyzzy" + typed}
	in := discordtest.Slash(alice, general, "unlock", discordtest.Opt("chat", "Work"), discordtest.Opt("passphrase", typed)).Payload("1001", "tok", "200")
	raw, _ := json.Marshal(in)
	var i discordgo.Interaction
	if err := json.Unmarshal(raw, &i); err != nil {
		t.Fatal(err)
	}
	ir := &interactionReply{a: a, i: &i, member: bridge.Member{Platform: Name, ID: alice.ID}, command: "unlock"}
	for _, rel := range []platform.Relayable{msg, ir} {
		state, err := rel.RelayState()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(state, []byte("horse")) || bytes.Contains(state, []byte("xyzzy")) {
			t.Errorf("the state %s holds what the member typed", state)
		}
		if _, err := parseRelayState(state); err != nil {
			t.Errorf("the state %s is refused: %v", state, err)
		}
	}
}
