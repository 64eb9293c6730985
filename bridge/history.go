package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/clmbridge/clmbridge/storage"
)

// formatStored is one stored message of chat in a listing. A damaged one
// says so, and how to remove it, in its place.
func formatStored(chat string, m storage.Message) string {
	if m.Damaged {
		return fmt.Sprintf("#%d ⚠️ damaged: it fails its integrity check, so I can't show or search it. /clm purge %s %d deletes it for good.",
			m.ID, quoteName(chat), m.ID)
	}
	arrow := "↓"
	if m.Direction == storage.Sent {
		arrow = "↑"
	}
	when := time.Unix(m.Epoch, 0).UTC().Format("2006-01-02 15:04")
	mark := ""
	if !m.Authenticated {
		mark = " ⚠️unauthenticated"
	}
	return fmt.Sprintf("#%d %s %s %s: %s%s", m.ID, when, arrow, m.Username, m.Text, mark)
}

func cmdHistory(c *call, args string) {
	chat, rest, ok := c.chatArgOrTell("history", args)
	if !ok {
		return
	}
	page := 1
	if r := strings.TrimSpace(rest); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > 1_000_000 {
			c.outcome = OutcomeUsage
			c.private("The page is a number from 1: /clm history " + quoteName(chat) + " 2")
			return
		}
		page = n
	}
	s := c.sessionOrTell(chat)
	if s == nil {
		return
	}
	defer c.release(s)
	size := c.b.opts.HistoryPageSize
	msgs, err := c.b.store.History(c.ctx, s.key, storage.Page{Size: size, Page: page - 1})
	if err != nil {
		c.failAndTell("reading the history", err)
		return
	}
	if len(msgs) == 0 {
		if page == 1 {
			c.private(fmt.Sprintf("%s has no messages yet. /clm send %s <message> makes one.", chat, quoteName(chat)))
		} else {
			c.private(fmt.Sprintf("%s has no page %d.", chat, page))
		}
		return
	}
	lines := []string{fmt.Sprintf("%s, page %d (newest first; ↑ sent, ↓ received):", chat, page)}
	for _, m := range msgs {
		lines = append(lines, formatStored(chat, m))
	}
	if len(msgs) == size {
		lines = append(lines, fmt.Sprintf("More: /clm history %s %d", quoteName(chat), page+1))
	}
	c.private(lines...)
}

func cmdSearch(c *call, args string) {
	chat, rest, ok := c.chatArgOrTell("search", args)
	if !ok {
		return
	}
	query := strings.TrimSpace(rest)
	if query == "" {
		c.tellUsage("search")
		return
	}
	s := c.sessionOrTell(chat)
	if s == nil {
		return
	}
	defer c.release(s)
	msgs, err := c.b.store.Search(c.ctx, s.key, query, searchLimit)
	if err != nil {
		c.failAndTell("searching", err)
		return
	}
	var found, damaged []string
	for _, m := range msgs {
		if m.Damaged {
			damaged = append(damaged, formatStored(chat, m))
		} else {
			found = append(found, formatStored(chat, m))
		}
	}
	lines := []string{fmt.Sprintf("No message of %s holds %q.", chat, query)}
	if len(found) > 0 {
		lines = append([]string{fmt.Sprintf("Messages of %s holding %q (newest first, at most %d):", chat, query, searchLimit)}, found...)
	}
	if len(damaged) > 0 {
		lines = append(lines, "I could not search these:")
		lines = append(lines, damaged...)
	}
	c.private(lines...)
}

func cmdTrash(c *call, args string) {
	chat, ok := c.soleChatArgOrTell("trash", args)
	if !ok {
		return
	}
	s := c.sessionOrTell(chat)
	if s == nil {
		return
	}
	defer c.release(s)
	msgs, err := c.b.store.ListTrash(c.ctx, s.key)
	if err != nil {
		c.failAndTell("reading the trash", err)
		return
	}
	if len(msgs) == 0 {
		c.private(fmt.Sprintf("The trash of %s is empty.", chat))
		return
	}
	lines := []string{fmt.Sprintf("Trash of %s (/clm restore %s <number> brings one back, /clm purge %s <number> deletes it for good):", chat, quoteName(chat), quoteName(chat))}
	for _, m := range msgs {
		lines = append(lines, formatStored(chat, m))
	}
	c.private(lines...)
}

// idArgsOrTell reads "<chat> <number>" (the number may be written #12): the
// message's number in the member's own chat, as history shows it.
func (c *call) idArgsOrTell(name, args string) (chat string, id int64, ok bool) {
	chat, rest, ok := c.chatArgOrTell(name, args)
	if !ok {
		return "", 0, false
	}
	word := strings.TrimPrefix(strings.TrimSpace(rest), "#")
	id, err := strconv.ParseInt(word, 10, 64)
	if err != nil || id < 1 || strings.IndexFunc(word, unicode.IsSpace) >= 0 {
		c.outcome = OutcomeUsage
		c.private(fmt.Sprintf("Which message? Give its number from /clm history %s: /clm %s %s 12", quoteName(chat), name, quoteName(chat)))
		return "", 0, false
	}
	return chat, id, true
}

// messageOp runs one of delete, restore and purge.
func (c *call) messageOp(name string, args string, op func(*storage.ChatKey, int64) error, done string) {
	chat, id, ok := c.idArgsOrTell(name, args)
	if !ok {
		return
	}
	s := c.sessionOrTell(chat)
	if s == nil {
		return
	}
	defer c.release(s)
	err := op(s.key, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		c.outcome = OutcomeNotFound
		c.private(fmt.Sprintf("%s has no message #%d for that (see /clm history %s and /clm trash %s).", chat, id, quoteName(chat), quoteName(chat)))
	case err != nil:
		c.failAndTell("changing the message", err)
	default:
		c.private(fmt.Sprintf(done, id, chat))
	}
}

func cmdDelete(c *call, args string) {
	c.messageOp("delete", args, func(k *storage.ChatKey, id int64) error { return c.b.store.Trash(c.ctx, k, id) },
		"🗑 Moved #%d of %s to the trash. /clm restore brings it back.")
}

func cmdRestore(c *call, args string) {
	c.messageOp("restore", args, func(k *storage.ChatKey, id int64) error { return c.b.store.Restore(c.ctx, k, id) },
		"♻️ Restored #%d of %s from the trash.")
}

func cmdPurge(c *call, args string) {
	c.messageOp("purge", args, func(k *storage.ChatKey, id int64) error { return c.b.store.Purge(c.ctx, k, id) },
		"Deleted #%d of %s for good.")
}

func cmdExport(c *call, args string) {
	chat, ok := c.soleChatArgOrTell("export", args)
	if !ok {
		return
	}
	s := c.sessionOrTell(chat)
	if s == nil {
		return
	}
	defer c.release(s)
	var buf bytes.Buffer
	defer func() { clear(buf.Bytes()[:buf.Cap()]) }()
	damaged, err := c.b.store.Export(c.ctx, s.key, &buf)
	if err != nil {
		c.failAndTell("exporting the chat", err)
		return
	}
	name := fmt.Sprintf("clm-%s-%s.json", fileSafe(chat), c.now().UTC().Format("20060102-150405"))
	if err := c.req.Reply.PrivateFile(c.ctx, File{Name: name, Content: bytes.Clone(buf.Bytes())}); err != nil {
		c.noteErr("private file", err)
		return
	}
	lines := []string{fmt.Sprintf("📎 That is your history of %s as JSON (%d bytes). It holds the messages in clear: keep it somewhere safe.", chat, buf.Len())}
	if len(damaged) > 0 {
		lines = append(lines, fmt.Sprintf("⚠️ Left out, because damaged (they fail their integrity check; the file lists them under \"damaged\"): %s. /clm purge %s %d deletes one for good.",
			numbers(damaged), quoteName(chat), damaged[0]))
	}
	c.private(lines...)
}

// numbers writes message numbers as "#3, #7", at most ten and how many
// more.
func numbers(nums []int64) string {
	const most = 10
	var b strings.Builder
	for i, n := range nums {
		if i == most {
			b.WriteString(" and " + itoa(len(nums)-most) + " more")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("#" + strconv.FormatInt(n, 10))
	}
	return b.String()
}

// fileSafe makes a chat name usable in a file name.
func fileSafe(name string) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, name)
	if s == "" {
		s = "chat"
	}
	return s
}
