package telegramtest

import "encoding/json"

// The types below are the parts of the Bot API objects the fake produces,
// with the Bot API's own JSON names (https://core.telegram.org/bots/api).
// They are deliberately independent of telebot, so a test exercises how
// telebot decodes what Telegram sends.

// User is a Telegram user or bot.
type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`

	// Only in getMe.
	CanJoinGroups           bool `json:"can_join_groups,omitempty"`
	CanReadAllGroupMessages bool `json:"can_read_all_group_messages,omitempty"`
	SupportsInlineQueries   bool `json:"supports_inline_queries,omitempty"`
}

// PrivateChat returns the private chat between u and the bot (its id is the
// user's id, as in Telegram).
func (u User) PrivateChat() Chat {
	return Chat{ID: u.ID, Type: "private", FirstName: u.FirstName, Username: u.Username}
}

// Chat is a private chat, group or supergroup.
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"` // "private", "group", "supergroup", "channel"
	Title     string `json:"title,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

// Group returns a supergroup chat with the given (negative) id and title.
func Group(id int64, title string) Chat {
	return Chat{ID: id, Type: "supergroup", Title: title}
}

// Entity marks a part of a message's text (only bot_command is produced).
type Entity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
}

// Document is a file attached to a message.
type Document struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

// PhotoSize is one size of a photo.
type PhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
}

// Message is a message in a chat. A photo or document carries its text in
// Caption (and CaptionEntities), never in Text, as in Telegram.
type Message struct {
	MessageID       int             `json:"message_id"`
	From            *User           `json:"from,omitempty"`
	Chat            Chat            `json:"chat"`
	Date            int64           `json:"date"`
	Text            string          `json:"text,omitempty"`
	Entities        []Entity        `json:"entities,omitempty"`
	Caption         string          `json:"caption,omitempty"`
	CaptionEntities []Entity        `json:"caption_entities,omitempty"`
	Photo           []PhotoSize     `json:"photo,omitempty"`
	ReplyTo         *Message        `json:"reply_to_message,omitempty"`
	ViaBot          *User           `json:"via_bot,omitempty"`
	EditDate        int64           `json:"edit_date,omitempty"`
	Document        *Document       `json:"document,omitempty"`
	ReplyMarkup     json.RawMessage `json:"reply_markup,omitempty"`
	// LeftChatMember makes the message a service message: this member left
	// the group or was removed (From is who removed them).
	LeftChatMember *User `json:"left_chat_member,omitempty"`
}

// ChatMember is a member's status in a chat ("creator", "administrator",
// "member", "restricted", "left", "kicked").
type ChatMember struct {
	Status string `json:"status"`
	User   User   `json:"user"`
	// IsMember is set for "restricted" only: whether the user is still in
	// the chat.
	IsMember bool `json:"is_member,omitempty"`
}

// ChatMemberUpdated is a change of a member's status in a chat.
type ChatMemberUpdated struct {
	Chat          Chat       `json:"chat"`
	From          User       `json:"from"`
	Date          int64      `json:"date"`
	OldChatMember ChatMember `json:"old_chat_member"`
	NewChatMember ChatMember `json:"new_chat_member"`
}

// CallbackQuery is a press on an inline keyboard button.
type CallbackQuery struct {
	ID           string   `json:"id"`
	From         User     `json:"from"`
	Message      *Message `json:"message,omitempty"`
	ChatInstance string   `json:"chat_instance"`
	Data         string   `json:"data,omitempty"`
}

// InlineQuery is what a member types after "@botname " in any chat.
type InlineQuery struct {
	ID       string `json:"id"`
	From     User   `json:"from"`
	Query    string `json:"query"`
	Offset   string `json:"offset"`
	ChatType string `json:"chat_type,omitempty"`
}

// ChosenInlineResult reports which inline result a member sent.
type ChosenInlineResult struct {
	ResultID string `json:"result_id"`
	From     User   `json:"from"`
	Query    string `json:"query"`
}

// Update is one incoming update; exactly one of the pointers is set.
type Update struct {
	UpdateID           int                 `json:"update_id"`
	Message            *Message            `json:"message,omitempty"`
	EditedMessage      *Message            `json:"edited_message,omitempty"`
	CallbackQuery      *CallbackQuery      `json:"callback_query,omitempty"`
	InlineQuery        *InlineQuery        `json:"inline_query,omitempty"`
	ChosenInlineResult *ChosenInlineResult `json:"chosen_inline_result,omitempty"`
	MyChatMember       *ChatMemberUpdated  `json:"my_chat_member,omitempty"`
	ChatMember         *ChatMemberUpdated  `json:"chat_member,omitempty"`
}

// Type returns the update's type as allowed_updates names it ("message",
// "edited_message", "chat_member", …), "" when no field is set.
func (u Update) Type() string {
	switch {
	case u.Message != nil:
		return "message"
	case u.EditedMessage != nil:
		return "edited_message"
	case u.CallbackQuery != nil:
		return "callback_query"
	case u.InlineQuery != nil:
		return "inline_query"
	case u.ChosenInlineResult != nil:
		return "chosen_inline_result"
	case u.MyChatMember != nil:
		return "my_chat_member"
	case u.ChatMember != nil:
		return "chat_member"
	}
	return ""
}

// InlineKeyboard is the decoded reply_markup of a sent message.
type InlineKeyboard struct {
	InlineKeyboard [][]InlineButton `json:"inline_keyboard"`
}

// InlineButton is one button of an inline keyboard.
type InlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// Buttons returns the inline buttons of m, in order (nil if none).
func (m Message) Buttons() []InlineButton {
	if len(m.ReplyMarkup) == 0 {
		return nil
	}
	var kb InlineKeyboard
	if json.Unmarshal(m.ReplyMarkup, &kb) != nil {
		return nil
	}
	var out []InlineButton
	for _, row := range kb.InlineKeyboard {
		out = append(out, row...)
	}
	return out
}
