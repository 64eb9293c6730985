package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/bridge"
)

// inlineDebounce is how long the adapter waits after an inline query for
// a newer one from the same member. Telegram sends a query as the member
// types; answering only the query the member paused on saves making a
// pointer and an answerInlineQuery call per keystroke. (History is kept
// clean by other means: an offered pointer is recorded as sent only when
// the member chooses it; see onChosen.)
const inlineDebounce = 400 * time.Millisecond

// inlineLatest remembers each member's newest inline query.
type inlineLatest struct {
	mu sync.Mutex
	m  map[int64]string // member's user id → newest query id
}

func (l *inlineLatest) set(user int64, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[user] = id
}

// current reports whether id is still user's newest query.
func (l *inlineLatest) current(user int64, id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[user] == id
}

// done forgets user's query id once it is handled (if it is the newest).
func (l *inlineLatest) done(user int64, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m[user] == id {
		delete(l.m, user)
	}
}

// inlineArticle is an InlineQueryResultArticle. telebot's QueryResponse
// drops cache_time 0 (omitempty), and Telegram then caches results for
// 300 s, so the answer is built here.
type inlineArticle struct {
	Type        string     `json:"type"`
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	Content     inlineText `json:"input_message_content"`
}

type inlineText struct {
	Text string `json:"message_text"`
}

type inlineButton struct {
	Text  string `json:"text"`
	Start string `json:"start_parameter"`
}

type inlineAnswer struct {
	QueryID    string          `json:"inline_query_id"`
	Results    []inlineArticle `json:"results"`
	CacheTime  int             `json:"cache_time"` // always sent: 0
	IsPersonal bool            `json:"is_personal"`
	Button     *inlineButton   `json:"button,omitempty"`
}

// onQuery handles an inline query ("@bot Work: hello"). Queries a member
// typed over are dropped unanswered (Telegram's client ignores stale
// answers anyway).
func (a *Adapter) onQuery(c tele.Context) error {
	q := c.Query()
	if q == nil || q.Sender == nil {
		return nil
	}
	qc := *q
	user := q.Sender.ID
	due := a.opts.clock.Now().Add(a.opts.debounce)
	a.inline.set(user, q.ID)
	a.disp.submit("iq:"+strconv.FormatInt(user, 10), func(ctx context.Context) {
		defer a.inline.done(user, qc.ID)
		if !a.inline.current(user, qc.ID) {
			return
		}
		if a.opts.clock.Sleep(ctx, due.Sub(a.opts.clock.Now())) != nil || !a.inline.current(user, qc.ID) {
			return
		}
		a.answerInline(ctx, &qc)
	})
	return nil
}

// answerInline offers "Send as CLM pointer to <chat>" for the member's
// unlocked chats only. The results are personal and never cached, so no
// one else is ever offered this member's pointer; the result's message is
// the pointer alone. Each offer is remembered under a fresh result id, so
// that the one the member sends can be recorded in their history.
func (a *Adapter) answerInline(ctx context.Context, q *tele.Query) {
	m := memberOf(q.Sender)
	unlocked := a.core.UnlockedChats(m)
	ans := inlineAnswer{QueryID: q.ID, Results: []inlineArticle{}, IsPersonal: true}
	chat, text, named := parseInlineQuery(q.Text)

	var targets []string
	switch {
	case len(unlocked) == 0:
		ans.Button = &inlineButton{Text: "Unlock a chat with the bot first", Start: "clm"}
	case named:
		if canon := findChat(unlocked, chat); canon != "" {
			targets = []string{canon}
		} else {
			ans.Button = &inlineButton{Text: truncateUnits("Unlock "+chat+" with the bot first", maxResultTitle), Start: "clm"}
		}
	case len(unlocked) == 1:
		targets = unlocked
	default:
		// A result per chat would make posting to the wrong chat a slip of
		// the finger: ask which chat instead.
		ans.Button = &inlineButton{Text: truncateUnits("Start with the chat: "+strings.Join(unlocked, ": …, ")+": …", maxResultTitle), Start: "clm"}
	}
	if text == "" || units(text) > maxInlineQuery {
		targets = nil
	}
	for _, name := range targets {
		ptr, err := a.core.MakePointer(ctx, m, name, text, maxMessageUnits)
		if err != nil {
			// The core's reason (locked, too long…) is for the member; any
			// other error (the bridge is closing) is only logged.
			var pe *bridge.PointerError
			switch {
			case !errors.As(err, &pe):
				a.log.Debug("telegram: no pointer offered", "error", a.red.err(err))
			case ans.Button == nil:
				ans.Button = &inlineButton{Text: truncateUnits(pe.Error(), maxResultTitle), Start: "clm"}
			}
			continue
		}
		id := newOfferID()
		a.offers.put(q.Sender.ID, id, ptr, a.opts.clock.Now())
		ans.Results = append(ans.Results, inlineArticle{
			Type:        "article",
			ID:          id,
			Title:       truncateUnits("Send as CLM pointer to "+name, maxResultTitle),
			Description: "Only the pointer is posted; members who have " + name + " unlocked can open it.",
			Content:     inlineText{Text: ptr},
		})
	}
	err := a.out.do(ctx, delivery{lane: "iq:" + q.ID, method: "answerInlineQuery",
		call: func() error {
			_, err := a.bot.Raw("answerInlineQuery", ans)
			return err
		}})
	if err != nil {
		a.log.Warn("telegram: cannot answer an inline query", "error", a.red.err(err))
	}
}

// onChosen handles a chosen_inline_result: the member sent one of the
// pointers offered to them, which the core now records as sent. Telegram
// sends these only when inline feedback is on (@BotFather, /setinlinefeedback).
// A result id not offered to this member (or forgotten) records nothing.
func (a *Adapter) onChosen(c tele.Context) error {
	r := c.InlineResult()
	if r == nil || r.Sender == nil {
		return nil
	}
	ptr, ok := a.offers.take(r.Sender.ID, r.ResultID, a.opts.clock.Now())
	if !ok {
		a.log.Debug("telegram: a chosen inline result that was not offered (or was forgotten); not recorded")
		return nil
	}
	m := memberOf(r.Sender)
	// The member's private chat has the member's id: in its lane, the
	// record is made before the member's next private command runs.
	a.disp.submit(chatLane(r.Sender.ID), func(ctx context.Context) {
		if err := a.core.RecordSent(ctx, m, ptr); err != nil && ctx.Err() == nil {
			a.log.Warn("telegram: cannot record an inline pointer as sent", "error", a.red.err(err))
		}
	})
	return nil
}

// findChat returns the name in names that matches name (ignoring case), or
// "".
func findChat(names []string, name string) string {
	for _, n := range names {
		if n == name {
			return n
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}
