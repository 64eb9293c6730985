package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	tele "gopkg.in/telebot.v3"
)

// Poll backoff: telebot's LongPoller retries a failed getUpdates at once,
// thousands of times a second; this one waits, doubling from pollBackoffBase
// up to pollBackoffMax.
const (
	pollBackoffBase = time.Second
	pollBackoffMax  = time.Minute
	// confirmTimeout bounds the getUpdates that confirms, at shutdown, the
	// updates taken.
	confirmTimeout = 5 * time.Second
)

// longPoller is a tele.Poller that long-polls getUpdates with a backoff
// after failures and keeps Status up to date.
type longPoller struct {
	a      *Adapter
	lastID int // the last update handed to the bot
	// confirmed is the offset of the last getUpdates that worked: Telegram
	// forgot every update below it.
	confirmed int
}

// Poll implements tele.Poller: it delivers updates to dest until stop is
// closed. With a poll gate it polls only while it holds the gate.
func (p *longPoller) Poll(b *tele.Bot, dest chan tele.Update, stop chan struct{}) {
	ctx, cancel := context.WithCancel(p.a.polling)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if p.a.opts.gate == nil {
		defer p.confirm()
		p.poll(ctx, b, dest, nil)
		return
	}
	for attempt := 1; ctx.Err() == nil; {
		lost, release, err := p.a.opts.gate.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := backoff(attempt, pollBackoffBase, pollBackoffMax)
			attempt++
			p.a.log.Warn("telegram: cannot take the turn to poll, retrying", "retry_in", wait, "error", err)
			if p.a.opts.clock.Sleep(ctx, wait) != nil {
				return
			}
			continue
		}
		attempt = 1
		p.turn(ctx, b, dest, lost)
		release()
	}
}

// turn polls while this instance holds the poll gate: until ctx ends or
// lost closes. When it stops (ctx ended) it confirms the updates it took
// before it returns, so the next instance to poll does not get them again;
// its caller releases the gate only then, so that confirming call cannot
// overlap another instance's long poll (Telegram would end that one with
// 409). When the gate was lost it calls getUpdates no more: another
// instance may poll already. Its last long poll, sent right after the
// last batch, most likely confirmed that batch; an update it did not may
// reach the next instance again.
func (p *longPoller) turn(ctx context.Context, b *tele.Bot, dest chan tele.Update, lost <-chan struct{}) {
	turn, end := context.WithCancel(ctx)
	defer end()
	go func() {
		select {
		case <-lost:
			end()
		case <-turn.Done():
		}
	}()
	p.a.turn.set(turn)
	defer p.a.turn.end()
	p.a.setStandby(false)
	p.a.log.Info("telegram: this instance now takes the bot's updates (long polling)")
	p.poll(turn, b, dest, lost)
	select {
	case <-lost:
	default:
		p.confirm()
	}
	if ctx.Err() == nil {
		p.a.setStandby(true)
		p.a.log.Warn("telegram: lost the turn to poll (its database connection broke?); another instance takes the updates, waiting for the turn again")
	}
}

// poll delivers updates to dest until ctx ends or lost closes (nil: never).
// It checks lost itself before each getUpdates, not only through ctx, so
// that no getUpdates starts once the gate is known lost.
func (p *longPoller) poll(ctx context.Context, b *tele.Bot, dest chan tele.Update, lost <-chan struct{}) {
	failures := 0
	for ctx.Err() == nil && !isClosed(lost) {
		updates, err := p.fetch(b)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			ae := classify("getUpdates", err, p.a.red)
			p.a.setConnected(false, ae)
			if refused := refusedError(ae); refused != nil {
				p.a.log.Error("telegram: Telegram refused the bot token; stopping", "error", ae.Error(), "hint", hintFor(ae))
				p.a.refuse(refused)
				return
			}
			wait := backoff(failures, pollBackoffBase, pollBackoffMax)
			if ae.Kind == kindFlood && ae.RetryAfter > 0 {
				wait = ae.RetryAfter
			}
			// Log the first failure and then ever more rarely, so an
			// outage does not flood the log.
			lvl := p.a.log.Debug
			if failures&(failures-1) == 0 {
				lvl = p.a.log.Warn
			}
			args := []any{"failures", failures, "retry_in", wait, "error", ae.Error()}
			if ae.Code == http.StatusConflict {
				args = append(args, "hint", "another process polls this bot (or a webhook is set): run one bridge per bot, or let several instances share PostgreSQL so that one polls, or use a webhook")
			}
			lvl("telegram: getUpdates failed, retrying", args...)
			if p.a.opts.clock.Sleep(ctx, wait) != nil {
				return
			}
			continue
		}
		if failures > 0 {
			p.a.log.Info("telegram: getUpdates works again", "after_failures", failures)
			failures = 0
		}
		p.a.setConnected(true, nil)
		for _, u := range updates {
			select {
			case dest <- u:
			case <-ctx.Done():
				return // the rest were not taken: Telegram sends them again
			}
			if u.ID > p.lastID {
				p.lastID = u.ID
			}
		}
	}
}

// fetch makes one getUpdates call.
func (p *longPoller) fetch(b *tele.Bot) ([]tele.Update, error) {
	allowed, _ := json.Marshal(allowedUpdates())
	params := map[string]string{
		"offset":          strconv.Itoa(p.lastID + 1),
		"timeout":         strconv.Itoa(int(p.a.cfg.PollTimeout / time.Second)),
		"allowed_updates": string(allowed),
	}
	data, err := b.Raw("getUpdates", params)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Result []tele.Update `json:"result"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, &apiError{Method: "getUpdates", Kind: kindTransient, msg: "unexpected answer"}
	}
	p.confirmed = p.lastID + 1
	return resp.Result, nil
}

// confirm tells Telegram, when polling stops, that the updates handed to
// the bot since the last getUpdates were taken (the adapter handles them
// before it stops), so they are not sent again at the next start. It is a
// getUpdates that waits for nothing; the next start's first getUpdates
// would confirm them too, after handling them a second time. It goes around
// telebot (whose calls to getUpdates end with polling) and is bounded by
// confirmTimeout and the adapter's life.
func (p *longPoller) confirm() {
	if p.lastID+1 <= p.confirmed {
		return
	}
	body, _ := json.Marshal(map[string]any{"offset": p.lastID + 1, "timeout": 0, "limit": 1, "allowed_updates": allowedUpdates()})
	ctx, cancel := context.WithTimeout(p.a.life, confirmTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.a.cfg.APIURL+"/bot"+p.a.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.a.plainHTTP.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = &apiError{Method: "getUpdates", Code: resp.StatusCode, Kind: kindOfCode(resp.StatusCode), msg: "HTTP " + strconv.Itoa(resp.StatusCode)}
		}
	}
	if err != nil {
		p.a.log.Warn("telegram: cannot confirm the updates taken; Telegram may send them again at the next start",
			"error", p.a.red.err(err))
		return
	}
	p.confirmed = p.lastID + 1
}

// isClosed reports whether ch is closed (false for nil).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
