package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/clmbridge/clmbridge/bridge"
)

// noMentions keeps the bot's messages from pinging anyone: a mention in a
// message renders as a name but notifies nobody.
var noMentions = &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}

// cannotDMText is said in place, revealing nothing, when Discord refuses a
// DM to the member.
func cannotDMText(memberID string) string {
	return "<@" + memberID + ">, I cannot send you a direct message (your DMs are closed to me). " +
		"Allow direct messages from this server's members (server menu → Privacy Settings), " +
		"or use /clm here: my answers to commands are visible only to you."
}

// splitText cuts text into pieces of at most limit characters, at line
// breaks where possible, so that nothing is truncated.
func splitText(text string, limit int) []string {
	if utf8.RuneCountInString(text) <= limit {
		return []string{text}
	}
	var out []string
	for utf8.RuneCountInString(text) > limit {
		// Byte offset of the limit-th rune.
		cut, n := 0, 0
		for i := range text {
			if n == limit {
				cut = i
				break
			}
			n++
		}
		if nl := strings.LastIndexByte(text[:cut], '\n'); nl > 0 {
			cut = nl + 1
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// publicMessage is the channel message for a core's public post: the
// framing when the member sent it with /clm send, and a Receive button
// when the core asked for one.
func publicMessage(p bridge.PublicPost, command, memberID, replyTo, channelID, guildID string) *discordgo.MessageSend {
	text := p.Text
	if command == "send" {
		text = framing(memberID) + text
	}
	ms := &discordgo.MessageSend{Content: text, AllowedMentions: noMentions}
	if p.ReceiveRef != "" {
		ms.Components = receiveButton(p.ReceiveRef)
	}
	if replyTo != "" {
		ms.Reference = &discordgo.MessageReference{MessageID: replyTo, ChannelID: channelID, GuildID: guildID}
	}
	return ms
}

// interactionReply answers one interaction. The adapter deferred it
// ephemerally, so the first private answer edits that deferred reply and
// later ones are ephemeral followups: everything is seen by the member only.
type interactionReply struct {
	a       *Adapter
	i       *discordgo.Interaction
	member  bridge.Member
	command string
	// update is true when the interaction is a press of a confirmation
	// button: the deferred reply is the prompt itself, and the first
	// answer replaces it without its buttons.
	update bool

	mu       sync.Mutex
	answered bool // the deferred reply has been replaced by an answer
	posted   bool // the core posted in the channel
	lost     bool // a private answer could not be shown
	relayed  bool // another instance answers (see Relayed): show nothing
}

var (
	_ bridge.Responder = (*interactionReply)(nil)
	_ bridge.Confirmer = (*interactionReply)(nil)
)

// Bounds on retrying the edit of the deferred reply. An edit is
// idempotent, so retrying one whose answer was lost on the way is safe.
const (
	editAttempts  = 3
	editRetryWait = 250 * time.Millisecond
)

// send shows one ephemeral message (at most 2000 characters) with files
// and components (nil: none).
func (r *interactionReply) send(ctx context.Context, text string, files []*discordgo.File, comps []discordgo.MessageComponent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.relayed {
		return nil
	}
	var err error
	if !r.answered {
		err = r.editOriginal(ctx, text, files, comps)
		if err == nil {
			r.answered = true
		}
	} else {
		err = r.followup(ctx, text, files, comps)
	}
	if err != nil {
		r.lost = true
		return fmt.Errorf("discord: answering the member privately: %w", err)
	}
	return nil
}

// editOriginal replaces the deferred reply, retrying (a bounded number of
// times) a failure that may pass: a dropped connection or a 5xx.
func (r *interactionReply) editOriginal(ctx context.Context, text string, files []*discordgo.File, comps []discordgo.MessageComponent) error {
	a := r.a
	edit := &discordgo.WebhookEdit{Content: &text, AllowedMentions: noMentions}
	switch {
	case comps != nil:
		edit.Components = &comps
	case r.update:
		edit.Components = &[]discordgo.MessageComponent{} // the prompt's buttons go
	}
	wait := editRetryWait
	for attempt := 1; ; attempt++ {
		err := a.rest.do(ctx, func(opts ...discordgo.RequestOption) error {
			e := *edit
			e.Files = rewind(files)
			_, err := a.sess.InteractionResponseEdit(r.i, &e, opts...)
			return err
		})
		if err == nil || attempt == editAttempts || !mayPass(ctx, err) {
			return err
		}
		a.log.Info("editing an interaction's reply failed; retrying", "attempt", attempt, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

// followup adds an ephemeral message under the interaction. It is not
// retried: a followup whose answer was lost may have been posted.
func (r *interactionReply) followup(ctx context.Context, text string, files []*discordgo.File, comps []discordgo.MessageComponent) error {
	return r.a.rest.do(ctx, func(opts ...discordgo.RequestOption) error {
		params := &discordgo.WebhookParams{Content: text, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions,
			Files: rewind(files), Components: comps}
		_, err := r.a.sess.FollowupMessageCreate(r.i, true, params, opts...)
		return err
	})
}

// mayPass reports whether a failed REST call may work if tried again: the
// request did not reach Discord or got no answer, or Discord failed (5xx).
// A refusal (4xx), an exhausted rate limit or a done context will not.
func mayPass(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, ErrRateLimited) {
		return false
	}
	_, status := apiCode(err)
	return status == 0 || status >= 500
}

// rewind gives each file a fresh reader, so a retried call sends it whole.
func rewind(files []*discordgo.File) []*discordgo.File {
	out := make([]*discordgo.File, len(files))
	for k, f := range files {
		c := *f
		if b, ok := f.Reader.(*bytes.Reader); ok {
			_, _ = b.Seek(0, 0)
			c.Reader = b
		}
		out[k] = &c
	}
	return out
}

// Private shows text to the member only (ephemeral), split into several
// messages when it is longer than Discord allows.
func (r *interactionReply) Private(ctx context.Context, text string) error {
	for _, part := range splitText(text, MessageLimit) {
		if err := r.send(ctx, part, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// Confirm shows question to the member only, with Confirm and Cancel
// buttons whose presses come back as yesCommand and noCommand. It returns
// bridge.ErrCannotConfirm when a command does not fit in a button.
func (r *interactionReply) Confirm(ctx context.Context, question, yesCommand, noCommand string) error {
	row, ok := confirmButtons(yesCommand, noCommand)
	if !ok {
		return bridge.ErrCannotConfirm
	}
	parts := splitText(question, MessageLimit)
	for k, part := range parts {
		var comps []discordgo.MessageComponent
		if k == len(parts)-1 {
			comps = row
		}
		if err := r.send(ctx, part, nil, comps); err != nil {
			return err
		}
	}
	return nil
}

// PrivateFile sends a file that only the member sees.
func (r *interactionReply) PrivateFile(ctx context.Context, f bridge.File) error {
	return r.send(ctx, "📎 "+f.Name, []*discordgo.File{{Name: f.Name, ContentType: "application/json", Reader: bytes.NewReader(f.Content)}}, nil)
}

// Public posts in the interaction's channel. When Discord does not take
// the post, the error is a *bridge.PostError saying why, and the core tells
// the member, with what was not posted.
func (r *interactionReply) Public(ctx context.Context, p bridge.PublicPost) error {
	if r.isRelayed() {
		return nil
	}
	ms := publicMessage(p, r.command, r.member.ID, "", r.i.ChannelID, r.i.GuildID)
	err := r.a.post(ctx, r.i.ChannelID, ms)
	if err == nil {
		r.mu.Lock()
		r.posted = true
		r.mu.Unlock()
	}
	return postFailure(err)
}

// postFailure turns a failed channel post into a *bridge.PostError whose
// reason the member can act on; nil stays nil.
func postFailure(err error) error {
	if err == nil {
		return nil
	}
	why := "Discord did not accept the post"
	switch {
	case errIsNoRights(err):
		why = "I may not post in this channel (a server admin can give me Send Messages here)"
	case errors.Is(err, ErrRateLimited):
		why = "Discord is rate limiting me; try again in a minute"
	}
	return &bridge.PostError{Reason: why, Err: err}
}

// DeleteRequest has nothing to delete: an interaction leaves no message of
// the member's in the channel, and what they typed (options, forms) was
// seen only by the bot.
func (r *interactionReply) DeleteRequest(context.Context) error { return nil }

// finish closes the interaction's reply with something true when the core
// did not say everything itself: "Done." only after a public post with no
// private answer; when an answer could not be shown, a followup says so
// (the edit it would have replaced may be failing); and when the core said
// nothing and posted nothing, that nothing was done. handleErr is what the
// core's Handle returned.
func (r *interactionReply) finish(ctx context.Context, handleErr error) {
	r.mu.Lock()
	answered, posted, lost, relayed := r.answered, r.posted, r.lost, r.relayed
	r.mu.Unlock()
	var err error
	switch {
	case relayed:
		return // the instance that took it over closes it
	case lost:
		r.mu.Lock()
		if ferr := r.followup(ctx, lostAnswerText, nil, nil); ferr != nil {
			err = fmt.Errorf("discord: answering the member privately: %w", ferr)
		}
		r.mu.Unlock()
	case answered:
		return
	case posted:
		err = r.send(ctx, "Done.", nil, nil)
	case errors.Is(handleErr, bridge.ErrClosed):
		err = r.send(ctx, "Nothing was done: the bridge is shutting down. Try again in a minute.", nil, nil)
	default:
		err = r.send(ctx, "Nothing was done. Try again in a minute.", nil, nil)
	}
	if err != nil {
		r.a.log.Warn("cannot close an interaction's reply", "error", err)
	}
}

// lostAnswerText tells a member that Discord did not take an answer.
const lostAnswerText = "⚠️ Discord did not take my answer, so I could not show it to you. " +
	"What was done stays done: check with /clm chats or /clm history before you run the command again."

// post sends a channel message, bounded on 429s.
func (a *Adapter) post(ctx context.Context, channelID string, ms *discordgo.MessageSend) error {
	err := a.rest.do(ctx, func(opts ...discordgo.RequestOption) error {
		c := *ms
		c.Files = rewind(ms.Files)
		_, err := a.sess.ChannelMessageSendComplex(channelID, &c, opts...)
		return err
	})
	if err != nil {
		if errIsNoRights(err) {
			return fmt.Errorf("discord: I may not post in that channel (give the bot Send Messages there): %w", err)
		}
		return fmt.Errorf("discord: posting in a channel: %w", err)
	}
	return nil
}

// dmChannel returns the DM channel with a user, creating it once.
func (a *Adapter) dmChannel(ctx context.Context, userID string) (string, error) {
	if id, ok := a.dms.Load(userID); ok {
		return id.(string), nil
	}
	var ch *discordgo.Channel
	err := a.rest.do(ctx, func(opts ...discordgo.RequestOption) error {
		var err error
		ch, err = a.sess.UserChannelCreate(userID, opts...)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("discord: opening a DM: %w", err)
	}
	a.dms.Store(userID, ch.ID)
	return ch.ID, nil
}

// sendDM sends text (split as needed) and files to a user's DM. It returns
// bridge.ErrCannotReachPrivately when Discord refuses (50007).
func (a *Adapter) sendDM(ctx context.Context, userID, text string, files []*discordgo.File) error {
	ch, err := a.dmChannel(ctx, userID)
	if err != nil {
		if errIsCannotDM(err) {
			return bridge.ErrCannotReachPrivately
		}
		return err
	}
	return a.sendTo(ctx, ch, text, files)
}

// sendTo sends text (split as needed) and files to a channel that only the
// member and the bot see (their DM).
func (a *Adapter) sendTo(ctx context.Context, channelID, text string, files []*discordgo.File) error {
	parts := splitText(text, MessageLimit)
	for k, part := range parts {
		ms := &discordgo.MessageSend{Content: part, AllowedMentions: noMentions}
		if k == len(parts)-1 {
			ms.Files = files
		}
		if err := a.post(ctx, channelID, ms); err != nil {
			if errIsCannotDM(err) {
				return bridge.ErrCannotReachPrivately
			}
			return err
		}
	}
	return nil
}

// NotifyPrivately sends text to a Discord member's DM (the core reaching a
// member outside a request). It returns bridge.ErrCannotReachPrivately
// when the member's DMs are closed to the bot.
func (a *Adapter) NotifyPrivately(ctx context.Context, m bridge.Member, text string) error {
	if m.Platform != Name {
		return errNotDiscord
	}
	return a.sendDM(ctx, m.ID, text, nil)
}

// messageReply answers a message: in a DM, in that DM; in a guild channel,
// privately by DM and publicly in the channel.
type messageReply struct {
	a       *Adapter
	m       *discordgo.Message
	member  bridge.Member
	command string
	relayed atomic.Bool // another instance answers (see Relayed): do nothing
}

var _ bridge.Responder = (*messageReply)(nil)

func (r *messageReply) private(ctx context.Context, text string, files []*discordgo.File) error {
	if r.relayed.Load() {
		return nil
	}
	if r.m.GuildID == "" {
		return r.a.sendTo(ctx, r.m.ChannelID, text, files)
	}
	err := r.a.sendDM(ctx, r.member.ID, text, files)
	if err == bridge.ErrCannotReachPrivately {
		// There is no interaction to answer ephemerally: explain in the
		// channel, revealing nothing of what the answer was.
		ms := &discordgo.MessageSend{Content: cannotDMText(r.member.ID), AllowedMentions: noMentions,
			Reference: &discordgo.MessageReference{MessageID: r.m.ID, ChannelID: r.m.ChannelID, GuildID: r.m.GuildID}}
		if perr := r.a.post(ctx, r.m.ChannelID, ms); perr != nil {
			r.a.log.Warn("cannot explain a refused DM", "error", perr)
		}
	}
	return err
}

// Private answers in the DM (the member's own, for a channel post).
func (r *messageReply) Private(ctx context.Context, text string) error {
	return r.private(ctx, text, nil)
}

// PrivateFile sends a file in the member's DM.
func (r *messageReply) PrivateFile(ctx context.Context, f bridge.File) error {
	return r.private(ctx, "📎 "+f.Name, []*discordgo.File{{Name: f.Name, ContentType: "application/json", Reader: bytes.NewReader(f.Content)}})
}

// Public posts in the message's channel, as a reply to it.
func (r *messageReply) Public(ctx context.Context, p bridge.PublicPost) error {
	if r.relayed.Load() {
		return nil
	}
	replyTo := ""
	if r.command == "" {
		replyTo = r.m.ID // a Receive button under a post that holds pointers
	}
	return postFailure(r.a.post(ctx, r.m.ChannelID, publicMessage(p, r.command, r.member.ID, replyTo, r.m.ChannelID, r.m.GuildID)))
}

// DeleteRequest deletes the member's message. Bots cannot delete other
// people's messages in DMs, and need Manage Messages in a guild channel.
func (r *messageReply) DeleteRequest(ctx context.Context) error {
	if r.relayed.Load() {
		return nil
	}
	if r.m.GuildID == "" {
		return bridge.ErrCannotDelete
	}
	err := r.a.rest.do(ctx, func(opts ...discordgo.RequestOption) error {
		return r.a.sess.ChannelMessageDelete(r.m.ChannelID, r.m.ID, opts...)
	})
	switch code, _ := apiCode(err); {
	case err == nil, code == codeUnknownMessage:
		return nil
	case errIsNoRights(err):
		return bridge.ErrCannotDelete
	}
	return fmt.Errorf("discord: deleting a message: %w", err)
}
