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

func cmdReceive(c *call, args string) {
	switch {
	case strings.TrimSpace(args) != "":
		if len(clm.Extract(args)) == 0 {
			c.outcome = OutcomeUsage
			c.private(`I found no CLM pointer in that. A pointer looks like {"e": 1700000000, "n": "…", "d": "…"}: paste it whole after /clm receive.`)
			return
		}
		c.receiveText(args, c.source())
	case c.req.ReceiveRef != "" && c.receiveRef():
		// The button's post, as the core remembers it (with who made it).
	case c.req.Quoted != "":
		if len(clm.Extract(c.req.Quoted)) == 0 {
			c.outcome = OutcomeUsage
			c.private("The message you pointed at holds no CLM pointer.")
			return
		}
		c.receiveText(c.req.Quoted, c.source())
	case c.req.ReceiveRef != "":
		c.outcome = OutcomeExpired
		c.private("I no longer remember the pointer behind that button. Reply to the post with /clm receive, or paste the pointer to me privately: /clm receive <pointer>")
	default:
		c.tellUsage("receive")
	}
}

// receiveRef receives the pointers behind the pressed button, if the core
// remembers it for this place, and reports whether it did.
func (c *call) receiveRef() bool {
	e, ok := c.b.refs.get(c.req.ReceiveRef, c.place())
	if ok {
		c.receive(e.pointers, e.source, e.poster != c.mk)
	}
	return ok
}

// receiveText opens every pointer in text. Where the text came from is
// not known (the member may have made its pointers), so they verify no
// secret.
func (c *call) receiveText(text string, src storage.Source) {
	c.receive(clm.Extract(text), src, false)
}

// receive opens pointers with the member's unlocked chats, saves and
// shows (privately) what opens, and asks for a secret, or hints, for the
// rest. fromOthers tells that someone else posted them: then they verify
// the secrets that open them.
func (c *call) receive(pointers []clm.Pointer, src storage.Source, fromOthers bool) {
	var out []string
	if len(pointers) > MaxPointersPerRequest {
		out = append(out, fmt.Sprintf("That holds %d pointers; I open the first %d.", len(pointers), MaxPointersPerRequest))
		pointers = pointers[:MaxPointersPerRequest]
	}
	if _, ok := c.memberIDOrTell(); !ok {
		return
	}
	// Unverified secrets (see session.unverified) are guesses as far as
	// the bridge knows: a receive that leaves a pointer closed counts one
	// wrong secret for each of them it tried, and while the member must
	// wait they open nothing.
	guesses, nGuesses := c.b.sessions.unverified(c.mk)
	ok, _ := c.b.unlocks.check(c.mk, c.now())
	waiting := !ok
	var unopened []clm.Pointer
	c.seen += len(pointers)
	for _, p := range pointers {
		hits := c.b.sessions.trialOpenMember(c.mk, p)
		if waiting {
			hits = c.b.sessions.dropUnverified(hits)
		}
		lines, opened := c.deliver(p, hits, src, fromOthers)
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
	if len(unopened) > 0 && len(guesses) > 0 {
		list := strings.Join(guesses, ", ")
		if waiting {
			out = append(out, fmt.Sprintf("While you must wait, I don't open pointers with your chats whose secret no pointer from someone else has confirmed yet (%s).", list))
		} else {
			c.outcome = OutcomeWrongSecret
			left, at := c.b.unlocks.failedMany(c.mk, c.now(), nGuesses)
			next := fmt.Sprintf("You may try %s more before you must wait.", plural(left, "time", "times"))
			if left == 0 {
				next = c.retryText(at)
			}
			out = append(out, fmt.Sprintf("Your chats whose secret no pointer from someone else has confirmed yet (%s) leave it closed: I count that as %s, as if you had tried those secrets with /clm unlock. (A secret is confirmed when it opens a pointer someone else posted, through its Receive button.) %s",
				list, plural(nGuesses, "wrong secret", "wrong secrets"), next))
		}
	}
	if len(unopened) > 0 {
		out = append(out, c.askOrHint(unopened, src, fromOthers)...)
	}
	c.private(out...)
}

// askOrHint answers for pointers none of the member's chats opens: in a
// private place it asks for the secret (the next private line), elsewhere
// it gives a short hint.
func (c *call) askOrHint(unopened []clm.Pointer, src storage.Source, fromOthers bool) []string {
	c.outcome = OutcomeNotOpened
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
	c.setPending(&pending{kind: pendSecret, pointers: unopened, source: src, fromOthers: fromOthers})
	return []string{
		fmt.Sprintf("None of your unlocked chats opens %s.", what),
		fmt.Sprintf("🔑 If you know its chat's secret, send it as your next message here (within %s); if it starts with a command's name, send it as  secret: <your secret>. I won't show it back; if it opens the pointer I create the chat from the name inside it and save the message. Commands with /clm in front still work meanwhile; /clm cancel to stop.", human(c.b.opts.ConfirmWindow)),
	}
}

// deliver handles one pointer opened (or not) by the member's sessions.
// It reports opened=false when no session's secret opened it. fromOthers
// (someone else posted it) verifies the secret of the chat it is saved in.
func (c *call) deliver(p clm.Pointer, hits []hit, src storage.Source, fromOthers bool) (lines []string, opened bool) {
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
		delete(c.st.joined, named.s.chat)
		if fromOthers && named.unverified {
			c.verified(named.s)
		}
		return c.shown(named.opened, created, err), true
	case other != nil:
		return c.otherChat(p, other, src, fromOthers), true
	default:
		c.outcome = OutcomeTampered
		return []string{fmt.Sprintf("⚠️ A pointer of %s was changed on the way and was not saved (tampered): I did not show it.", tampered.s.chat)}, true
	}
}

// otherChat handles a pointer that opened with the secret of the member's
// chat h.s.chat but names another chat inside. A pointer never deletes,
// replaces or rekeys a chat because of the name it holds, and the name
// inside an untagged pointer is not trusted at all (anyone on the way can
// change it without the secret). So the message is saved only in the
// member's own chat of that name when that chat has the same secret; or,
// when the member joined h.s.chat with unlock (its name a guess, not yet
// confirmed) and it holds nothing, the joined chat takes the name inside a
// tagged pointer, if no chat has that name. Anything else is shown, and
// the member is told why nothing was saved or changed.
func (c *call) otherChat(p clm.Pointer, h *hit, src storage.Source, fromOthers bool) []string {
	name, mine := h.opened.Chat, h.s.chat
	refused := func(why string) []string {
		return append(formatOpened(h.opened), why+" Nothing was saved or changed.")
	}
	if !h.opened.Authenticated {
		if h.unconfirmed {
			return refused(fmt.Sprintf("You joined %s with the secret that opens this pointer, and the pointer names the chat %s; but it is an old-style pointer without a tag, so that name may have been changed on the way: I did not rename your chat. If %s is the right name: /clm forget %s, then /clm unlock %s <secret>.",
				mine, name, name, quoteName(mine), quoteName(name)))
		}
		return refused(fmt.Sprintf("This pointer opens with the secret of your chat %s but names the chat %s, and it is an old-style pointer without a tag: that name may have been changed on the way.", mine, name))
	}
	if msg := checkName("chat name", name, MaxChatNameRunes); msg != "" {
		return refused(fmt.Sprintf("This pointer opens with the secret of your chat %s but names a chat I can't keep (%s).", mine, strings.TrimSuffix(msg, ".")))
	}
	secret := append([]byte(nil), h.s.secret()...)
	defer clear(secret)
	_, exists, err := c.chatNamed(name)
	if err != nil {
		return refused("Something went wrong on my side while I looked at your chats.")
	}
	if exists {
		key, err := c.b.unlockChat(c.ctx, c.st.id, name, secret)
		switch {
		case err == nil:
			created, serr := c.save(key, p, h.opened, src)
			// The secret is proven if it was (h's chat), if the chat of
			// that name held a proven one, or by a pointer of someone else.
			guess := h.unverified && c.st.guessed[name] && !fromOthers
			c.b.sessions.add(c.req.Member, c.st.id, name, secret, key, false, guess)
			if !guess {
				delete(c.st.guessed, name)
			}
			delete(c.st.joined, name) // its name and secret are confirmed now
			return append(c.shown(h.opened, created, serr),
				fmt.Sprintf("It opened with the secret of your chat %s; your chat %s has that secret too, so I saved it there and unlocked %s.", mine, name, name))
		case errors.Is(err, storage.ErrWrongSecret):
			why := fmt.Sprintf("This pointer opens with the secret of your chat %s but names your chat %s, which has another secret: I did not give %s this one.", mine, name, name)
			if h.unconfirmed {
				why += fmt.Sprintf(" You joined %s with this secret; I did not rename it either, as you already have a chat named %s.", mine, name)
			}
			return refused(why)
		default:
			if text, busy := busyText(err); busy {
				return refused(text)
			}
			c.b.log.LogAttrs(c.ctx, slog.LevelError, "unlocking a pointer's chat failed", slog.String("error", err.Error()))
			return refused("Something went wrong on my side.")
		}
	}
	if h.unconfirmed {
		if sum, ok, _ := c.chatNamed(mine); ok && sum.Messages+sum.Trashed == 0 {
			return c.renameJoined(p, h, secret, src, fromOthers)
		}
		return refused(fmt.Sprintf("You joined %s with the secret that opens this pointer, and the pointer names the chat %s; but %s holds messages now, so I did not rename it. If %s is the right name, make it yours: /clm unlock %s <secret>.",
			mine, name, mine, name, quoteName(name)))
	}
	return refused(fmt.Sprintf("This pointer opens with the secret of your chat %s but names the chat %s, which you don't have. If %s is a chat of its own that shares %s's secret, join it yourself: /clm unlock %s <secret>, then receive the pointer again.",
		mine, name, name, mine, quoteName(name)))
}

// renameJoined gives the member's joined chat h.s.chat, empty and never
// confirmed, the name inside the tagged pointer that opened with its
// secret: the chat of that name is created (none exists), the message saved
// in it, and the joined chat deleted.
func (c *call) renameJoined(p clm.Pointer, h *hit, secret []byte, src storage.Source, fromOthers bool) []string {
	name, joined := h.opened.Chat, h.s.chat
	key, err := c.b.createChat(c.ctx, c.st.id, name, secret)
	if err != nil {
		c.b.log.LogAttrs(c.ctx, slog.LevelError, "renaming a joined chat failed", slog.String("error", err.Error()))
		return append(formatOpened(h.opened), fmt.Sprintf("You joined %s, but this pointer names the chat %s. Something went wrong on my side, so I did not rename it. Nothing was saved or changed.", joined, name))
	}
	created, serr := c.save(key, p, h.opened, src)
	guess := h.unverified && !fromOthers
	c.b.sessions.add(c.req.Member, c.st.id, name, secret, key, false, guess)
	if guess {
		c.guessed(name)
	}
	// The joined chat's name is confirmed now, under the new name.
	c.b.sessions.confirm(h.s)
	delete(c.st.joined, joined)
	note := fmt.Sprintf("You joined %s, but its pointers name the chat %s: I renamed your chat to %s.", joined, name, name)
	// Deleted only if it is still empty, looked at once more just before.
	couldNot := fmt.Sprintf("You joined %s, but its pointers name the chat %s: I made the chat %s with the same secret, but could not delete %s. /clm forget %s.", joined, name, name, joined, quoteName(joined))
	sum, ok, err := c.chatNamed(joined)
	switch {
	case err != nil:
		note = couldNot
	case ok && sum.Messages+sum.Trashed > 0:
		note = fmt.Sprintf("You joined %s, but its pointers name the chat %s: I made the chat %s with the same secret and kept %s, which holds messages. /clm forget %s when you no longer need it.", joined, name, name, joined, quoteName(joined))
	default:
		c.b.sessions.remove(c.mk, joined)
		delete(c.st.guessed, joined)
		if ok {
			if err := c.b.store.DeleteChat(c.ctx, c.st.id, joined); err != nil {
				c.b.log.LogAttrs(c.ctx, slog.LevelError, "deleting a renamed chat failed", slog.String("error", err.Error()))
				note = couldNot
			}
		}
	}
	return append(c.shown(h.opened, created, serr), note)
}

// chatNamed returns the member's chat summary, without answering the
// member.
func (c *call) chatNamed(name string) (storage.ChatSummary, bool, error) {
	chats, err := c.b.store.ListChats(c.ctx, c.st.id)
	if err != nil {
		c.b.log.LogAttrs(c.ctx, slog.LevelError, "listing chats failed", slog.String("error", err.Error()))
		return storage.ChatSummary{}, false, err
	}
	for _, ch := range chats {
		if ch.Name == name {
			return ch, true, nil
		}
	}
	return storage.ChatSummary{}, false, nil
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
		lines = append(lines, "⚠️ Unauthenticated: an old-style pointer from a CLM 2.0.2 client. It carries no tamper check, and anyone who knows the chat can guess its text from the pointer: do not send short answers, numbers or PINs from the 2.0.2 client.")
	}
	return lines
}

// answerSecret handles the member's answer to "which secret?": the line is
// the secret. It is never shown back.
func (c *call) answerSecret(p *pending, text string) {
	c.deleteRequest()
	if ok, at := c.b.unlocks.check(c.mk, c.now()); !ok {
		c.outcome = OutcomeBackoff
		c.private(c.retryText(at) + " Nothing was saved.")
		return
	}
	secret := []byte(strings.TrimSpace(text))
	defer clear(secret)
	if len(secret) == 0 {
		c.private("That was empty. Nothing was saved; /clm receive the pointer again to retry.")
		return
	}
	if _, ok := c.memberIDOrTell(); !ok {
		return
	}
	var out []string
	openedAny, unlockedAny := false, false
	c.seen += len(p.pointers)
	for _, ptr := range p.pointers {
		o, err := ptr.Open(secret)
		switch {
		case errors.Is(err, clm.ErrTampered):
			openedAny = true
			c.opened++
			out = append(out, "⚠️ That secret opens a pointer, but the pointer was changed on the way and was not saved (tampered): I did not show it or create its chat.")
			continue
		case err != nil:
			continue
		}
		openedAny = true
		c.opened++
		lines, unlocked := c.fileAnswered(ptr, o, secret, p.source, p.fromOthers)
		out = append(out, lines...)
		unlockedAny = unlockedAny || unlocked
	}
	if !openedAny {
		c.outcome = OutcomeWrongSecret
		left, at := c.b.unlocks.failed(c.mk, c.now())
		next := fmt.Sprintf("You may try %s more before you must wait.", plural(left, "time", "times"))
		if left == 0 {
			next = c.retryText(at)
		}
		c.private("That secret opens none of the pointers. Nothing was saved or created. To try again, /clm receive the pointer again. " + next)
		return
	}
	switch {
	case p.fromOthers:
		// A pointer someone else posted opened: the secret is real.
		c.b.unlocks.succeeded(c.mk)
	case c.opened < c.seen:
		// Pointers of unknown origin (the member may have made the one
		// that opened) and one stayed closed: the secret was tried on it.
		c.outcome = OutcomeWrongSecret
		left, at := c.b.unlocks.failed(c.mk, c.now())
		next := fmt.Sprintf("You may try %s more before you must wait.", plural(left, "time", "times"))
		if left == 0 {
			next = c.retryText(at)
		}
		out = append(out, "That secret leaves some of the pointers closed: I count that as a wrong secret. "+next)
	}
	if unlockedAny {
		out = append(out, "The chat is unlocked now; /clm chats lists your chats.")
	}
	c.private(out...)
}

// fileAnswered saves a pointer opened with the secret the member just gave
// in the member's chat named inside it: that chat unlocked with the secret,
// or created when the member has none of that name (the "secure chat
// creation" of CLM 2.0.2; for an untagged pointer, whose chat name may have
// been changed on the way, the member is told to check the name).
// A chat of that name with another secret is never replaced: the text is
// shown and nothing saved. unlocked reports whether the chat is unlocked.
func (c *call) fileAnswered(ptr clm.Pointer, o clm.Opened, secret []byte, src storage.Source, fromOthers bool) (lines []string, unlocked bool) {
	name := o.Chat
	otherSecret := func() []string {
		return append(formatOpened(o), fmt.Sprintf("You already have a chat named %s with another secret, so I saved nothing and changed nothing: this message opened with the secret you just gave, not with %s's. If they are different chats, /clm forget one of them, or keep reading this one with /clm receive.", name, name))
	}
	if s, err := c.b.sessions.use(c.mk, name); err == nil {
		defer c.b.sessions.release(s)
		if subtle.ConstantTimeCompare(s.secret(), secret) != 1 {
			return otherSecret(), false
		}
		created, serr := c.save(s.key, ptr, o, src)
		c.b.sessions.confirm(s)
		delete(c.st.joined, name)
		if fromOthers {
			c.verified(s)
		}
		return c.shown(o, created, serr), true
	}
	if msg := checkName("chat name", name, MaxChatNameRunes); msg != "" {
		return append(formatOpened(o), "I can't keep a chat of that name ("+strings.TrimSuffix(msg, ".")+"), so I did not save it."), false
	}
	key, err := c.b.unlockChat(c.ctx, c.st.id, name, secret)
	switch {
	case err == nil:
		created, serr := c.save(key, ptr, o, src)
		// The stored secret is a guess of the member's, unless verified
		// before or by this pointer of someone else.
		guess := c.st.guessed[name] && !fromOthers
		c.b.sessions.add(c.req.Member, c.st.id, name, secret, key, false, guess)
		if !guess {
			delete(c.st.guessed, name)
		}
		delete(c.st.joined, name) // its name is confirmed now
		return c.shown(o, created, serr), true
	case errors.Is(err, storage.ErrWrongSecret):
		return otherSecret(), false
	case errors.Is(err, storage.ErrNotFound):
		var full bool
		if full, err = c.chatsFull(); err == nil && full {
			return append(formatOpened(o), tooManyChats()+" I did not create the chat "+name+", and saved nothing."), false
		}
		if err != nil {
			break
		}
		key, err = c.b.createChat(c.ctx, c.st.id, name, secret)
		if err == nil {
			created, serr := c.save(key, ptr, o, src)
			// Made from a pointer of unknown origin, the secret is still
			// the member's guess (the member may have made the pointer).
			c.b.sessions.add(c.req.Member, c.st.id, name, secret, key, false, !fromOthers)
			if !fromOthers {
				c.guessed(name)
			}
			lines := c.shown(o, created, serr)
			if !o.Authenticated {
				lines = append(lines, fmt.Sprintf("⚠️ It was an old-style pointer without a tag (2.0.2 clients make these), so nothing proves its chat name was not changed on the way. I created %s with the secret you gave; if that is not the name its members use, /clm forget %s and join the right one with /clm unlock <chat> <secret>.", name, quoteName(name)))
			}
			return lines, true
		}
	}
	if text, busy := busyText(err); busy {
		c.outcome = OutcomeLimited
		return append(formatOpened(o), text+" I did not save it: /clm receive the pointer again then."), false
	}
	c.b.log.LogAttrs(c.ctx, slog.LevelError, "saving an answered pointer failed", slog.String("error", err.Error()))
	return append(formatOpened(o), "Something went wrong on my side, so I did not save it."), false
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
	ref := ""
	if c.req.Caps.Buttons {
		ref = c.b.refs.put(pointers, src, c.place(), c.mk)
		text := "🔓 A CLM pointer: members of its chat can open it privately with Receive."
		if len(pointers) > 1 {
			text = fmt.Sprintf("🔓 %d CLM pointers: members of their chat can open them privately with Receive.", len(pointers))
		}
		c.public(PublicPost{Text: text, ReceiveRef: ref})
	}
	c.opened += c.publishOrWatch(pointers, src, ref)
}
