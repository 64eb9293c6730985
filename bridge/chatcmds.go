package bridge

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// lockedHint says how long an unlocked chat stays unlocked.
func (c *call) lockedHint(chat string) string {
	return fmt.Sprintf("It locks after %s without use (%s at most), or now with /clm lock %s.",
		human(c.b.opts.SessionIdle), human(c.b.opts.SessionMaxAge), quoteName(chat))
}

func cmdNew(c *call, args string) {
	chat, rest, ok := c.chatArgOrTell("new", args)
	if !ok {
		return
	}
	secret := strings.TrimSpace(rest)
	generated := secret == ""
	if generated {
		var err error
		if secret, err = clm.GenerateSecret(); err != nil {
			c.failAndTell("making a secret", err)
			return
		}
	} else if utf8.RuneCountInString(secret) < MinNewSecretRunes {
		c.outcome = OutcomeUsage
		c.private(fmt.Sprintf("That secret is too short: a new chat needs at least %d characters. Or leave it out and I make a strong one: /clm new %s", MinNewSecretRunes, quoteName(chat)))
		return
	}
	id, ok := c.memberIDOrTell()
	if !ok || !c.roomForChatOrTell("Nothing was created.") {
		return
	}
	sb := []byte(secret)
	defer clear(sb)
	key, err := c.b.createChat(c.ctx, id, chat, sb)
	switch {
	case errors.Is(err, storage.ErrExists):
		c.outcome = OutcomeExists
		c.private(fmt.Sprintf("You already have a chat named %s. Unlock it in a private chat with me (/clm unlock %s <secret>), or choose another name.", chat, quoteName(chat)))
		return
	case errors.Is(err, storage.ErrInvalid):
		c.outcome = OutcomeUsage
		c.private("I can't make a chat with that name. Use a short name on one line.")
		return
	case err != nil:
		c.failAndTell("creating the chat", err)
		return
	}
	// A secret the member chose may be a guess of another chat's secret;
	// one the bridge made is not.
	c.b.sessions.add(c.req.Member, id, chat, sb, key, false, !generated)
	if !generated {
		c.guessed(chat)
	}
	if generated {
		c.private(
			fmt.Sprintf("✅ Created %s and unlocked it. Its secret, shown this once:", chat),
			secret,
			"Give it to the chat's members out of band (in person, by phone), never in a group. Each of them runs /clm unlock "+quoteName(chat)+" <secret> in a private chat with me.",
			c.lockedHint(chat))
		return
	}
	c.private(fmt.Sprintf("✅ Created %s with your secret and unlocked it. %s", chat, c.lockedHint(chat)))
}

// retryText tells the member when they may give a secret again.
func (c *call) retryText(at time.Time) string {
	return "Too many wrong secrets. You may try again in " + human(at.Sub(c.now())) + "."
}

func cmdUnlock(c *call, args string) {
	chat, rest, ok := c.chatArgOrTell("unlock", args)
	if !ok {
		return
	}
	secret := strings.TrimSpace(rest)
	if secret == "" {
		c.tellUsage("unlock")
		return
	}
	if ok, at := c.b.unlocks.check(c.mk, c.now()); !ok {
		c.outcome = OutcomeBackoff
		c.private(c.retryText(at) + " Nothing was unlocked.")
		return
	}
	id, ok := c.memberIDOrTell()
	if !ok {
		return
	}
	sb := []byte(secret)
	defer clear(sb)
	key, err := c.b.unlockChat(c.ctx, id, chat, sb)
	switch {
	case err == nil:
		// A chat joined and never confirmed stays so, and a chat whose
		// secret the member supplied stays unverified: unlocking it again
		// checked the secret the member chose, nothing more. Only a
		// verified unlock forgets the member's wrong secrets.
		guess := c.st.guessed[chat]
		if !guess {
			c.b.unlocks.succeeded(c.mk)
		}
		c.b.sessions.add(c.req.Member, id, chat, sb, key, c.st.joined[chat], guess)
		c.private(fmt.Sprintf("🔓 %s is unlocked. %s", chat, c.lockedHint(chat)))
	case errors.Is(err, storage.ErrWrongSecret):
		c.outcome = OutcomeWrongSecret
		left, at := c.b.unlocks.failed(c.mk, c.now())
		next := fmt.Sprintf("You may try %s more before you must wait.", plural(left, "time", "times"))
		if left == 0 {
			next = c.retryText(at)
		}
		c.private(fmt.Sprintf("That secret does not open %s. Nothing was unlocked. %s", chat, next))
	case errors.Is(err, storage.ErrNotFound):
		// Joining a chat the member was told about: nothing to check the
		// secret against yet, so the first pointer that opens checks the
		// name. Joins are few at a time, and a receive none of them opens
		// counts as a wrong secret (see receive), so they are no way around
		// the backoff.
		if len(c.st.joined) >= MaxUnconfirmedChats {
			c.outcome = OutcomeLimited
			c.private(fmt.Sprintf("You have %d chats you joined that no pointer has confirmed yet (%s). Receive a pointer of one of them first (/clm receive <pointer>), or /clm forget one you joined by mistake. Nothing was unlocked.",
				len(c.st.joined), strings.Join(c.joinedNames(), ", ")))
			return
		}
		if !c.roomForChatOrTell("Nothing was unlocked.") {
			return
		}
		key, err = c.b.createChat(c.ctx, id, chat, sb)
		if err != nil {
			c.failAndTell("adding the chat", err)
			return
		}
		c.b.sessions.add(c.req.Member, id, chat, sb, key, true, true)
		c.guessed(chat)
		if c.st.joined == nil {
			c.st.joined = make(map[string]bool)
		}
		c.st.joined[chat] = true
		c.private(fmt.Sprintf("🔓 You had no chat named %s, so you joined it with this secret, and it is unlocked. I check its name and secret when its first pointer opens (/clm receive). %s", chat, c.lockedHint(chat)))
	case errors.Is(err, storage.ErrInvalid):
		c.outcome = OutcomeUsage
		c.private("I can't use that chat name. Use a short name on one line.")
	default:
		c.failAndTell("unlocking the chat", err)
	}
}

func cmdLock(c *call, args string) {
	if strings.TrimSpace(args) != "" {
		chat, ok := c.soleChatArgOrTell("lock", args)
		if !ok {
			return
		}
		if c.b.sessions.remove(c.mk, chat) {
			c.private(fmt.Sprintf("🔒 Locked %s: its secret is wiped from my memory.", chat))
		} else {
			c.private(fmt.Sprintf("%s was not unlocked.", chat))
		}
		return
	}
	names := c.b.sessions.removeMember(c.mk)
	if len(names) == 0 {
		c.private("Nothing was unlocked.")
		return
	}
	c.private(fmt.Sprintf("🔒 Locked %s: %s. Their secrets are wiped from my memory.", plural(len(names), "chat", "chats"), strings.Join(names, ", ")))
}

// chatLinesOrTell describes the member's chats, one per line; on a
// failure it tells the member and returns ok=false.
func (c *call) chatLinesOrTell() ([]string, bool) {
	id, ok := c.memberIDOrTell()
	if !ok {
		return nil, false
	}
	chats, err := c.b.store.ListChats(c.ctx, id)
	if err != nil {
		c.failAndTell("listing your chats", err)
		return nil, false
	}
	unlocked := make(map[string]bool)
	for _, n := range c.b.sessions.unlocked(c.mk) {
		unlocked[n] = true
	}
	var lines []string
	for _, ch := range chats {
		state := "🔒 locked"
		if unlocked[ch.Name] {
			state = "🔓 unlocked"
		}
		line := fmt.Sprintf("%s — %s, %s", ch.Name, plural(ch.Messages, "message", "messages"), state)
		if ch.Trashed > 0 {
			line = fmt.Sprintf("%s — %s (%d in the trash), %s", ch.Name, plural(ch.Messages, "message", "messages"), ch.Trashed, state)
		}
		lines = append(lines, line)
	}
	return lines, true
}

func cmdChats(c *call, _ string) {
	lines, ok := c.chatLinesOrTell()
	if !ok {
		return
	}
	if len(lines) == 0 {
		c.private("You have no chats yet. Create one with /clm new <chat>, or join one you were told about with /clm unlock <chat> <secret> (in a private chat with me).")
		return
	}
	c.private(append([]string{"Your chats:"}, lines...)...)
}

func cmdRekey(c *call, args string) {
	chat, rest, ok := c.chatArgOrTell("rekey", args)
	if !ok {
		return
	}
	secret := strings.TrimSpace(rest)
	if secret == "" {
		c.tellUsage("rekey")
		return
	}
	if utf8.RuneCountInString(secret) < MinNewSecretRunes {
		c.outcome = OutcomeUsage
		c.private(fmt.Sprintf("That secret is too short: at least %d characters. Nothing was changed.", MinNewSecretRunes))
		return
	}
	s := c.sessionOrTell(chat)
	if s == nil {
		return
	}
	defer c.release(s)
	nb := []byte(secret)
	defer clear(nb)
	if subtle.ConstantTimeCompare(nb, s.secret()) == 1 {
		c.private(fmt.Sprintf("That is already %s's secret. Nothing was changed.", chat))
		return
	}
	// Watch deliveries to this session wait while the key changes (see
	// session.keyMu).
	s.keyMu.Lock()
	key, damaged, err := c.b.rekeyChat(c.ctx, s.key, nb)
	if err == nil {
		c.b.sessions.rekey(s, nb, key)
		c.guessed(chat)
	}
	s.keyMu.Unlock()
	if errors.Is(err, storage.ErrCorrupt) {
		c.outcome = OutcomeDamaged
		c.private(fmt.Sprintf("None of your stored messages of %s opens any more, so I changed nothing: the secret stays as it was. /clm history %s shows the damaged ones; delete them with /clm purge %s <number>, then change the secret.",
			chat, quoteName(chat), quoteName(chat)))
		return
	}
	if err != nil {
		c.failAndTell("changing the secret", err)
		return
	}
	lines := []string{
		fmt.Sprintf("🔑 %s has its new secret; your stored messages are re-sealed with it, and it stays unlocked.", chat),
		"Give the new secret to the chat's members out of band. Each of them unlocks " + chat + " with the old secret and runs /clm rekey " + quoteName(chat) + " <new secret> too. Pointers made with the old secret no longer open for you.",
	}
	if len(damaged) > 0 {
		lines = append(lines, fmt.Sprintf("⚠️ Not re-sealed, because damaged (they fail their integrity check): %s. They stay as they were, unreadable and still sealed with the old secret. /clm purge %s %d deletes one for good.",
			numbers(damaged), quoteName(chat), damaged[0]))
	}
	c.private(lines...)
}

// chatSummaryOrTell returns the member's chat named chat, or ok=false (and the
// member told) when there is none.
func (c *call) chatSummaryOrTell(chat string) (storage.ChatSummary, bool) {
	id, ok := c.memberIDOrTell()
	if !ok {
		return storage.ChatSummary{}, false
	}
	chats, err := c.b.store.ListChats(c.ctx, id)
	if err != nil {
		c.failAndTell("listing your chats", err)
		return storage.ChatSummary{}, false
	}
	for _, ch := range chats {
		if ch.Name == chat {
			return ch, true
		}
	}
	c.outcome = OutcomeNotFound
	c.private(fmt.Sprintf("You have no chat named %s. /clm chats lists yours.", chat))
	return storage.ChatSummary{}, false
}

// answeredNoSuchChatPrivately tells the member, and reports true, when
// they have no chat named chat (neither stored nor unlocked), listing the
// chats they have: "Nope is locked" would send them to unlock a chat that
// does not exist.
func (c *call) answeredNoSuchChatPrivately(chat string) bool {
	for _, n := range c.b.sessions.unlocked(c.mk) {
		if n == chat {
			return false
		}
	}
	id, ok := c.memberIDOrTell()
	if !ok {
		return true
	}
	chats, err := c.b.store.ListChats(c.ctx, id)
	if err != nil {
		c.failAndTell("listing your chats", err)
		return true
	}
	names := make([]string, 0, len(chats))
	for _, ch := range chats {
		if ch.Name == chat {
			return false
		}
		names = append(names, quoteName(ch.Name))
	}
	c.outcome = OutcomeNotFound
	have := "You have no chats yet."
	if len(names) > 0 {
		have = "Your chats: " + strings.Join(names, ", ") + "."
	}
	c.private(fmt.Sprintf("You have no chat named %s. %s", chat, have),
		"To make one: /clm new <chat>; to join one you were told about: /clm unlock <chat> <secret> (in a private chat with me).")
	return true
}

// confirmed reads the optional "confirm" after a chat name.
func confirmed(rest string) bool {
	return strings.EqualFold(strings.TrimSpace(rest), "confirm")
}

// askToConfirm runs the destructive command name (kind) on the chat named in
// args at once when the chat name is followed by "confirm"; otherwise it
// asks the member the question ask makes from the chat's counts: the
// member's "yes" within the confirmation window runs it, or a press of the
// Confirm button where the platform has one (see Confirmer).
func (c *call) askToConfirm(name string, kind pendingKind, args string, ask func(chat string, sum storage.ChatSummary) string) {
	chat, rest, ok := c.chatArgOrTell(name, args)
	if !ok {
		return
	}
	if confirmed(rest) {
		c.st.pend = nil
		c.doConfirmed(kind, chat)
		return
	}
	sum, ok := c.chatSummaryOrTell(chat)
	if !ok {
		return
	}
	c.setPending(&pending{kind: kind, chat: chat})
	yes := name + " " + quoteName(chat) + " confirm"
	c.confirmPrivately(ask(chat, sum), fmt.Sprintf("To go ahead within %s: /clm %s — or answer yes.", human(c.b.opts.ConfirmWindow), yes), yes, "cancel")
}

// doConfirmed runs a confirmed clear or forget of chat and returns the
// command's name.
func (c *call) doConfirmed(kind pendingKind, chat string) string {
	if kind == pendClear {
		c.doClear(chat)
		return "clear"
	}
	c.doForget(chat)
	return "forget"
}

func cmdClear(c *call, args string) {
	c.askToConfirm("clear", pendClear, args, func(chat string, sum storage.ChatSummary) string {
		return fmt.Sprintf("This deletes all %s of %s from your history for good (%d in the trash too). The chat stays.",
			plural(sum.Messages, "message", "messages"), chat, sum.Trashed)
	})
}

func (c *call) doClear(chat string) {
	s := c.sessionOrTell(chat)
	if s == nil {
		return
	}
	defer c.release(s)
	if err := c.b.store.ClearChat(c.ctx, s.key); err != nil {
		c.failAndTell("clearing the chat", err)
		return
	}
	c.private(fmt.Sprintf("🧹 Cleared %s: its messages and trash are deleted. The chat stays, still unlocked.", chat))
}

func cmdForget(c *call, args string) {
	c.askToConfirm("forget", pendForget, args, func(chat string, sum storage.ChatSummary) string {
		return fmt.Sprintf("This deletes your chat %s and its %s from my store for good (the other members keep theirs).",
			chat, plural(sum.Messages+sum.Trashed, "message", "messages"))
	})
}

func (c *call) doForget(chat string) {
	id, ok := c.memberIDOrTell()
	if !ok {
		return
	}
	c.b.sessions.remove(c.mk, chat)
	err := c.b.store.DeleteChat(c.ctx, id, chat)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		c.outcome = OutcomeNotFound
		c.private(fmt.Sprintf("You have no chat named %s. /clm chats lists yours.", chat))
	case err != nil:
		c.failAndTell("deleting the chat", err)
	default:
		delete(c.st.joined, chat)
		delete(c.st.guessed, chat)
		c.private(fmt.Sprintf("🗑 Forgot %s: the chat and its messages are deleted from my store, and its secret from my memory.", chat))
	}
}

func cmdName(c *call, args string) {
	nick := strings.TrimSpace(args)
	if _, ok := c.memberIDOrTell(); !ok {
		return
	}
	if nick == "" {
		c.private(fmt.Sprintf("You sign your messages as %s. Change it with /clm name <nickname>.", c.st.nick))
		return
	}
	if msg := checkName("nickname", nick, MaxNicknameRunes); msg != "" {
		c.outcome = OutcomeUsage
		c.private(msg + " Nothing was changed.")
		return
	}
	if err := c.b.store.SetNickname(c.ctx, c.st.id, nick); err != nil {
		if errors.Is(err, storage.ErrInvalid) {
			c.outcome = OutcomeUsage
			c.private("I can't use that nickname. Nothing was changed.")
			return
		}
		c.failAndTell("changing your nickname", err)
		return
	}
	c.st.nick = nick
	c.private(fmt.Sprintf("You sign new messages as %s now. Pointers you sent before keep the name they were made with.", nick))
}

func cmdProfile(c *call, args string) {
	master := strings.TrimSpace(args)
	lines, ok := c.chatLinesOrTell()
	if !ok {
		return
	}
	c.b.mu.Lock()
	watch := c.st.watch
	c.b.mu.Unlock()
	out := []string{"Nickname: " + c.st.nick}
	if len(lines) == 0 {
		out = append(out, "Chats: none yet")
	} else {
		out = append(out, "Chats:")
		for _, l := range lines {
			out = append(out, "  "+l)
		}
	}
	out = append(out, "Watch: "+onOff(watch))
	if master != "" {
		mb := []byte(master)
		out = append(out, "Public key (CLM 2.0.2, for the nickname "+c.st.nick+"): "+clm.PublicKey(c.st.nick, mb),
			"Your master phrase was used for this answer only and not stored.")
		clear(mb)
	}
	c.private(out...)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func cmdWatch(c *call, args string) {
	arg := strings.ToLower(strings.TrimSpace(args))
	c.b.mu.Lock()
	switch arg {
	case "on":
		c.st.watch = true
	case "off":
		c.st.watch = false
	}
	watch := c.st.watch
	c.b.mu.Unlock()
	switch arg {
	case "on":
		c.private("👀 Watch is on: when a pointer of one of your unlocked chats is posted in a channel where I've seen you, I open it and send it to you privately (and save it). /clm watch off stops it.")
	case "off":
		c.private("Watch is off: I open pointers for you only when you ask (/clm receive or the Receive button).")
	case "":
		c.private("Watch is " + onOff(watch) + ". /clm watch on|off changes it.")
	default:
		c.tellUsage("watch")
	}
}
