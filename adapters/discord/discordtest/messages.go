package discordtest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// Message is a message the fake knows: posted by a person through
// [Server.PostMessage], or by the bot through REST (a channel message or an
// interaction reply). Edits are recorded as new versions with the same ID.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string
	AuthorID  string
	Bot       bool
	Content   string
	// Components is the message's component rows as the bot sent them.
	Components []any
	// Ephemeral is true for an interaction reply only its member sees.
	Ephemeral bool
	// Interaction is the id of the interaction this message answers, if any.
	Interaction string
	Files       map[string][]byte
	// ReplyTo is the id of the message this one replies to, if any, and
	// Referenced that message as it was then.
	ReplyTo    string
	Referenced *Message
	Deleted    bool
	// Edited is when a person last edited the message (zero: never).
	Edited time.Time
}

// ButtonIDs returns the custom ids of the message's buttons, in order.
func (m Message) ButtonIDs() []string { return m.buttonField("custom_id") }

// ButtonLabels returns the labels of the message's buttons, in order.
func (m Message) ButtonLabels() []string { return m.buttonField("label") }

// buttonField returns one string field of every component in the message's
// action rows, in order, skipping components without it.
func (m Message) buttonField(key string) []string {
	var out []string
	for _, row := range m.Components {
		r, _ := row.(map[string]any)
		cs, _ := r["components"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			if v, ok := cm[key].(string); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// wire is the message as Discord's JSON.
func (m Message) wire() map[string]any {
	author := map[string]any{"id": m.AuthorID, "username": "user" + m.AuthorID, "bot": m.Bot}
	w := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "type": 0,
		"author": author, "timestamp": time.Now().UTC().Format(time.RFC3339),
		"components": m.Components,
	}
	if m.Components == nil {
		w["components"] = []any{}
	}
	if m.GuildID != "" {
		w["guild_id"] = m.GuildID
	}
	if !m.Edited.IsZero() {
		w["edited_timestamp"] = m.Edited.UTC().Format(time.RFC3339Nano)
	}
	if m.Ephemeral {
		w["flags"] = 64
	}
	if m.ReplyTo != "" {
		w["message_reference"] = map[string]any{"message_id": m.ReplyTo, "channel_id": m.ChannelID}
		if m.Referenced != nil {
			ref := *m.Referenced
			ref.Referenced = nil
			w["referenced_message"] = ref.wire()
		}
	}
	return w
}

func components(body map[string]any) []any {
	cs, _ := body["components"].([]any)
	return cs
}

func (s *Server) guildOfLocked(channelID string) string {
	if IsDM(channelID) {
		return ""
	}
	return s.guildByChannel[channelID]
}

// storeBotMessageLocked records a channel message the bot posted. s.mu must be held.
func (s *Server) storeBotMessageLocked(channelID string, body map[string]any, files map[string][]byte) Message {
	content, _ := body["content"].(string)
	m := Message{
		ID: s.newIDLocked(), ChannelID: channelID, GuildID: s.guildOfLocked(channelID), AuthorID: s.botID, Bot: true,
		Content: content, Components: components(body), Files: files,
	}
	if ref, ok := body["message_reference"].(map[string]any); ok {
		m.ReplyTo, _ = ref["message_id"].(string)
		for i := len(s.messages) - 1; i >= 0; i-- {
			if s.messages[i].ID == m.ReplyTo {
				r := s.messages[i]
				m.Referenced = &r
				break
			}
		}
	}
	s.messages = append(s.messages, m)
	return m
}

// Messages returns every message version the fake knows, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// PublicMessages returns every version of every message the bot made that
// people other than one member could see: channel messages outside DMs and
// interaction replies that were not ephemeral.
func (s *Server) PublicMessages() []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.Bot && !m.Ephemeral && !IsDM(m.ChannelID) {
			out = append(out, m)
		}
	}
	return out
}

// ChannelMessages returns the messages the bot posted in a channel (not
// interaction replies), latest version only, without deleted ones.
func (s *Server) ChannelMessages(channelID string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.ChannelID == channelID && m.Bot && m.Interaction == "" && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// WaitChannelMessage waits until the bot has posted a channel message
// satisfying pred in channelID, and returns it.
func (s *Server) WaitChannelMessage(t testing.TB, channelID string, pred func(Message) bool) Message {
	t.Helper()
	var found Message
	s.waitFor(t, "a bot message in channel "+channelID, func() bool {
		for _, m := range s.messages {
			if m.ChannelID == channelID && m.Bot && m.Interaction == "" && pred(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// Reply is one thing the bot did in answer to an interaction.
type Reply struct {
	// Kind is "modal", "choices", "deferred", "message" (an initial
	// message), "update" (a component's message changed), "edit" (the
	// original response edited) or "followup".
	Kind      string
	Content   string
	Ephemeral bool
	Modal     *Modal
	Choices   []string
	Files     map[string][]byte
	MessageID string
}

// Modal is a modal the bot opened.
type Modal struct {
	CustomID string
	Title    string
	Fields   []ModalField
}

// ModalField is one text input of a modal.
type ModalField struct {
	CustomID string
	Label    string
	Style    int // 1 short, 2 paragraph
	Value    string
	Required bool
}

// interaction is the fake's memory of one interaction it dispatched.
type interaction struct {
	id, token, userID, channelID, guildID string
	componentMsg                          *Message // the message a button was on
	acked                                 bool
	originalEphemeral                     bool
	originalID                            string
	replies                               []Reply
}

// Replies returns what the bot did in answer to the interaction so far.
func (s *Server) Replies(interactionID string) []Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.inter[interactionID]; in != nil {
		return append([]Reply(nil), in.replies...)
	}
	return nil
}

// WaitReply waits until a reply to the interaction satisfies pred and returns it.
func (s *Server) WaitReply(t testing.TB, interactionID string, pred func(Reply) bool) Reply {
	t.Helper()
	var found Reply
	s.waitFor(t, "a reply to interaction "+interactionID, func() bool {
		in := s.inter[interactionID]
		if in == nil {
			return false
		}
		for _, r := range in.replies {
			if pred(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// WaitText waits for a reply to the interaction that shows text (an initial
// message, an edit or a followup) and returns it.
func (s *Server) WaitText(t testing.TB, interactionID string) Reply {
	t.Helper()
	return s.WaitReply(t, interactionID, func(r Reply) bool {
		return (r.Kind == "message" || r.Kind == "edit" || r.Kind == "followup") && (r.Content != "" || len(r.Files) > 0)
	})
}

// WaitModal waits for the bot to open a modal in answer to the interaction.
func (s *Server) WaitModal(t testing.TB, interactionID string) Modal {
	t.Helper()
	return *s.WaitReply(t, interactionID, func(r Reply) bool { return r.Kind == "modal" }).Modal
}

// callbackLocked answers POST /interactions/{id}/{token}/callback.
func (s *Server) callbackLocked(id, token string, c *Call) (int, http.Header, []byte) {
	in := s.inter[id]
	if in == nil || in.token != token {
		return http.StatusNotFound, nil, apiError(10062, "Unknown interaction")
	}
	if in.acked {
		return http.StatusBadRequest, nil, apiError(40060, "Interaction has already been acknowledged.")
	}
	var body struct {
		Type int            `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(c.Body, &body); err != nil {
		return 400, nil, apiError(50035, "Invalid Form Body")
	}
	flags, _ := body.Data["flags"].(float64)
	ephemeral := int(flags)&64 != 0
	content, _ := body.Data["content"].(string)
	switch body.Type {
	case 4, 5:
		in.acked = true
		in.originalEphemeral = ephemeral
		m := Message{ID: s.newIDLocked(), ChannelID: in.channelID, GuildID: in.guildID, AuthorID: s.botID, Bot: true,
			Content: content, Components: components(body.Data), Ephemeral: ephemeral, Interaction: id, Files: c.Files}
		in.originalID = m.ID
		s.messages = append(s.messages, m)
		kind := "message"
		if body.Type == 5 {
			kind = "deferred"
		}
		in.replies = append(in.replies, Reply{Kind: kind, Content: content, Ephemeral: ephemeral, Files: c.Files, MessageID: m.ID})
	case 6, 7:
		if in.componentMsg == nil {
			return 400, nil, apiError(50035, "Invalid Form Body: no message to update")
		}
		in.acked = true
		in.originalEphemeral = in.componentMsg.Ephemeral
		in.originalID = in.componentMsg.ID
		if body.Type == 7 {
			m := *in.componentMsg
			m.Content, m.Components = content, components(body.Data)
			s.messages = append(s.messages, m)
			in.replies = append(in.replies, Reply{Kind: "update", Content: content, Ephemeral: m.Ephemeral, MessageID: m.ID})
		}
	case 8:
		in.acked = true
		var names []string
		cs, _ := body.Data["choices"].([]any)
		for _, ch := range cs {
			cm, _ := ch.(map[string]any)
			n, _ := cm["name"].(string)
			names = append(names, n)
		}
		in.replies = append(in.replies, Reply{Kind: "choices", Choices: names})
	case 9:
		in.acked = true
		md := &Modal{}
		md.CustomID, _ = body.Data["custom_id"].(string)
		md.Title, _ = body.Data["title"].(string)
		for _, row := range components(body.Data) {
			r, _ := row.(map[string]any)
			cs, _ := r["components"].([]any)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				f := ModalField{}
				f.CustomID, _ = cm["custom_id"].(string)
				f.Label, _ = cm["label"].(string)
				f.Value, _ = cm["value"].(string)
				f.Required, _ = cm["required"].(bool)
				st, _ := cm["style"].(float64)
				f.Style = int(st)
				md.Fields = append(md.Fields, f)
			}
		}
		in.replies = append(in.replies, Reply{Kind: "modal", Modal: md})
	default:
		return 400, nil, apiError(50035, "Invalid Form Body: unknown callback type")
	}
	return http.StatusNoContent, nil, nil
}

// webhookLocked answers the interaction webhook endpoints: edit the
// original response, post and edit followups.
func (s *Server) webhookLocked(app, token string, rest []string, c *Call) (int, http.Header, []byte) {
	in := s.byToken[token]
	if app != s.appID || in == nil || !in.acked {
		return http.StatusNotFound, nil, apiError(10015, "Unknown Webhook")
	}
	body := c.JSON()
	content, _ := body["content"].(string)
	switch {
	case c.Method == "PATCH" && len(rest) == 2 && rest[0] == "messages":
		target := rest[1]
		if target == "@original" {
			target = in.originalID
		}
		var old *Message
		for i := len(s.messages) - 1; i >= 0; i-- {
			if s.messages[i].ID == target {
				old = &s.messages[i]
				break
			}
		}
		if old == nil {
			return http.StatusNotFound, nil, apiError(10008, "Unknown Message")
		}
		m := *old
		if _, ok := body["content"]; ok {
			m.Content = content
		}
		if _, ok := body["components"]; ok {
			m.Components = components(body)
		}
		if len(c.Files) > 0 {
			m.Files = c.Files
		}
		s.messages = append(s.messages, m)
		in.replies = append(in.replies, Reply{Kind: "edit", Content: m.Content, Ephemeral: m.Ephemeral, Files: c.Files, MessageID: m.ID})
		return 200, nil, jsonBody(m.wire())
	case c.Method == "POST" && len(rest) == 0:
		flags, _ := body["flags"].(float64)
		m := Message{ID: s.newIDLocked(), ChannelID: in.channelID, GuildID: in.guildID, AuthorID: s.botID, Bot: true,
			Content: content, Components: components(body), Ephemeral: int(flags)&64 != 0, Interaction: in.id, Files: c.Files}
		s.messages = append(s.messages, m)
		in.replies = append(in.replies, Reply{Kind: "followup", Content: content, Ephemeral: m.Ephemeral, Files: c.Files, MessageID: m.ID})
		return 200, nil, jsonBody(m.wire())
	}
	return http.StatusNotFound, nil, apiError(0, "404: Not Found")
}
