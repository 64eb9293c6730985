package telegram

import (
	"context"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/bridge"
)

// Telegram says a member left a group in two ways, and the adapter takes
// both (telling the core twice is harmless): a service message with
// left_chat_member, which every bot in the group gets, and a chat_member
// update, which Telegram sends only to admins that ask for it, and which
// still comes where service messages are hidden (large supergroups).

// onUserLeft handles a left_chat_member service message.
func (a *Adapter) onUserLeft(c tele.Context) error {
	m := c.Message()
	if m == nil || m.UserLeft == nil || m.Chat == nil {
		return nil
	}
	a.memberGone(m.UserLeft, m.Chat)
	return nil
}

// onChatMember handles chat_member and my_chat_member updates: a member's
// (or the bot's own) status changed in a chat.
func (a *Adapter) onChatMember(c tele.Context) error {
	u := c.ChatMember()
	if u == nil || u.Chat == nil || u.NewChatMember == nil || u.NewChatMember.User == nil || !outOfChat(u.NewChatMember) {
		return nil
	}
	a.memberGone(u.NewChatMember.User, u.Chat)
	return nil
}

// outOfChat reports whether status m means the user is no longer in the
// chat: they left, were banned, or are restricted and not a member.
func outOfChat(m *tele.ChatMember) bool {
	switch m.Role {
	case tele.Left, tele.Kicked:
		return true
	case tele.Restricted:
		return !m.Member
	}
	return false
}

// memberGone forgets that u is in the group chat: the adapter no longer
// offers it to u for posting, and the core stops watch deliveries from it
// to u. When u is the bot itself, the group is offered to nobody any more.
// The core is told in the group's lane, after the updates of the group
// that came before, so a pointer posted while u was still there is still
// delivered.
func (a *Adapter) memberGone(u *tele.User, chat *tele.Chat) {
	place, ok := placeOf(chat)
	if !ok || place.Kind != bridge.Public {
		return
	}
	if me := a.bot.Me; me != nil && u.ID == me.ID {
		a.groups.forgetGroup(chat.ID)
		return
	}
	a.groups.forget(u.ID, chat.ID)
	member := memberOf(u)
	tell := func(context.Context) { a.core.MemberLeft(member, place.ID, false) }
	if !a.disp.submit(chatLane(chat.ID), tell) {
		tell(a.life) // the lane is full or closing: forgetting must not be lost
	}
}
