package bridge

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

func (c *call) cmdReceive(args string) {
	switch {
	case strings.TrimSpace(args) != "":
		if len(clm.Extract(args)) == 0 {
			c.outcome = "usage"
			c.private(`I found no CLM pointer in that. A pointer looks like {"e": 1700000000, "n": "…", "d": "…"}: paste it whole after /clm receive.`)
			return
		}
		c.receiveText(args, c.source())
	case c.req.Quoted != "":
		if len(clm.Extract(c.req.Quoted)) == 0 {
			c.outcome = "usage"
			c.private("The message you pointed at holds no CLM pointer.")
			return
		}
		c.receiveText(c.req.Quoted, c.source())
	case c.req.ReceiveRef != "":
		e, ok := c.b.refs.get(c.req.ReceiveRef)
		if !ok {
			c.outcome = "expired"
			c.private("I no longer remember the pointer behind that button. Reply to the post with /clm receive, or paste the pointer to me privately: /clm receive <pointer>")
			return
		}
		c.receive(e.pointers, e.source)
	default:
		c.usage("receive")
	}
}

// receiveText opens every pointer in text.
func (c *call) receiveText(text string, src storage.Source) {
	c.receive(clm.Extract(text), src)
}

// receive opens pointers with the member's unlocked chats, saves and
// shows (privately) what opens, and asks for a secret, or hints, for the
// rest.
func (c *call) receive(pointers []clm.Pointer, src storage.Source) {
	var out []string
	if len(pointers) > MaxPointersPerRequest {
		out = append(out, fmt.Sprintf("That holds %d pointers; I open the first %d.", len(pointers), MaxPointersPerRequest))
		pointers = pointers[:MaxPointersPerRequest]
	}
	if _, ok := c.id(); !ok {
		return
	}
	var unopened []clm.Pointer
	c.seen += len(pointers)
	for _, p := range pointers {
		hits := c.b.sessions.trialOpenMember(c.mk, p)
		lines, opened := c.deliver(p, hits, src)
		for _, h := range hits {
			c.b.sessions.release(h.s)
		}
		if opened {
			c.opened++
		} else {
			unopened = append(unopened, p)
		}
		out = append(out, lines...)
	}
	if len(unopened) > 0 {
		out = append(out, c.askOrHint(unopened, src)...)
	}
	c.private(out...)
}

// askOrHint answers for pointers none of the member's chats opens: in a
// private place it asks for the secret (the next private line), elsewhere
// it gives a short hint.
func (c *call) askOrHint(unopened []clm.Pointer, src storage.Source) []string {
	c.outcome = "not-opened"
	what := "this pointer"
	if len(unopened) > 1 {
		what = fmt.Sprintf("%d of these pointers", len(unopened))
	}
	if c.req.Place.Kind != Private {
		return []string{fmt.Sprintf("None of your unlocked chats opens %s. Unlock its chat in a private chat with me (/clm unlock <chat> <secret>) and try again, or paste the pointer to me privately and I'll ask for its secret.", what)}
	}
	if ok, at := c.b.unlocks.check(c.mk, c.now()); !ok {
		return []string{fmt.Sprintf("None of your unlocked chats opens %s. %s", what, c.retryText(at))}
	}
	c.setPending(&pending{kind: pendSecret, pointers: unopened, source: src})
	return []string{
		fmt.Sprintf("None of your unlocked chats opens %s.", what),
		fmt.Sprintf("🔑 If you know its chat's secret, send it as your next message here (within %s). I won't show it back; if it opens the pointer I create the chat from the name inside it and save the message. /clm cancel to stop.", human(c.b.opts.ConfirmWindow)),
	}
}

// deliver handles one pointer opened (or not) by the member's sessions.
// It reports opened=false when no session's secret opened it.
func (c *call) deliver(p clm.Pointer, hits []hit, src storage.Source) (lines []string, opened bool) {
	if len(hits) == 0 {
		return nil, false
	}
	var named, other, tampered *hit
	for i := range hits {
		h := &hits[i]
		switch {
		case h.err != nil:
			if tampered == nil {
				tampered = h
			}
		case h.s.chat == h.opened.Chat:
			if named == nil {
				named = h
			}
		case other == nil || (h.unconfirmed && !other.unconfirmed):
			other = h
		}
	}
	switch {
	case named != nil:
		created, err := c.saveHit(named, p, src)
		if named.unconfirmed {
			c.b.sessions.confirm(named.s)
		}
		return c.shown(named.opened, created, err), true
	case other != nil:
		return c.renamed(p, other, src), true
	default:
		c.outcome = "tampered"
		return []string{fmt.Sprintf("⚠️ A pointer opened with the secret of %s, but it was changed after it was made (tampered). I did not show it or save it.", tampered.s.chat)}, true
	}
}

// renamed handles a pointer that opened with the secret of one of the
// member's chats but names another chat inside. When the member joined that
// chat with unlock and it holds nothing yet, the name inside wins (the
// joined name was checked, and was wrong); otherwise the pointer's chat is
// adopted beside it with the same secret.
func (c *call) renamed(p clm.Pointer, h *hit, src storage.Source) []string {
	name := h.opened.Chat
	secret := append([]byte(nil), h.s.secret()...)
	defer clear(secret)
	var note string
	if h.unconfirmed {
		if sum, ok := c.findChat(h.s.chat); ok && sum.Messages+sum.Trashed == 0 {
			c.b.sessions.remove(c.mk, h.s.chat)
			if err := c.b.store.DeleteChat(c.ctx, c.st.id, h.s.chat); err == nil {
				note = fmt.Sprintf("You joined %s, but its pointers name the chat %s: I renamed your chat to %s.", h.s.chat, name, name)
			}
		}
	}
	if note == "" {
		note = fmt.Sprintf("This pointer opened with the secret of your chat %s, but it belongs to the chat %s.", h.s.chat, name)
	}
	r := c.saveAdopting(name, secret, p, h.opened, src)
	if r.why != "" {
		return append(formatOpened(h.opened), note+" "+r.why)
	}
	lines := append(c.shown(h.opened, r.created, r.err), note)
	if r.note != "" {
		lines = append(lines, r.note)
	}
	return lines
}

// findChat returns the member's chat summary without answering the member.
func (c *call) findChat(name string) (storage.ChatSummary, bool) {
	chats, err := c.b.store.ListChats(c.ctx, c.st.id)
	if err != nil {
		return storage.ChatSummary{}, false
	}
	for _, ch := range chats {
		if ch.Name == name {
			return ch, true
		}
	}
	return storage.ChatSummary{}, false
}

// saveResult is what saveAdopting did.
type saveResult struct {
	created bool   // a new row (false: it was already saved)
	err     error  // saving failed (logged)
	why     string // set when nothing could be saved: why, for the member
	note    string // something the member should know (a chat replaced)
}

// saveAdopting saves o in the member's chat name, unlocked with secret (a
// secret proven by the pointer that opened): the unlocked session when it
// has that secret, else the stored chat unlocked or created, or replaced
// when it has another secret and no message.
func (c *call) saveAdopting(name string, secret []byte, p clm.Pointer, o clm.Opened, src storage.Source) saveResult {
	if s, uerr := c.b.sessions.use(c.mk, name); uerr == nil {
		same := subtle.ConstantTimeCompare(s.secret(), secret) == 1
		if same {
			created, err := c.save(s.key, p, o, src)
			c.b.sessions.release(s)
			return saveResult{created: created, err: err}
		}
		c.b.sessions.release(s)
	}
	if msg := checkName("chat name", name, MaxChatNameRunes); msg != "" {
		return saveResult{why: "I can't keep a chat of that name (" + strings.TrimSuffix(msg, ".") + "), so I did not save it."}
	}
	key, replaced, why := c.adoptChat(name, secret)
	if why != "" {
		return saveResult{why: why}
	}
	created, err := c.save(key, p, o, src)
	c.b.sessions.add(c.req.Member, c.st.id, name, secret, key, false)
	r := saveResult{created: created, err: err}
	if replaced {
		r.note = fmt.Sprintf("Your chat %s had another secret and no messages: it now uses the secret that opened this pointer.", name)
	}
	return r
}

// adoptChat returns the member's chat name unlocked with secret: unlocked,
// created when the member has no such chat, or replaced when it exists with
// another secret and holds no message.
func (c *call) adoptChat(name string, secret []byte) (key *storage.ChatKey, replaced bool, why string) {
	key, err := c.b.store.UnlockChat(c.ctx, c.st.id, name, secret)
	switch {
	case err == nil:
		return key, false, ""
	case errors.Is(err, storage.ErrNotFound):
		key, err = c.b.store.CreateChat(c.ctx, c.st.id, name, secret)
		if err == nil {
			return key, false, ""
		}
	case errors.Is(err, storage.ErrWrongSecret):
		sum, ok := c.findChat(name)
		if !ok || sum.Messages+sum.Trashed > 0 {
			return nil, false, fmt.Sprintf("You already have a chat named %s with another secret and messages in it, so I did not save this one there. If they are different chats, /clm forget one of them, or keep reading this one with /clm receive.", name)
		}
		c.b.sessions.remove(c.mk, name)
		if err = c.b.store.DeleteChat(c.ctx, c.st.id, name); err == nil {
			key, err = c.b.store.CreateChat(c.ctx, c.st.id, name, secret)
			if err == nil {
				return key, true, ""
			}
		}
	}
	c.b.log.LogAttrs(c.ctx, slog.LevelError, "adopting a chat failed", slog.String("error", err.Error()))
	return nil, false, "Something went wrong on my side, so I did not save it."
}

// receivedMessage is what is stored of an opened pointer.
func receivedMessage(p clm.Pointer, o clm.Opened, src storage.Source) storage.NewMessage {
	return storage.NewMessage{
		Direction: storage.Received, Epoch: p.Epoch, Nonce: p.Nonce, Pointer: p.String(),
		Authenticated: o.Authenticated, Username: o.Username, Text: o.Text, Source: src,
	}
}

// save stores an opened pointer as received.
func (c *call) save(key *storage.ChatKey, p clm.Pointer, o clm.Opened, src storage.Source) (bool, error) {
	_, created, err := c.b.store.SaveMessage(c.ctx, key, receivedMessage(p, o, src))
	if err != nil {
		c.b.log.LogAttrs(c.ctx, slog.LevelError, "saving a received message failed", slog.String("error", err.Error()))
	}
	return created, err
}

// saveHit stores the pointer a held hit opened, in the hit's chat.
func (c *call) saveHit(h *hit, p clm.Pointer, src storage.Source) (bool, error) {
	created, err := c.b.saveToSession(c.ctx, h, receivedMessage(p, h.opened, src))
	if err != nil {
		c.b.log.LogAttrs(c.ctx, slog.LevelError, "saving a received message failed", slog.String("error", err.Error()))
	}
	return created, err
}

// saveToSession saves m in a held hit's chat, with the session's current
// key: when the hit's member is changing the chat's secret, it waits for
// the rekey to finish (a rekey wipes the key the hit was found with).
func (b *Bridge) saveToSession(ctx context.Context, h *hit, m storage.NewMessage) (created bool, err error) {
	h.s.keyMu.RLock()
	defer h.s.keyMu.RUnlock()
	_, created, err = b.store.SaveMessage(ctx, b.sessions.currentKey(h.s), m)
	return created, err
}

// shown formats an opened message for its member, with whether it was
// saved.
func (c *call) shown(o clm.Opened, created bool, saveErr error) []string {
	lines := formatOpened(o)
	switch {
	case saveErr != nil:
		lines = append(lines, "(I could not save it in your history this time.)")
	case !created:
		lines = append(lines, "(already in your history)")
	}
	return lines
}

// formatOpened is how an opened message reads, privately.
func formatOpened(o clm.Opened) []string {
	lines := []string{fmt.Sprintf("📨 %s · %s: %s", o.Chat, o.Username, o.Text)}
	if !o.Authenticated {
		lines = append(lines, "⚠️ Unauthenticated: an old-style pointer without a tag, so anyone on the way could have changed its text.")
	}
	return lines
}

// answerSecret handles the member's answer to "which secret?": the line is
// the secret. It is never shown back.
func (c *call) answerSecret(p *pending, text string) {
	c.deleteRequest()
	if ok, at := c.b.unlocks.check(c.mk, c.now()); !ok {
		c.outcome = "backoff"
		c.private(c.retryText(at) + " Nothing was saved.")
		return
	}
	secret := []byte(strings.TrimSpace(text))
	defer clear(secret)
	if len(secret) == 0 {
		c.private("That was empty. Nothing was saved; /clm receive the pointer again to retry.")
		return
	}
	if _, ok := c.id(); !ok {
		return
	}
	var out []string
	openedAny := false
	c.seen += len(p.pointers)
	for _, ptr := range p.pointers {
		o, err := ptr.Open(secret)
		switch {
		case errors.Is(err, clm.ErrTampered):
			openedAny = true
			c.opened++
			out = append(out, "⚠️ That secret opens a pointer, but the pointer was changed after it was made (tampered). I did not show it, save it or create its chat.")
			continue
		case err != nil:
			continue
		}
		openedAny = true
		c.opened++
		r := c.saveAdopting(o.Chat, secret, ptr, o, p.source)
		if r.why != "" {
			out = append(append(out, formatOpened(o)...), r.why)
			continue
		}
		out = append(out, c.shown(o, r.created, r.err)...)
		if r.note != "" {
			out = append(out, r.note)
		}
	}
	if !openedAny {
		c.outcome = "wrong-secret"
		left, at := c.b.unlocks.failed(c.mk, c.now())
		next := fmt.Sprintf("You may try %s more before you must wait.", plural(left, "time", "times"))
		if left == 0 {
			next = c.retryText(at)
		}
		c.private("That secret opens none of the pointers. Nothing was saved or created. To try again, /clm receive the pointer again. " + next)
		return
	}
	c.b.unlocks.succeeded(c.mk)
	out = append(out, "The chat is unlocked now; /clm chats lists your chats.")
	c.private(out...)
}

// publicPost handles a channel post that holds pointers: it offers a
// Receive button and opens the pointers for watching members.
func (c *call) publicPost() {
	pointers := clm.Extract(c.req.Post)
	if len(pointers) == 0 {
		return
	}
	if len(pointers) > MaxPointersPerRequest {
		pointers = pointers[:MaxPointersPerRequest]
	}
	c.seen += len(pointers)
	src := c.source()
	if c.req.Caps.Buttons {
		ref := c.b.refs.put(pointers, src)
		text := "🔓 A CLM pointer: members of its chat can open it privately with Receive."
		if len(pointers) > 1 {
			text = fmt.Sprintf("🔓 %d CLM pointers: members of their chat can open them privately with Receive.", len(pointers))
		}
		c.public(PublicPost{Text: text, ReceiveRef: ref})
	}
	c.opened += c.b.watchDeliver(c.ctx, c.req, pointers, src)
}

// watchDeliver opens pointers seen in a channel for the members who turned
// watch on and were seen in that channel, saves them and tells each member
// privately through their platform's Notifier. It returns how many of the
// pointers opened for someone.
func (b *Bridge) watchDeliver(ctx context.Context, req Request, pointers []clm.Pointer, src storage.Source) (opened int) {
	ck := channelKey{platform: req.Member.Platform, id: req.Place.ID}
	b.mu.Lock()
	n := b.notifiers[req.Member.Platform]
	b.mu.Unlock()
	if n == nil {
		return 0
	}
	want := func(s *session) bool {
		if s.mk.platform != ck.platform {
			return false
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		st := b.members[s.mk]
		if st == nil || !st.watch {
			return false
		}
		_, seen := b.seen[ck][s.mk]
		return seen
	}
	where := placeName(req.Place)
	for _, p := range pointers {
		hits := b.sessions.trialOpen(p, want)
		if len(hits) > 0 {
			opened++
		}
		done := make(map[memberKey]bool)
		for _, h := range hits {
			if done[h.s.mk] {
				continue
			}
			var text string
			switch {
			case h.err != nil:
				text = fmt.Sprintf("⚠️ A pointer of %s posted in %s was changed after it was made (tampered). I did not open it for you.", h.s.chat, where)
			case h.s.chat != h.opened.Chat:
				continue // another chat sharing the secret: not for watch
			default:
				created, err := b.saveToSession(ctx, &h, receivedMessage(p, h.opened, src))
				if err != nil {
					b.log.LogAttrs(ctx, slog.LevelError, "saving a watched message failed", slog.String("error", err.Error()))
				}
				if err == nil && !created {
					done[h.s.mk] = true
					continue // already had it (their own, or received before)
				}
				lines := formatOpened(h.opened)
				lines[0] += fmt.Sprintf("  (posted in %s)", where)
				text = strings.Join(lines, "\n")
			}
			done[h.s.mk] = true
			if err := n.NotifyPrivately(ctx, h.s.member, text); err != nil {
				b.log.LogAttrs(ctx, slog.LevelWarn, "watch delivery failed",
					slog.String("platform", ck.platform), slog.String("error", err.Error()))
			}
		}
		for _, h := range hits {
			b.sessions.release(h.s)
		}
	}
	return opened
}
