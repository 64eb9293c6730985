package discord

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
)

// maxChoices is Discord's limit on autocomplete suggestions.
const maxChoices = 25

// framing is the text before a pointer the member sent with /clm send.
func framing(memberID string) string { return "<@" + memberID + "> posted a CLM pointer\n" }

// capsFor is what Discord allows for a request by member: the pointer must
// fit in one 2000-character message after the framing text.
func capsFor(memberID string, ephemeral, canDelete bool) bridge.Capabilities {
	return bridge.Capabilities{
		MaxPointerChars: MessageLimit - len([]rune(framing(memberID))),
		Ephemeral:       ephemeral,
		CanDelete:       canDelete,
		Buttons:         true,
	}
}

// interactionUser returns who made the interaction (a guild member or a DM user).
func interactionUser(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

// memberOf builds the bridge member for a Discord user; the display name
// is the guild nickname, else the global name, else the username.
func memberOf(u *discordgo.User, guildMember *discordgo.Member) bridge.Member {
	name := u.GlobalName
	if name == "" {
		name = u.Username
	}
	if guildMember != nil && guildMember.Nick != "" {
		name = guildMember.Nick
	}
	return bridge.Member{Platform: Name, ID: u.ID, DisplayName: name}
}

// placeOf is where an event happened: a DM (private) or a guild channel.
func placeOf(guildID, channelID string) bridge.Place {
	if guildID == "" {
		return bridge.Place{Kind: bridge.Private, ID: channelID, Name: "DM"}
	}
	return bridge.Place{Kind: bridge.Public, ID: channelID, Name: "<#" + channelID + ">"}
}

// translation is what an interaction asks of the adapter: a modal to show,
// a request for the core, or an ephemeral note (for an interaction the
// adapter does not handle).
type translation struct {
	modal *discordgo.InteractionResponseData
	req   *bridge.Request // without Reply and Caps
	note  string
	// update is true for a press of a confirmation button: the answer
	// replaces the prompt (and its buttons), so it cannot be pressed twice.
	update bool
}

// translate turns an interaction (other than autocomplete) into what to do.
// It is pure, so that each case can be tested on its own.
func translate(i *discordgo.Interaction) translation {
	u := interactionUser(i)
	if u == nil {
		return translation{note: "I could not tell who you are; please try again."}
	}
	base := bridge.Request{Member: memberOf(u, i.Member), Place: placeOf(i.GuildID, i.ChannelID)}
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		data := i.ApplicationCommandData()
		if data.CommandType == discordgo.MessageApplicationCommand {
			if data.Name != ContextMenuName {
				return translation{note: "I do not know that command any more."}
			}
			req := base
			req.Command = "receive"
			req.MessageID = data.TargetID
			if data.Resolved != nil {
				if m := data.Resolved.Messages[data.TargetID]; m != nil {
					req.Quoted = m.Content
				}
			}
			return translation{req: &req}
		}
		if data.Name != CommandName || len(data.Options) == 0 {
			return translation{note: "I do not know that command any more."}
		}
		subOpt := data.Options[0]
		s, ok := subByName(subOpt.Name)
		if !ok {
			return translation{note: "I do not know /clm " + subOpt.Name + " any more; try /clm help."}
		}
		if wantsModal(s, subOpt.Options) {
			return translation{modal: buildModal(s, subOpt.Options)}
		}
		req := base
		req.Command = s.name
		req.Args = argsFromOptions(s, subOpt.Options)
		// The adapter answers every command with an ephemeral deferral, so
		// the invocation and its options are seen by nobody but the member
		// and the bot. (No option is meant for a secret all the same.)
		req.Confidential = true
		return translation{req: &req}

	case discordgo.InteractionMessageComponent:
		if cmd, ok := strings.CutPrefix(i.MessageComponentData().CustomID, commandPrefix); ok {
			// Confirm or Cancel under a question of the core: the press is
			// the command the core put on the button, as if typed.
			name, args, _ := strings.Cut(cmd, " ")
			if _, known := subByName(name); !known {
				return translation{note: "That button is no longer in use."}
			}
			req := base
			req.Command = name
			req.Args = args
			return translation{req: &req, update: true}
		}
		ref, ok := strings.CutPrefix(i.MessageComponentData().CustomID, receivePrefix)
		if !ok {
			return translation{note: "That button is no longer in use."}
		}
		req := base
		req.Command = "receive"
		req.ReceiveRef = ref
		if m := i.Message; m != nil {
			req.MessageID = m.ID
			// The pointers are public and in the message (a /clm send post)
			// or in the post it answers: quoting them lets the button work
			// even after the core forgot ref (a restart).
			switch {
			case len(clm.Extract(m.Content)) > 0:
				req.Quoted = m.Content
			case m.ReferencedMessage != nil && len(clm.Extract(m.ReferencedMessage.Content)) > 0:
				req.Quoted = m.ReferencedMessage.Content
			}
		}
		return translation{req: &req}

	case discordgo.InteractionModalSubmit:
		data := i.ModalSubmitData()
		s, lead, trail, ok := parseModalID(data.CustomID)
		if !ok {
			return translation{note: "That form is no longer in use."}
		}
		args, err := argsFromModal(s, lead, trail, modalValues(data.Components))
		if err != nil {
			return translation{note: "Nothing was done: " + err.Error() + "."}
		}
		req := base
		req.Command = s.name
		req.Args = args
		// A modal is seen only by the bot, even in a public channel.
		req.Confidential = true
		return translation{req: &req}
	}
	return translation{note: "I cannot handle that kind of interaction."}
}

// onInteraction is called on the gateway goroutine for every interaction.
// It drops replays, takes the member's turn in arrival order, and leaves
// the rest to a goroutine: acknowledge first (within Discord's 3 seconds),
// then ask the core.
func (a *Adapter) onInteraction(_ *discordgo.Session, ev *discordgo.InteractionCreate) {
	i := ev.Interaction
	if i == nil || !a.seen.first("i:"+i.ID) {
		if i != nil {
			a.log.Debug("dropped a replayed interaction", "interaction", i.ID)
		}
		return
	}
	a.noteChannel(i.GuildID, i.ChannelID)
	if i.Type == discordgo.InteractionApplicationCommandAutocomplete {
		a.spawn(func(ctx context.Context) { a.autocomplete(ctx, i) })
		return
	}
	tr := translate(i)
	if tr.req == nil {
		a.spawn(func(ctx context.Context) {
			resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: tr.note, Flags: discordgo.MessageFlagsEphemeral}}
			if tr.modal != nil {
				resp = &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: tr.modal}
			}
			if err := a.respond(ctx, i, resp); err != nil {
				a.log.Warn("cannot answer an interaction", "error", err)
			}
		})
		return
	}
	wait, done := a.order.reserve(tr.req.Member.ID)
	started := a.spawn(func(ctx context.Context) {
		defer done()
		// Acknowledge at once, privately: the core's answers then edit this
		// "thinking…" reply or follow it, visible to the member only.
		ack := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}}
		if tr.update {
			// The prompt is ephemeral already; its edit is the answer.
			ack = &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
		}
		err := a.respond(ctx, i, ack)
		if err != nil {
			// The core must not act on an interaction nobody can answer.
			switch code, _ := apiCode(err); code {
			case codeAlreadyAcked:
				a.log.Info("an interaction was already answered (a replay); ignoring it", "interaction", i.ID)
			case codeUnknownInteraction:
				a.log.Warn("an interaction expired before it could be acknowledged; ignoring it", "interaction", i.ID)
			default:
				a.log.Warn("cannot acknowledge an interaction; ignoring it", "interaction", i.ID, "error", err)
			}
			return
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return
		}
		req := *tr.req
		rep := &interactionReply{a: a, i: i, member: req.Member, command: req.Command, update: tr.update}
		req.Reply = rep
		req.Caps = capsFor(req.Member.ID, true, false)
		err = a.core.Handle(ctx, req)
		if err != nil {
			a.log.Warn("the core could not finish a request", "command", req.LogName(), "error", a.red.Err(err))
		}
		rep.finish(ctx, err)
	})
	if !started {
		done()
	}
}

// respond sends the initial response to an interaction.
func (a *Adapter) respond(ctx context.Context, i *discordgo.Interaction, r *discordgo.InteractionResponse) error {
	return a.rest.do(ctx, func(opts ...discordgo.RequestOption) error {
		return a.sess.InteractionRespond(i, r, opts...)
	})
}

// autocomplete suggests the member's own chat names matching what they
// typed so far (names only; no secret is involved).
func (a *Adapter) autocomplete(ctx context.Context, i *discordgo.Interaction) {
	u := interactionUser(i)
	if u == nil {
		return
	}
	var typed string
	data := i.ApplicationCommandData()
	if len(data.Options) > 0 {
		for _, o := range data.Options[0].Options {
			if o.Focused {
				typed, _ = o.Value.(string)
			}
		}
	}
	names, err := a.core.ChatNames(ctx, memberOf(u, i.Member))
	if err != nil {
		a.log.Warn("cannot list chat names for autocomplete", "error", a.red.Err(err))
	}
	choices := matchChoices(names, typed)
	err = a.respond(ctx, i, &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices}})
	if err != nil {
		a.log.Warn("cannot answer autocomplete", "error", err)
	}
}

// matchChoices keeps the names containing typed (case-insensitively),
// those starting with it first, at most Discord's 25.
func matchChoices(names []string, typed string) []*discordgo.ApplicationCommandOptionChoice {
	t := strings.ToLower(strings.TrimSpace(typed))
	var prefix, inside []string
	for _, n := range names {
		ln := strings.ToLower(n)
		switch {
		case strings.HasPrefix(ln, t):
			prefix = append(prefix, n)
		case strings.Contains(ln, t):
			inside = append(inside, n)
		}
	}
	sort.Strings(prefix)
	sort.Strings(inside)
	out := []*discordgo.ApplicationCommandOptionChoice{}
	for _, n := range append(prefix, inside...) {
		if len(out) == maxChoices {
			break
		}
		if len([]rune(n)) > 100 { // Discord's limit on a choice
			continue
		}
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: n, Value: n})
	}
	return out
}

// onMessage handles MESSAGE_CREATE: any text in a DM with the bot, and
// (with the Message Content intent, without which guild posts arrive
// empty) channel posts.
func (a *Adapter) onMessage(_ *discordgo.Session, ev *discordgo.MessageCreate) {
	m := ev.Message
	if m == nil || m.Author == nil {
		return
	}
	if !a.seen.first("m:" + m.ID) {
		a.log.Debug("dropped a replayed message", "message", m.ID)
		return
	}
	a.handleMessage(m, false)
}

// onMessageUpdate handles MESSAGE_UPDATE: an edited message goes through
// the same policy as a new one (a secret typed by editing is refused and
// deleted like a typed one; a pointer added by an edit gets its Receive
// button). Discord also sends updates that are no edit by the author (a
// link preview resolved, an embed refreshed): partial objects without an
// author or an edited_timestamp, which are ignored.
func (a *Adapter) onMessageUpdate(_ *discordgo.Session, ev *discordgo.MessageUpdate) {
	m := ev.Message
	if m == nil || m.Author == nil || m.EditedTimestamp == nil {
		return
	}
	// One edit is one event, however often the gateway delivers it.
	if !a.seen.first("e:" + m.ID + ":" + m.EditedTimestamp.UTC().Format(time.RFC3339Nano)) {
		a.log.Debug("dropped a replayed edit", "message", m.ID)
		return
	}
	a.handleMessage(m, true)
}

// handleMessage takes a new or edited message to the core: both go through
// translateMessage alike. An edit of a post (not a command) reaches the
// core only when it adds a pointer the message did not hold before, so
// that fixing a typo beside a pointer does not offer Receive twice.
func (a *Adapter) handleMessage(m *discordgo.Message, edited bool) {
	if m.Author.Bot || m.Author.ID == a.botID.Load().(string) {
		return
	}
	a.noteChannel(m.GuildID, m.ChannelID)
	req, ok := translateMessage(m)
	if !ok {
		return
	}
	if req.Command == "" {
		if added := a.pointers.add(m.ID, req.Post); edited && !added {
			return
		}
	}
	wait, done := a.order.reserve(req.Member.ID)
	started := a.spawn(func(ctx context.Context) {
		defer done()
		select {
		case <-wait:
		case <-ctx.Done():
			return
		}
		rep := &messageReply{a: a, m: m, member: req.Member, command: req.Command}
		req.Reply = rep
		req.Caps = capsFor(req.Member.ID, false, m.GuildID != "")
		if err := a.core.Handle(ctx, req); err != nil {
			a.log.Warn("the core could not finish a request", "command", req.LogName(), "error", a.red.Err(err))
		}
	})
	if !started {
		done()
	}
}

// translateMessage turns a message into a request, or ok=false when the
// bot has nothing to do with it.
func translateMessage(m *discordgo.Message) (bridge.Request, bool) {
	req := bridge.Request{Member: memberOf(m.Author, m.Member), Place: placeOf(m.GuildID, m.ChannelID), MessageID: m.ID}
	if m.GuildID == "" {
		if strings.TrimSpace(m.Content) == "" {
			return req, false
		}
		if ct, ok := bridge.ParseCommandText(m.Content); ok {
			req.Command, req.Args = ct.Name, ct.Args
		} else {
			// The core reads any other line: the answer to its question,
			// a command without /clm ("clm chats", "unlock Work …"), or
			// pointers to open.
			req.Post = m.Content
		}
		return req, true
	}
	// In a guild the content is empty without the Message Content intent.
	// With it, every post goes to the core: it offers Receive under
	// pointers, and notes who is in the channel for watch deliveries.
	if strings.TrimSpace(m.Content) == "" {
		return req, false
	}
	if ct, ok := bridge.ParseCommandText(m.Content); ok {
		// A command typed as text, in public, however /clm was written
		// (/CLM, a newline or no-break space after it…): the core refuses
		// a secret in it and asks to delete the message.
		req.Command, req.Args = ct.Name, ct.Args
		return req, true
	}
	req.Post = m.Content
	return req, true
}

// errIsCannotDM reports whether err is Discord refusing a DM (50007).
func errIsCannotDM(err error) bool {
	code, _ := apiCode(err)
	return code == codeCannotSendToUser
}

// errIsNoRights reports whether err is Discord refusing an action for lack
// of rights.
func errIsNoRights(err error) bool {
	code, status := apiCode(err)
	return status == 403 || code == codeMissingAccess || code == codeMissingPermissions || code == codeCannotActOnDM
}

var errNotDiscord = errors.New("discord: that member is not a Discord member")

// noteChannel remembers that a guild channel had an event: the core notes
// members per channel, and these are the channels to forget a member in
// when they leave the guild.
func (a *Adapter) noteChannel(guildID, channelID string) { a.channels.note(guildID, channelID) }

// onMemberRemove handles GUILD_MEMBER_REMOVE (sent only with the Server
// Members intent): the member left or was removed from a guild, so the
// core forgets them in every channel of it the adapter has seen, and watch
// stops delivering those channels' pointers to them. When the adapter may
// have forgotten some of that guild's channels (its bounded memory), it
// forgets the member in every Discord channel instead: a missed delivery,
// until they are seen again, is better than one to someone who left.
func (a *Adapter) onMemberRemove(_ *discordgo.Session, ev *discordgo.GuildMemberRemove) {
	if ev.Member == nil || ev.User == nil || ev.GuildID == "" {
		return
	}
	m := memberOf(ev.User, nil)
	ids, complete := a.channels.channels(ev.GuildID)
	if !complete {
		a.core.MemberLeft(m, "", true)
		a.log.Debug("a member left a server; forgot them in every channel", "guild", ev.GuildID)
		return
	}
	for _, id := range ids {
		a.core.MemberLeft(m, id, false)
	}
	a.log.Debug("a member left a server; forgot them in its channels", "guild", ev.GuildID, "channels", len(ids))
}
