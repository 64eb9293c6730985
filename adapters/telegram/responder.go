package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/bridge"
)

// sendOpts are the options of one message the adapter sends.
type sendOpts struct {
	replyTo    int                   // message to reply to (0: none)
	receiveRef string                // attach a Receive button carrying this ref
	buttons    [][]tele.InlineButton // or attach these buttons
}

// sendText sends text to chat through the outbox and waits until Telegram
// took it, split into several messages if it is longer than Telegram
// allows. Only the first part replies to replyTo; the Receive button goes
// on the last part.
func (a *Adapter) sendText(ctx context.Context, chat int64, text string, o sendOpts) error {
	parts, err := a.textDeliveries(chat, text, o)
	if err != nil {
		return err
	}
	for _, d := range parts {
		if err := a.out.do(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// postText queues text for chat like sendText but returns once it is
// queued: for messages whose outcome the caller does not need (replies in
// groups, which pacing may hold for minutes, must not hold up the chat's
// next update). A failure is logged.
func (a *Adapter) postText(ctx context.Context, chat int64, text string, o sendOpts) error {
	parts, err := a.textDeliveries(chat, text, o)
	if err != nil {
		return err
	}
	return a.out.post(ctx, parts, func(err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			a.log.Warn("telegram: cannot post in a chat", "error", a.red.err(err))
		}
	})
}

// textDeliveries returns the sendMessage calls that send text to chat.
func (a *Adapter) textDeliveries(chat int64, text string, o sendOpts) ([]delivery, error) {
	if o.receiveRef != "" && len(receiveData(o.receiveRef)) > maxCallbackData {
		return nil, fmt.Errorf("telegram: a receive reference of %d bytes does not fit Telegram's %d-byte button data", len(o.receiveRef), maxCallbackData)
	}
	parts := splitText(text, maxMessageUnits)
	out := make([]delivery, len(parts))
	for i, part := range parts {
		opts := &tele.SendOptions{AllowWithoutReply: true, DisableWebPagePreview: true}
		if i == 0 && o.replyTo != 0 {
			opts.ReplyTo = &tele.Message{ID: o.replyTo}
		}
		switch {
		case i < len(parts)-1:
		case o.receiveRef != "":
			opts.ReplyMarkup = &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{{
				{Text: "🔓 Receive", Data: receiveData(o.receiveRef)},
			}}}
		case len(o.buttons) > 0:
			opts.ReplyMarkup = &tele.ReplyMarkup{InlineKeyboard: o.buttons}
		}
		out[i] = delivery{
			lane: chatLane(chat), paced: true, group: chat < 0, method: "sendMessage",
			call: func() error {
				_, err := a.bot.Send(tele.ChatID(chat), part, opts)
				return err
			},
		}
	}
	return out, nil
}

// sendFile sends f to chat as a document.
func (a *Adapter) sendFile(ctx context.Context, chat int64, f bridge.File) error {
	return a.out.do(ctx, delivery{
		lane: chatLane(chat), paced: true, group: chat < 0, method: "sendDocument",
		call: func() error {
			doc := &tele.Document{File: tele.FromReader(bytes.NewReader(f.Content)), FileName: f.Name}
			_, err := a.bot.Send(tele.ChatID(chat), doc)
			return err
		},
	})
}

// deleteMessage deletes message id of chat. A message that is already gone
// counts as deleted.
func (a *Adapter) deleteMessage(ctx context.Context, chat int64, id int) error {
	err := a.out.do(ctx, a.deleteDelivery(chat, id))
	if isNotFound(err) {
		return nil
	}
	return err
}

// deleteDelivery is the deleteMessage call for message id of chat. It has
// a lane of its own per chat, unpaced: deleting is not sending a message
// for Telegram's limits, and a secret must not wait behind the replies a
// busy group's pacing holds back (it is still retried on 429 and 5xx).
func (a *Adapter) deleteDelivery(chat int64, id int) delivery {
	return delivery{
		lane: deleteLane(chat), method: "deleteMessage",
		call: func() error {
			return a.bot.Delete(&tele.StoredMessage{MessageID: strconv.Itoa(id), ChatID: chat})
		},
	}
}

// answerCallback answers a button press: text as an alert (or a short
// notice when alert is false), or url to open.
func (a *Adapter) answerCallback(ctx context.Context, id, text string, alert bool, url string) error {
	return a.out.do(ctx, delivery{
		lane: "cb:" + id, method: "answerCallbackQuery",
		call: func() error {
			return a.bot.Respond(&tele.Callback{ID: id}, &tele.CallbackResponse{Text: text, ShowAlert: alert, URL: url})
		},
	})
}

func chatLane(chat int64) string {
	return "chat:" + strconv.FormatInt(chat, 10)
}

// deleteLane is the outbox lane of the deletions in chat.
func deleteLane(chat int64) string {
	return "del:" + strconv.FormatInt(chat, 10)
}

// deepLink is the link that opens a private chat with the bot. Its start
// parameter is a constant: it reveals nothing about the member or the
// request.
func (a *Adapter) deepLink() string {
	return "https://t.me/" + a.username() + "?start=clm"
}

// unreachableNotice is posted in a group when the bot cannot write to a
// member privately. It says nothing about what the member asked.
func (a *Adapter) unreachableNotice(u *tele.User) string {
	return displayName(u) + ", I can't write to you privately yet. Open " + a.deepLink() +
		", press Start, then try again here."
}

// responder answers a request that came as a message (a command or a post).
type responder struct {
	a       *Adapter
	user    *tele.User // the member
	chat    int64      // where the request came from
	private bool       // chat is the member's private chat with the bot
	msgID   int        // the member's message (0: none)
	cmd     string     // the request's command ("" for a post)

	mu          sync.Mutex
	unreachable bool // a DM was refused and the member was told in place
	noGroup     bool // a private send's pointer was shown with no group to post it in
	relayed     bool // another instance took the request over (see Relayed)
}

var _ bridge.Responder = (*responder)(nil)

// Private sends text to the member's private chat. The pointers of a
// private /clm send come with a "📤 Post in <group>" button for each group
// where the bot saw the member.
func (r *responder) Private(ctx context.Context, text string) error {
	if err := r.taken(); err != nil {
		return err
	}
	var o sendOpts
	if r.private && r.cmd == "send" {
		buttons, pointers := r.a.postButtons(r.user, text)
		o.buttons = buttons
		if pointers && len(buttons) == 0 {
			r.mu.Lock()
			r.noGroup = true
			r.mu.Unlock()
		}
	}
	return r.dm(ctx, func() error { return r.a.sendText(ctx, r.user.ID, text, o) })
}

// pointersWithoutGroup reports whether the member was given pointers to
// post with no group known to post them in.
func (r *responder) pointersWithoutGroup() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.noGroup && !r.relayed
}

// PrivateFile sends f to the member's private chat as a document.
func (r *responder) PrivateFile(ctx context.Context, f bridge.File) error {
	if err := r.taken(); err != nil {
		return err
	}
	return r.dm(ctx, func() error { return r.a.sendFile(ctx, r.user.ID, f) })
}

// dm runs send (a message to the member's private chat). When Telegram
// refuses it in a group (the member never started the bot), the member is
// told in the group, once, how to open the private chat, and dm returns
// bridge.ErrCannotReachPrivately.
func (r *responder) dm(ctx context.Context, send func() error) error {
	if r.knownUnreachable() {
		return bridge.ErrCannotReachPrivately
	}
	err := send()
	if err == nil || !unreachablePrivately(err) || r.private {
		return err
	}
	if r.markUnreachable() {
		if perr := r.a.postText(ctx, r.chat, r.a.unreachableNotice(r.user), sendOpts{replyTo: r.msgID}); perr != nil {
			r.a.log.Warn("telegram: cannot tell a member in the group to start the bot", "error", r.a.red.err(perr))
		}
	}
	return bridge.ErrCannotReachPrivately
}

// knownUnreachable reports whether a DM to the member was already refused
// during this request.
func (r *responder) knownUnreachable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unreachable
}

// markUnreachable records that Telegram refused a DM to the member and
// reports whether this is the first refusal of the request.
func (r *responder) markUnreachable() (first bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	first = !r.unreachable
	r.unreachable = true
	return first
}

// Public posts p in the request's chat, as a reply to the member's message.
// It returns once the post is queued: the chat's pacing may hold it back
// for minutes, and the chat's next update must not wait for that.
func (r *responder) Public(ctx context.Context, p bridge.PublicPost) error {
	if err := r.taken(); err != nil {
		return err
	}
	return r.a.postText(ctx, r.chat, p.Text, sendOpts{replyTo: r.msgID, receiveRef: p.ReceiveRef})
}

// DeleteRequest deletes the member's message. It returns
// bridge.ErrCannotDelete when Telegram does not allow it (in a group where
// the bot is not an admin).
func (r *responder) DeleteRequest(ctx context.Context) error {
	if err := r.taken(); err != nil {
		return err
	}
	if r.msgID == 0 {
		return bridge.ErrCannotDelete
	}
	if err := r.a.deleteMessage(ctx, r.chat, r.msgID); err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%w: %v", bridge.ErrCannotDelete, err)
	}
	return nil
}

// callbackResponder answers a press on a Receive button. The press itself
// must be answered (answerCallbackQuery) exactly once: with the private text
// as an alert when it fits, else with a short notice after the text went to
// the member's private chat. Public is the embedded responder's: it posts
// in the button's group, as a reply to the button's message.
type callbackResponder struct {
	responder
	cbID string

	cbMu     sync.Mutex
	answered bool
	dmSent   bool
}

var _ bridge.Responder = (*callbackResponder)(nil)

// claim marks the press as answered and reports whether it was not yet.
func (r *callbackResponder) claim() bool {
	r.cbMu.Lock()
	defer r.cbMu.Unlock()
	if r.answered {
		return false
	}
	r.answered = true
	return true
}

// Private shows text to the member who pressed: as the button's alert if
// it fits and the press is not answered yet, else in their private chat.
func (r *callbackResponder) Private(ctx context.Context, text string) error {
	if err := r.taken(); err != nil {
		return err
	}
	if units(text) <= maxAlertUnits && r.claim() {
		err := r.a.answerCallback(ctx, r.cbID, text, true, "")
		if err == nil || errors.Is(err, context.Canceled) {
			return err
		}
		// The press could not be answered (too old, say): the private
		// chat still reaches the member.
		r.a.log.Debug("telegram: answering a press failed, sending privately", "error", r.a.red.err(err))
	}
	return r.dmOrLink(ctx, func() error { return r.a.sendText(ctx, r.user.ID, text, sendOpts{}) })
}

// PrivateFile sends f to the member's private chat.
func (r *callbackResponder) PrivateFile(ctx context.Context, f bridge.File) error {
	if err := r.taken(); err != nil {
		return err
	}
	return r.dmOrLink(ctx, func() error { return r.a.sendFile(ctx, r.user.ID, f) })
}

// dmOrLink runs send. If Telegram refuses the DM, the press is answered
// with the deep link to the bot (Telegram opens it for the member alone);
// if the press was already answered, the member is told in the group.
func (r *callbackResponder) dmOrLink(ctx context.Context, send func() error) error {
	if r.knownUnreachable() {
		return bridge.ErrCannotReachPrivately
	}
	err := send()
	if err == nil {
		r.cbMu.Lock()
		r.dmSent = true
		r.cbMu.Unlock()
		return nil
	}
	if !unreachablePrivately(err) {
		return err
	}
	r.markUnreachable()
	if r.claim() {
		if aerr := r.a.answerCallback(ctx, r.cbID, "", false, r.a.deepLink()); aerr != nil {
			r.a.log.Warn("telegram: cannot answer a button press", "error", r.a.red.err(aerr))
		}
		return bridge.ErrCannotReachPrivately
	}
	if perr := r.a.postText(ctx, r.chat, r.a.unreachableNotice(r.user), sendOpts{}); perr != nil {
		r.a.log.Warn("telegram: cannot tell a member in the group to start the bot", "error", r.a.red.err(perr))
	}
	return bridge.ErrCannotReachPrivately
}

// DeleteRequest: a button press has no message of the member's to delete.
func (r *callbackResponder) DeleteRequest(context.Context) error {
	return bridge.ErrCannotDelete
}

// finish answers the press if nothing did yet, so the member's client
// stops waiting; not when the press was relayed: the owner answers it.
func (r *callbackResponder) finish(ctx context.Context) {
	if r.taken() != nil || !r.claim() {
		return
	}
	r.cbMu.Lock()
	text := ""
	if r.dmSent {
		text = "Sent to you in our private chat."
	}
	r.cbMu.Unlock()
	if err := r.a.answerCallback(ctx, r.cbID, text, false, ""); err != nil {
		r.a.log.Warn("telegram: cannot answer a button press", "error", r.a.red.err(err))
	}
}
