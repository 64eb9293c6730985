package telegram

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/bridge"
)

// Telegram's limits, in UTF-16 code units (how Telegram counts characters).
const (
	maxMessageUnits = 4096 // text of one message
	maxAlertUnits   = 200  // answerCallbackQuery text
	maxCallbackData = 64   // bytes of a button's callback_data
	maxInlineQuery  = 256  // text of an inline query
	maxResultTitle  = 64   // our cap for an inline result's title or button text
)

// receiveUnique is the telebot "unique" of the Receive button: its callback
// data is "\f" + receiveUnique + "|" + ref.
const receiveUnique = "clmrecv"

// receiveData is the callback data of a Receive button for ref.
func receiveData(ref string) string {
	return "\f" + receiveUnique + "|" + ref
}

// Name is the platform's name: the Member.Platform of Telegram members.
const Name = "telegram"

// caps is what Telegram allows, for bridge.Request.Caps.
func caps() bridge.Capabilities {
	return bridge.Capabilities{
		MaxPointerChars: maxMessageUnits,
		Ephemeral:       false,
		CanDelete:       true,
		Buttons:         true,
	}
}

// memberOf returns the bridge member for a Telegram user.
func memberOf(u *tele.User) bridge.Member {
	return bridge.Member{Platform: Name, ID: strconv.FormatInt(u.ID, 10), DisplayName: displayName(u)}
}

// displayName is the name a member sees for u: first and last name, else
// the username, else a neutral placeholder.
func displayName(u *tele.User) string {
	name := strings.TrimSpace(strings.TrimSpace(u.FirstName) + " " + strings.TrimSpace(u.LastName))
	if name == "" {
		name = u.Username
	}
	if name == "" {
		name = "member " + strconv.FormatInt(u.ID, 10)
	}
	return name
}

// placeOf returns the bridge place of a chat, and false for chats the
// bridge does not serve (channels).
func placeOf(c *tele.Chat) (bridge.Place, bool) {
	id := strconv.FormatInt(c.ID, 10)
	switch c.Type {
	case tele.ChatPrivate:
		return bridge.Place{Kind: bridge.Private, ID: id, Name: "private chat"}, true
	case tele.ChatGroup, tele.ChatSuperGroup:
		name := c.Title
		if name == "" {
			name = "group " + id
		}
		return bridge.Place{Kind: bridge.Public, ID: id, Name: name}, true
	}
	return bridge.Place{}, false
}

// textOf returns the text of m (or its caption), "" for nil.
func textOf(m *tele.Message) string {
	if m == nil {
		return ""
	}
	if m.Text != "" {
		return m.Text
	}
	return m.Caption
}

// command is a slash command found at the start of a message.
type command struct {
	Name string // lower case, without "/" and "@bot"
	Rest string // everything after the command word, newlines kept
}

// parseCommand reads a leading "/name" or "/name@bot" from text. ok is
// false when text is not a command; forUs is false when it names another
// bot ("/clm@other_bot"), which must be ignored.
func parseCommand(text, botUsername string) (c command, ok, forUs bool) {
	if !strings.HasPrefix(text, "/") {
		return command{}, false, false
	}
	end := strings.IndexFunc(text, unicode.IsSpace)
	if end < 0 {
		end = len(text)
	}
	word := text[1:end]
	name, bot, hasBot := strings.Cut(word, "@")
	if name == "" || !isCommandName(name) {
		return command{}, false, false
	}
	if hasBot && !strings.EqualFold(bot, botUsername) {
		return command{}, true, false
	}
	return command{Name: strings.ToLower(name), Rest: strings.TrimLeftFunc(text[end:], unicode.IsSpace)}, true, true
}

func isCommandName(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// parseInlineQuery reads "Chat: message" from an inline query. named is
// false when the query does not start with a plausible chat name and a
// colon; then text is the whole query.
func parseInlineQuery(q string) (chat, text string, named bool) {
	q = strings.TrimSpace(q)
	name, rest, found := strings.Cut(q, ":")
	name = strings.TrimSpace(name)
	if len(name) >= 2 && (name[0] == '"' && name[len(name)-1] == '"' || name[0] == '\'' && name[len(name)-1] == '\'') {
		name = strings.TrimSpace(name[1 : len(name)-1])
	}
	if !found || name == "" || len([]rune(name)) > 64 || strings.ContainsAny(name, "\n\r") {
		return "", q, false
	}
	return name, strings.TrimSpace(rest), true
}

// units counts s in UTF-16 code units, as Telegram measures text.
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncateUnits cuts s to at most limit UTF-16 units, on a rune boundary,
// marking the cut with "…".
func truncateUnits(s string, limit int) string {
	if units(s) <= limit {
		return s
	}
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > limit-1 {
			return s[:i] + "…"
		}
	}
	return s
}

// splitText cuts s into messages of at most limit UTF-16 units, at line
// ends where possible, else at spaces, else anywhere between runes. No part
// is empty and nothing is lost: joining the parts gives s back.
func splitText(s string, limit int) []string {
	var parts []string
	for units(s) > limit {
		cut, lastNL, lastSP, n := 0, -1, -1, 0
		for i, r := range s {
			w := utf16.RuneLen(r)
			if n+w > limit {
				cut = i
				break
			}
			n += w
			switch r {
			case '\n':
				lastNL = i + 1
			case ' ':
				lastSP = i + 1
			}
		}
		switch {
		case lastNL > 0:
			cut = lastNL
		case lastSP > 0:
			cut = lastSP
		}
		if cut == 0 { // a single rune wider than limit cannot happen for limit ≥ 2
			break
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	if s != "" || len(parts) == 0 {
		parts = append(parts, s)
	}
	return parts
}
