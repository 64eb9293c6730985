package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
)

// postUnique is the telebot "unique" of the "Post in <group>" buttons: their
// callback data is "\f" + postUnique + "|" + token.
const postUnique = "clmpost"

// postData is the callback data of a "Post in" button for token.
func postData(token string) string {
	return "\f" + postUnique + "|" + token
}

// pointersOnly returns the pointers in text, one a line, and false when
// text holds none. Only this is ever posted for a member: never the words
// around the pointers.
func pointersOnly(text string) (string, bool) {
	ps := clm.Extract(text)
	if len(ps) == 0 {
		return "", false
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n"), true
}

// postButtons returns a "📤 Post in <group>" button per group where the bot
// saw user, for the pointers in text (a private answer to /clm send). Each
// button refers to a token that only user can use, once, for a while.
// pointers is false when text holds no pointer; buttons is empty when no
// group is known.
func (a *Adapter) postButtons(user *tele.User, text string) (buttons [][]tele.InlineButton, pointers bool) {
	ptrs, ok := pointersOnly(text)
	if !ok {
		return nil, false
	}
	now := a.opts.clock.Now()
	for _, g := range a.groups.list(user.ID, now) {
		token := a.posts.put(postOffer{user: user.ID, group: g.id, title: g.title, text: ptrs}, now)
		buttons = append(buttons, []tele.InlineButton{{
			Text: truncateUnits("📤 Post in "+groupName(g.id, g.title), maxResultTitle),
			Data: postData(token),
		}})
	}
	return buttons, true
}

// groupName names a group for its members.
func groupName(id int64, title string) string {
	if title != "" {
		return title
	}
	return "group " + strconv.FormatInt(id, 10)
}

// noGroupHint tells a member who got a pointer privately how to have the
// bot post it for them next time.
func (a *Adapter) noGroupHint() string {
	return "To post a pointer from here with one tap, add me to the group and send a /clm command there once (such as /clm chats). " +
		"Or use inline mode in the group: type @" + a.username() + " <chat>: <message>."
}

// onPostPress handles a press on a "Post in <group>" button.
func (a *Adapter) onPostPress(c tele.Context) error {
	cb := c.Callback()
	if cb == nil || cb.Sender == nil {
		return nil
	}
	cbc := *cb
	a.disp.submit("press:"+strconv.FormatInt(cb.Sender.ID, 10), func(ctx context.Context) {
		a.postFromPrivate(ctx, &cbc)
	})
	return nil
}

// postFromPrivate posts the pointers behind a "Post in" button in its
// group, for the member the button was made for, and hands the post to the
// core as that member's post in the group, so it gets the usual Receive
// button. The press is answered with what happened.
func (a *Adapter) postFromPrivate(ctx context.Context, cb *tele.Callback) {
	offer, res := a.posts.take(cb.Data, cb.Sender.ID, a.opts.clock.Now())
	switch res {
	case tokenNotYours:
		a.answerPost(ctx, cb, "This button belongs to the member who sent the message; it does nothing for you.", true)
		return
	case tokenGone:
		a.answerPost(ctx, cb, "This button no longer works (each works once, for 15 minutes). Send again with /clm send, or paste the pointer yourself.", true)
		return
	}
	name := groupName(offer.group, offer.title)
	msg, err := a.sendPointer(ctx, offer.group, offer.text)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		reason := "Telegram did not take the post"
		if isForbidden(err) {
			reason = "I am no longer in that group, or may not post there"
			a.groups.forget(cb.Sender.ID, offer.group)
		}
		a.log.Warn("telegram: cannot post a member's pointer in a group", "error", a.red.err(err))
		a.answerPost(ctx, cb, "⚠️ I could not post in "+name+": "+reason+". Nobody saw it; paste the pointer there yourself.", true)
		return
	}
	a.answerPost(ctx, cb, "📤 Posted in "+name+".", false)

	place, _ := placeOf(&tele.Chat{ID: offer.group, Type: tele.ChatSuperGroup, Title: offer.title})
	a.handle(ctx, bridge.Request{
		Member:    memberOf(cb.Sender),
		Place:     place,
		Post:      offer.text,
		MessageID: strconv.Itoa(msg.ID),
		Caps:      caps(),
		Reply:     &responder{a: a, user: cb.Sender, chat: offer.group, msgID: msg.ID},
	})
}

// answerPost answers a press on a "Post in" button; when the press can no
// longer be answered, the member is told in the private chat instead.
func (a *Adapter) answerPost(ctx context.Context, cb *tele.Callback, text string, alert bool) {
	err := a.answerCallback(ctx, cb.ID, text, alert, "")
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	if err := a.sendText(ctx, cb.Sender.ID, text, sendOpts{}); err != nil {
		a.log.Warn("telegram: cannot answer a Post button", "error", a.red.err(err))
	}
}

// sendPointer posts text (pointers only) in group and returns the message.
func (a *Adapter) sendPointer(ctx context.Context, group int64, text string) (*tele.Message, error) {
	var sent *tele.Message
	err := a.out.do(ctx, delivery{
		lane: chatLane(group), paced: true, group: true, method: "sendMessage",
		call: func() error {
			m, err := a.bot.Send(tele.ChatID(group), text, &tele.SendOptions{DisableWebPagePreview: true})
			if err == nil {
				sent = m
			}
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	if sent == nil {
		return nil, &apiError{Method: "sendMessage", Kind: kindTransient, msg: "no message in the answer"}
	}
	return sent, nil
}
