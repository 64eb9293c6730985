package telegram

import (
	"context"
	"encoding/json"
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
)

// longPoller is a tele.Poller that long-polls getUpdates with a backoff
// after failures and keeps Status up to date.
type longPoller struct {
	a      *Adapter
	lastID int
}

// Poll implements tele.Poller: it delivers updates to dest until stop is
// closed.
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

	failures := 0
	for ctx.Err() == nil {
		updates, err := p.fetch(b)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			ae := classify("getUpdates", err, p.a.red)
			p.a.setConnected(false, ae)
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
			lvl("telegram: getUpdates failed, retrying", "failures", failures, "retry_in", wait, "error", ae.Error())
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
			if u.ID > p.lastID {
				p.lastID = u.ID
			}
			select {
			case dest <- u:
			case <-ctx.Done():
				return
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
	return resp.Result, nil
}
