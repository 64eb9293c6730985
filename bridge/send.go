package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// DefaultMaxPointerChars is the pointer size used when an adapter sets no
// Capabilities.MaxPointerChars: the largest pointer storage keeps.
const DefaultMaxPointerChars = 64 << 10

// pointerLimit is the most characters a pointer may take here.
func pointerLimit(caps Capabilities) int {
	if caps.MaxPointerChars > 0 {
		return min(caps.MaxPointerChars, DefaultMaxPointerChars)
	}
	return DefaultMaxPointerChars
}

func cmdSend(c *call, args string) {
	split := false
	if first, rest, err := nextWord(args); err == nil && first == "--split" {
		split, args = true, rest
	}
	if c.req.Place.Kind == Public && !c.req.Confidential {
		// The text is already in the channel for everyone to read: making a
		// pointer of it would protect nothing.
		c.outcome = OutcomeRefused
		gone := "I asked to delete your message."
		if !c.deleteRequest() {
			gone = "Delete your message if you can."
		}
		c.private(fmt.Sprintf("I did not send that: /clm send typed in %s shows your text to everyone there. %s", placeName(c.req.Place), gone),
			"Send from a private chat with me instead (/clm send <chat> <message>): I give you the pointer, and you paste it here.")
		return
	}
	chat, text, ok := c.chatArgOrTell("send", args)
	if !ok {
		return
	}
	text = strings.TrimRightFunc(text, unicode.IsSpace)
	if text == "" {
		c.tellUsage("send")
		return
	}
	if !utf8.ValidString(text) {
		c.outcome = OutcomeUsage
		c.private("Your message is not valid text (UTF-8). Nothing was sent.")
		return
	}
	if _, ok := c.memberIDOrTell(); !ok {
		return
	}
	s := c.sessionOrTell(chat)
	if s == nil {
		return
	}
	defer c.release(s)
	nick := c.st.nick
	limit := pointerLimit(c.req.Caps)
	maxBytes := clm.MaxMessageBytes(limit, chat, nick, true)
	parts := []string{text}
	if len(text) > maxBytes {
		if maxBytes == 0 {
			c.outcome = OutcomeTooLong
			c.private(fmt.Sprintf("The chat name and your nickname are too long for a pointer here (%d characters per post). Use a shorter nickname (/clm name) or chat name.", limit))
			return
		}
		if !split {
			c.outcome = OutcomeTooLong
			c.private(fmt.Sprintf("Your message is too long for one pointer here: %d bytes, and at most %d fit in a pointer of %s signed %s (%d characters per post). Nothing was sent.", len(text), maxBytes, chat, nick, limit),
				"Shorten it, or send it in numbered parts: /clm send --split "+quoteName(chat)+" <message>")
			return
		}
		var err error
		if parts, err = splitMessage(text, maxBytes, MaxSplitParts); err != nil {
			c.outcome = OutcomeTooLong
			c.private(fmt.Sprintf("Your message is too long even in %d parts (at most %d bytes each here). Nothing was sent: shorten it.", MaxSplitParts, maxBytes))
			return
		}
	}
	pointers := make([]string, 0, len(parts))
	epoch := c.now().Unix()
	unsaved := 0
	for _, part := range parts {
		p, err := clm.NewPointer(s.secret(), clm.Message{Chat: chat, Username: nick, Text: part}, epoch)
		if err != nil {
			c.outcome = OutcomeUsage
			c.private("I can't make a pointer of that message. Nothing was sent.")
			return
		}
		ptr := p.String()
		if _, _, err := c.b.store.SaveMessage(c.ctx, s.key, storage.NewMessage{
			Direction: storage.Sent, Epoch: p.Epoch, Nonce: p.Nonce, Pointer: ptr, Authenticated: true,
			Username: nick, Text: part, Source: c.source(),
		}); err != nil {
			unsaved++
			c.b.log.LogAttrs(c.ctx, slog.LevelError, "saving a sent message failed", slog.String("error", err.Error()))
		}
		pointers = append(pointers, ptr)
	}
	note := ""
	if unsaved > 0 {
		note = " (I could not save it in your history; the pointer is fine.)"
	}
	if c.req.Place.Kind == Public {
		c.postPointers(chat, pointers, note)
		return
	}
	head := fmt.Sprintf("📤 Your pointer for %s: paste or forward it where the chat's members read.%s", chat, note)
	if len(pointers) > 1 {
		head = fmt.Sprintf("📤 Your message for %s is in %d numbered parts: paste or forward each pointer, in order.%s", chat, len(pointers), note)
	}
	c.private(head)
	for _, ptr := range pointers {
		c.private(ptr)
	}
}

// postPointers posts pointers made from confidential input in a public
// place (a Discord modal), each with a Receive button, and tells the member
// privately what was posted. A pointer the platform did not take is given
// to the member privately to paste by hand (it is public data), and the
// member is never told it was posted.
func (c *call) postPointers(chat string, pointers []string, note string) {
	var unposted []int // indexes into pointers
	reason := ""
	for k, ptr := range pointers {
		p, _ := clm.ParsePointer(ptr)
		ref := c.b.refs.put([]clm.Pointer{p}, c.source(), c.place(), c.mk)
		err := c.req.Reply.Public(c.ctx, PublicPost{Text: ptr, ReceiveRef: ref})
		if err == nil {
			c.shareButton(p, ref)
			continue
		}
		c.noteErr("public post", err)
		unposted = append(unposted, k)
		if pe := (*PostError)(nil); reason == "" && errors.As(err, &pe) && pe.Reason != "" {
			reason = pe.Reason
		}
		c.b.log.LogAttrs(c.ctx, slog.LevelWarn, "posting a pointer failed; the member has it to paste",
			slog.String("platform", c.req.Member.Platform), slog.String("error", err.Error()))
	}
	where := placeName(c.req.Place)
	if len(unposted) == 0 {
		c.private(fmt.Sprintf("📤 Posted %s of %s in %s.%s", plural(len(pointers), "pointer", "pointers"), chat, where, note))
		return
	}
	c.outcome = OutcomeError
	if reason == "" {
		reason = "the platform did not take the post"
	}
	var head string
	switch {
	case len(pointers) == 1:
		head = fmt.Sprintf("⚠️ I could not post your pointer for %s in %s: %s.%s Nobody else saw it, so paste it there yourself:",
			chat, where, reason, note)
	case len(unposted) == len(pointers):
		head = fmt.Sprintf("⚠️ I could not post your %d pointers for %s in %s: %s.%s Nobody else saw them, so paste them there yourself, in order:",
			len(pointers), chat, where, reason, note)
	default:
		parts := make([]string, len(unposted))
		for i, k := range unposted {
			parts[i] = itoa(k + 1)
		}
		part, it, its := "part", "it", "its place"
		if len(unposted) > 1 {
			part, it, its = "parts", "them", "their places"
		}
		head = fmt.Sprintf("📤 Posted %d of %d pointers of %s in %s, but I could not post %d of them (%s %s): %s.%s Nobody else saw %s, so paste %s there yourself, in %s in the order:",
			len(pointers)-len(unposted), len(pointers), chat, where, len(unposted), part, strings.Join(parts, ", "), reason, note, it, it, its)
	}
	c.private(head)
	for _, k := range unposted {
		c.private(pointers[k])
	}
}

// placeName names the request's place for the member.
func placeName(p Place) string {
	if p.Name != "" {
		return p.Name
	}
	if p.Kind == Private {
		return "our private chat"
	}
	return "this channel"
}

// errTooManyParts is returned by splitMessage when the text needs more
// than the allowed number of parts.
var errTooManyParts = errors.New("bridge: message needs too many parts")

// splitMessage cuts text into at most maxParts parts labelled "[i/n] " of
// at most maxBytes bytes each, label included. It cuts at white space when
// one is near the end of a part, else at a character boundary; the parts
// joined without their labels give back text exactly.
func splitMessage(text string, maxBytes, maxParts int) ([]string, error) {
	for digits := 1; digits <= len(itoa(maxParts)); digits++ {
		labelLen := len("[/] ") + 2*digits
		room := maxBytes - labelLen
		if room < 4 {
			return nil, errTooManyParts
		}
		chunks := cutChunks(text, room)
		if len(chunks) > maxParts {
			return nil, errTooManyParts
		}
		if len(itoa(len(chunks))) > digits {
			continue // the labels grew: cut again with room for them
		}
		parts := make([]string, len(chunks))
		for i, ch := range chunks {
			parts[i] = fmt.Sprintf("[%d/%d] %s", i+1, len(chunks), ch)
		}
		return parts, nil
	}
	return nil, errTooManyParts
}

// cutChunks cuts text into chunks of at most room bytes.
func cutChunks(text string, room int) []string {
	var out []string
	for len(text) > room {
		cut := room
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		// Prefer to cut after white space in the last quarter of the chunk.
		if ws := strings.LastIndexFunc(text[:cut], unicode.IsSpace); ws >= cut*3/4 {
			_, n := utf8.DecodeRuneInString(text[ws:])
			cut = ws + n
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return append(out, text)
}

// MakePointer makes a tagged pointer from the member's unlocked chat and
// nickname, of at most maxChars characters (0: DefaultMaxPointerChars),
// without posting or saving it (Telegram inline mode: an offer the member
// may never send; see RecordSent). The error text is fit to show the member.
func (b *Bridge) MakePointer(ctx context.Context, m Member, chat, text string, maxChars int) (string, error) {
	if !b.enter() {
		return "", ErrClosed
	}
	defer b.inflight.Done()
	mk := keyOf(m)
	if ok, wait, _ := b.offers.allow(mk, b.opts.Now()); !ok {
		return "", &PointerError{Kind: PointerRateLimited, Chat: chat, Wait: wait}
	}
	if msg := checkName("chat name", chat, MaxChatNameRunes); msg != "" {
		return "", &PointerError{Kind: PointerBadChatName, Chat: chat, reason: msg}
	}
	if text == "" || !utf8.ValidString(text) {
		return "", &PointerError{Kind: PointerInvalidText, Chat: chat}
	}
	st := b.acquire(m)
	defer b.releaseState(st)
	if _, err := b.memberID(ctx, st); err != nil {
		b.log.LogAttrs(ctx, slog.LevelError, "loading member failed", slog.String("error", err.Error()))
		return "", &PointerError{Kind: PointerFailed, Chat: chat}
	}
	s, err := b.sessions.use(mk, chat)
	if err != nil {
		return "", &PointerError{Kind: PointerNotUnlocked, Chat: chat}
	}
	defer b.sessions.release(s)
	limit := pointerLimit(Capabilities{MaxPointerChars: maxChars})
	maxBytes := clm.MaxMessageBytes(limit, chat, st.nick, true)
	if maxBytes == 0 {
		return "", &PointerError{Kind: PointerNoRoom, Chat: chat, Limit: limit}
	}
	if len(text) > maxBytes {
		return "", &PointerError{Kind: PointerTooLong, Chat: chat, Max: maxBytes, Limit: limit}
	}
	p, err := clm.NewPointer(s.secret(), clm.Message{Chat: chat, Username: st.nick, Text: text}, b.opts.Now().Unix())
	if err != nil {
		return "", &PointerError{Kind: PointerInvalidText, Chat: chat}
	}
	return p.String(), nil
}

// Errors of RecordSent, for the adapter's log.
var (
	errNotAPointer = errors.New("bridge: not a tagged CLM pointer")
	errNotOpened   = errors.New("bridge: none of the member's unlocked chats opens the pointer as the chat named inside it (locked since, or not the member's)")
	errNotTheirs   = errors.New("bridge: the pointer is not signed with the member's nickname")
)

// RecordSent saves pointer in the member's history as sent, if the member
// made it: it must open, authenticated, with the member's own unlocked
// session of the chat named inside it, and be signed with the member's
// nickname. Saving it again changes nothing.
func (b *Bridge) RecordSent(ctx context.Context, m Member, pointer string) error {
	if m.Platform == "" || m.ID == "" {
		return errors.New("bridge: RecordSent without a member platform and id")
	}
	if !b.enter() {
		return ErrClosed
	}
	defer b.inflight.Done()
	p, err := clm.ParsePointer(strings.TrimSpace(pointer))
	if err != nil || p.Tag == "" {
		return errNotAPointer
	}
	st := b.acquire(m)
	defer b.releaseState(st)
	if _, err := b.memberID(ctx, st); err != nil {
		return err
	}
	hits := b.sessions.trialOpenMember(keyOf(m), p)
	defer func() {
		for _, h := range hits {
			b.sessions.release(h.s)
		}
	}()
	var found *hit
	for k, h := range hits {
		// The chat named inside must be this session's chat: a chat that
		// shares another's secret does not get that chat's pointers.
		if h.err == nil && h.opened.Authenticated && h.opened.Chat == h.s.chat {
			found = &hits[k]
			break
		}
	}
	if found == nil {
		return errNotOpened
	}
	if found.opened.Username != st.nick {
		return errNotTheirs
	}
	o := found.opened
	if _, _, err := b.store.SaveMessage(ctx, found.key, storage.NewMessage{
		Direction: storage.Sent, Epoch: p.Epoch, Nonce: p.Nonce, Pointer: p.String(), Authenticated: true,
		Username: o.Username, Text: o.Text, Source: storage.Source{Platform: m.Platform},
	}); err != nil {
		return fmt.Errorf("bridge: saving a sent message: %w", err)
	}
	return nil
}
