package discordtest

import (
	"testing"
	"time"
)

// User is a person on the fake Discord.
type User struct {
	ID   string // a snowflake-like id, such as "301"
	Name string
}

func (u User) wire() map[string]any {
	return map[string]any{"id": u.ID, "username": u.Name, "global_name": u.Name, "discriminator": "0"}
}

// Place is where a person acts: a guild channel, or their DM with the bot.
type Place struct {
	GuildID   string // empty for a DM
	ChannelID string
}

// Channel is a guild text channel.
func Channel(guildID, channelID string) Place { return Place{GuildID: guildID, ChannelID: channelID} }

// DM is the user's direct-message channel with the bot.
func DM(u User) Place { return Place{ChannelID: DMChannelID(u.ID)} }

// Interaction is an INTERACTION_CREATE payload made by one of the
// builders below; [Server.Interact] gives it an id and token and sends it.
type Interaction struct {
	user    User
	place   Place
	typ     int
	data    map[string]any
	message *Message
}

// CommandOption is one option of a slash command.
type CommandOption struct {
	Name    string
	Value   any // string, int or bool
	Focused bool
}

// Opt is a slash-command option with a value.
func Opt(name string, value any) CommandOption { return CommandOption{Name: name, Value: value} }

// Focused is the option being typed during autocomplete.
func Focused(name, partial string) CommandOption {
	return CommandOption{Name: name, Value: partial, Focused: true}
}

func optionsWire(opts []CommandOption) []any {
	out := []any{}
	for _, o := range opts {
		typ := 3
		switch o.Value.(type) {
		case int, int64:
			typ = 4
		case bool:
			typ = 5
		}
		w := map[string]any{"name": o.Name, "type": typ, "value": o.Value}
		if o.Focused {
			w["focused"] = true
		}
		out = append(out, w)
	}
	return out
}

// Slash is "/clm <sub> <options>" typed by u in p.
func Slash(u User, p Place, sub string, opts ...CommandOption) Interaction {
	return Interaction{user: u, place: p, typ: 2, data: map[string]any{
		"id": "900", "name": "clm", "type": 1,
		"options": []any{map[string]any{"name": sub, "type": 1, "options": optionsWire(opts)}},
	}}
}

// Autocomplete is Discord asking for suggestions while u types an option
// of "/clm <sub>"; one option should be [Focused].
func Autocomplete(u User, p Place, sub string, opts ...CommandOption) Interaction {
	in := Slash(u, p, sub, opts...)
	in.typ = 4
	return in
}

// ContextMenu is u choosing the message command name on target.
func ContextMenu(u User, p Place, name string, target Message) Interaction {
	return Interaction{user: u, place: p, typ: 2, data: map[string]any{
		"id": "901", "name": name, "type": 3, "target_id": target.ID,
		"resolved": map[string]any{"messages": map[string]any{target.ID: target.wire()}},
	}}
}

// Button is u pressing the button customID on msg.
func Button(u User, p Place, msg Message, customID string) Interaction {
	m := msg
	return Interaction{user: u, place: p, typ: 3, message: &m, data: map[string]any{
		"custom_id": customID, "component_type": 2,
	}}
}

// SubmitModal is u submitting modal m with values by field custom id;
// fields not in values keep the value the bot filled in.
func SubmitModal(u User, p Place, m Modal, values map[string]string) Interaction {
	rows := []any{}
	for _, f := range m.Fields {
		v := f.Value
		if nv, ok := values[f.CustomID]; ok {
			v = nv
		}
		rows = append(rows, map[string]any{"type": 1, "components": []any{
			map[string]any{"type": 4, "custom_id": f.CustomID, "value": v},
		}})
	}
	return Interaction{user: u, place: p, typ: 5, data: map[string]any{"custom_id": m.CustomID, "components": rows}}
}

// Payload is the interaction as Discord's INTERACTION_CREATE data, with
// the given id, token and application id (for unit tests that decode it
// without a gateway).
func (in Interaction) Payload(id, token, appID string) map[string]any {
	d := map[string]any{
		"id": id, "application_id": appID, "type": in.typ, "token": token, "version": 1,
		"channel_id": in.place.ChannelID, "data": in.data, "app_permissions": "0", "locale": "en-US",
	}
	if in.place.GuildID != "" {
		d["guild_id"] = in.place.GuildID
		d["member"] = map[string]any{"user": in.user.wire(), "permissions": "0", "joined_at": time.Now().UTC().Format(time.RFC3339), "roles": []any{}}
	} else {
		d["user"] = in.user.wire()
	}
	if in.message != nil {
		d["message"] = in.message.wire()
	}
	return d
}

// Sent identifies an event the fake dispatched.
type Sent struct {
	ID  string // the interaction or message id
	Seq int64  // the gateway sequence number
}

// Interact gives the interaction an id and a token and dispatches it as
// INTERACTION_CREATE.
func (s *Server) Interact(t testing.TB, in Interaction) Sent {
	t.Helper()
	s.mu.Lock()
	id := s.newIDLocked()
	token := "interaction-token-" + id + "-aW50ZXJhY3Rpb24"
	rec := &interaction{id: id, token: token, userID: in.user.ID, channelID: in.place.ChannelID, guildID: in.place.GuildID}
	if in.message != nil {
		m := *in.message
		rec.componentMsg = &m
	}
	s.inter[id] = rec
	s.byToken[token] = rec
	if in.place.GuildID != "" {
		s.guildByChannel[in.place.ChannelID] = in.place.GuildID
	}
	s.mu.Unlock()

	d := in.Payload(id, token, s.appID)
	seq := s.Dispatch(t, "INTERACTION_CREATE", d)
	return Sent{ID: id, Seq: seq}
}

// PostMessage is u posting content in p; it is dispatched as MESSAGE_CREATE
// (subject to the bot's intents, see [Server.Dispatch]) and returned as the
// message others see, for use with [ContextMenu].
func (s *Server) PostMessage(t testing.TB, u User, p Place, content string) (Message, Sent) {
	t.Helper()
	s.mu.Lock()
	m := Message{ID: s.newIDLocked(), ChannelID: p.ChannelID, GuildID: p.GuildID, AuthorID: u.ID, Content: content}
	s.messages = append(s.messages, m)
	if p.GuildID != "" {
		s.guildByChannel[p.ChannelID] = p.GuildID
	}
	s.mu.Unlock()
	w := m.wire()
	w["author"] = u.wire()
	seq := s.Dispatch(t, "MESSAGE_CREATE", w)
	return m, Sent{ID: m.ID, Seq: seq}
}

// EditMessage is u editing their message msg to content; the new version
// is recorded and dispatched as MESSAGE_UPDATE with the full message and
// an edited_timestamp, as Discord does for an edit (subject to the bot's
// intents, like MESSAGE_CREATE). It returns the edited message.
func (s *Server) EditMessage(t testing.TB, u User, msg Message, content string) (Message, Sent) {
	t.Helper()
	s.mu.Lock()
	m := msg
	m.Content = content
	m.Edited = time.Now()
	for i := len(s.messages) - 1; i >= 0; i-- {
		if s.messages[i].ID == msg.ID && !s.messages[i].Edited.IsZero() && !m.Edited.After(s.messages[i].Edited) {
			// Each edit gets a later timestamp, even on a coarse clock.
			m.Edited = s.messages[i].Edited.Add(time.Millisecond)
			break
		}
	}
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	w := m.wire()
	w["author"] = u.wire()
	seq := s.Dispatch(t, "MESSAGE_UPDATE", w)
	return m, Sent{ID: m.ID, Seq: seq}
}

// UnfurlMessage is Discord updating msg without an edit by its author (a
// link preview resolved): a partial MESSAGE_UPDATE with the message's ids
// and embeds, no author, no content and no edited_timestamp.
func (s *Server) UnfurlMessage(t testing.TB, msg Message) Sent {
	t.Helper()
	d := map[string]any{"id": msg.ID, "channel_id": msg.ChannelID, "embeds": []any{map[string]any{"type": "link"}}}
	if msg.GuildID != "" {
		d["guild_id"] = msg.GuildID
	}
	return Sent{ID: msg.ID, Seq: s.Dispatch(t, "MESSAGE_UPDATE", d)}
}

// RemoveMember is u leaving (or being removed from) the guild: it is
// dispatched as GUILD_MEMBER_REMOVE, which Discord sends only to bots with
// the privileged GUILD_MEMBERS intent (see [Server.Dispatch]).
func (s *Server) RemoveMember(t testing.TB, guildID string, u User) Sent {
	t.Helper()
	return Sent{ID: u.ID, Seq: s.Dispatch(t, "GUILD_MEMBER_REMOVE", map[string]any{"guild_id": guildID, "user": u.wire()})}
}
