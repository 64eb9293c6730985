package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// When several instances serve one community, a request may arrive on an
// instance that does not own its member (a DM arrives on shard 0 only).
// The receiving instance has already acknowledged an interaction (the
// deferred "thinking…" reply); the owner rebuilds the reply from its
// addressing and answers over REST with the interaction's token, which
// any instance of the bot may use, or posts and DMs for a message.

var (
	_ platform.Relayable = (*interactionReply)(nil)
	_ platform.Relayable = (*messageReply)(nil)
	_ platform.Relay     = (*Adapter)(nil)
)

// Kinds of relayed replies.
const (
	relayInteraction = "interaction"
	relayMessage     = "message"
)

// Bounds on a relay state, so that a corrupt or hostile one is refused
// before anything is sent.
const (
	maxRelayState    = 2048
	maxTokenLen      = 512
	maxRelayCommand  = 32
	relayStateFormat = 1
)

// relayState is a reply's addressing: which interaction or message to
// answer, where, and for whom. It holds no text the member typed.
type relayState struct {
	V             int    `json:"v"`
	Kind          string `json:"kind"`
	InteractionID string `json:"interaction_id,omitempty"`
	Token         string `json:"token,omitempty"`
	AppID         string `json:"app_id,omitempty"`
	Type          int    `json:"type,omitempty"`
	// Update: the interaction is a press of a confirmation button, whose
	// answer replaces the prompt (see interactionReply.update).
	Update bool `json:"update,omitempty"`
	// Answered: the deferred reply was already replaced, so answers are
	// followups.
	Answered  bool   `json:"answered,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	ChannelID string `json:"channel_id"`
	GuildID   string `json:"guild_id,omitempty"`
	MemberID  string `json:"member_id"`
	Command   string `json:"command,omitempty"`
}

// RelayState encodes the interaction's addressing (ids, token, type, the
// member's id and the command's name), for another instance to answer it.
func (r *interactionReply) RelayState() ([]byte, error) {
	r.mu.Lock()
	answered := r.answered
	r.mu.Unlock()
	return json.Marshal(relayState{
		V: relayStateFormat, Kind: relayInteraction,
		InteractionID: r.i.ID, Token: r.i.Token, AppID: r.i.AppID, Type: int(r.i.Type), Update: r.update, Answered: answered,
		ChannelID: r.i.ChannelID, GuildID: r.i.GuildID, MemberID: r.member.ID, Command: relayCommand(r.command),
	})
}

// Relayed marks the interaction as answered by another instance: from now
// on this reply shows nothing, and finish closes nothing.
func (r *interactionReply) Relayed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.relayed = true
}

// isRelayed reports whether another instance took the interaction over.
func (r *interactionReply) isRelayed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.relayed
}

// RelayState encodes the message's addressing (channel, message, guild,
// the member's id and the command's name), for another instance to answer
// it. The message's text is not in it.
func (r *messageReply) RelayState() ([]byte, error) {
	return json.Marshal(relayState{
		V: relayStateFormat, Kind: relayMessage,
		MessageID: r.m.ID, ChannelID: r.m.ChannelID, GuildID: r.m.GuildID, MemberID: r.member.ID, Command: relayCommand(r.command),
	})
}

// Relayed marks the message as answered by another instance: from now on
// this reply posts, DMs and deletes nothing.
func (r *messageReply) Relayed() { r.relayed.Store(true) }

// ServeRelayed answers, on this instance, a request another instance
// received: it rebuilds the interaction's or message's reply from state
// (what that instance's RelayState returned), sets it and the request's
// capabilities on req as the receiving path does, has handle handle req,
// and closes an interaction's reply as a local one is closed. State that
// is not a valid Discord reply's, or that names another member than req,
// is refused with an error before anything is sent. It returns handle's
// error otherwise.
func (a *Adapter) ServeRelayed(ctx context.Context, handle func(context.Context, bridge.Request) error, req bridge.Request, state []byte) error {
	if handle == nil {
		return errors.New("discord: ServeRelayed needs a handler")
	}
	st, err := parseRelayState(state)
	if err != nil {
		return err
	}
	if req.Member.Platform != Name || req.Member.ID != st.MemberID {
		return errors.New("discord: relayed request is for another member than its reply state; not answering it")
	}
	switch st.Kind {
	case relayInteraction:
		i := &discordgo.Interaction{ID: st.InteractionID, AppID: st.AppID, Type: discordgo.InteractionType(st.Type), Token: st.Token,
			ChannelID: st.ChannelID, GuildID: st.GuildID}
		rep := &interactionReply{a: a, i: i, member: req.Member, command: st.Command, update: st.Update, answered: st.Answered}
		req.Reply = rep
		req.Caps = capsFor(req.Member.ID, true, false)
		err := handle(ctx, req)
		if err != nil {
			a.log.Warn("the core could not finish a relayed request", "command", req.LogName(), "error", a.red.Err(err))
		}
		rep.finish(ctx, err)
		return err
	default: // relayMessage; parseRelayState knows no other kind
		m := &discordgo.Message{ID: st.MessageID, ChannelID: st.ChannelID, GuildID: st.GuildID}
		req.Reply = &messageReply{a: a, m: m, member: req.Member, command: st.Command}
		req.Caps = capsFor(req.Member.ID, false, st.GuildID != "")
		err := handle(ctx, req)
		if err != nil {
			a.log.Warn("the core could not finish a relayed request", "command", req.LogName(), "error", a.red.Err(err))
		}
		return err
	}
}

// parseRelayState decodes and validates a relay state: its size, its
// format, its kind, that every id is a snowflake and the token fits in a
// URL path.
func parseRelayState(state []byte) (relayState, error) {
	var st relayState
	if len(state) == 0 || len(state) > maxRelayState {
		return st, fmt.Errorf("discord: relay state of %d bytes is not a Discord reply's (at most %d); not answering it", len(state), maxRelayState)
	}
	if err := platform.DecodeRelayState(state, maxRelayState, &st); err != nil {
		return relayState{}, errors.New("discord: relay state is not a Discord reply's (undecodable or trailing data); not answering it")
	}
	bad := func(what string) (relayState, error) {
		return relayState{}, fmt.Errorf("discord: relay state has %s; not answering it (are all instances the same version?)", what)
	}
	if st.V != relayStateFormat {
		return bad("format " + strconv.Itoa(st.V))
	}
	if !isSnowflake(st.ChannelID) || !isSnowflake(st.MemberID) || (st.GuildID != "" && !isSnowflake(st.GuildID)) {
		return bad("a channel, guild or member id that is no Discord id")
	}
	if !validCommand(st.Command) {
		return bad("an invalid command name")
	}
	switch st.Kind {
	case relayInteraction:
		if !isSnowflake(st.InteractionID) || !isSnowflake(st.AppID) {
			return bad("an interaction or application id that is no Discord id")
		}
		if !validToken(st.Token) {
			return bad("an invalid interaction token")
		}
		switch discordgo.InteractionType(st.Type) {
		case discordgo.InteractionApplicationCommand, discordgo.InteractionMessageComponent, discordgo.InteractionModalSubmit:
		default:
			return bad("interaction type " + strconv.Itoa(st.Type))
		}
		if st.MessageID != "" {
			return bad("a message id on an interaction")
		}
	case relayMessage:
		if !isSnowflake(st.MessageID) {
			return bad("a message id that is no Discord id")
		}
		if st.InteractionID != "" || st.Token != "" || st.AppID != "" || st.Type != 0 || st.Update || st.Answered {
			return bad("interaction fields on a message")
		}
	default:
		return bad("an unknown kind")
	}
	return st, nil
}

// isSnowflake reports whether s is a Discord id: a positive decimal
// number that fits in 64 bits, without sign or leading zeros.
func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 || s[0] == '0' {
		return false
	}
	for k := 0; k < len(s); k++ {
		if s[k] < '0' || s[k] > '9' {
			return false
		}
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// validToken reports whether s can be an interaction token: what Discord
// issues (letters, digits, '.', '_' and '-'), which is also safe in the
// URL path it goes into.
func validToken(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for k := 0; k < len(s); k++ {
		c := s[k]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// relayCommand is the command name a relay state carries: a known
// subcommand's name or "" as they are, anything else (a word the member
// typed) as "unknown", which a reply treats alike.
func relayCommand(c string) string {
	if _, ok := subByName(c); ok || c == "" {
		return c
	}
	return "unknown"
}

// validCommand reports whether s can be a request's command name: empty
// (a post) or a short lower-case word.
func validCommand(s string) bool {
	if len(s) > maxRelayCommand {
		return false
	}
	for k := 0; k < len(s); k++ {
		if c := s[k]; !(c >= 'a' && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
