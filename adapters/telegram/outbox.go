package telegram

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Limits of the outbox, so a burst cannot grow memory without bound.
const (
	maxLaneBacklog  = 256  // calls waiting in one lane
	maxTotalBacklog = 4096 // calls waiting in all lanes
)

// errOutboxFull is returned when too many calls are already waiting.
var errOutboxFull = errors.New("telegram: too many messages are waiting to be sent; try again in a minute")

// errOutboxClosed is returned for calls made while the adapter stops.
var errOutboxClosed = errors.New("telegram: the adapter is stopping")

// pacing says how fast the outbox may send.
type pacing struct {
	perChat        time.Duration // minimum gap between two messages to one chat
	groupPerMinute int           // messages a minute to one group
	globalPerSec   int           // messages a second in all
}

// retrying says how the outbox retries a failed call.
type retrying struct {
	maxAttempts int
	base, max   time.Duration
}

// delivery is one Bot API call the outbox makes.
type delivery struct {
	// lane orders calls: calls in one lane are made one at a time, in the
	// order they were queued (one lane per chat).
	lane string
	// paced calls send a message and count against the chat's, the
	// group's (when group is true) and the global rate.
	paced bool
	group bool
	// method names the call in logs and errors.
	method string
	// call makes the call; it is called again for every retry.
	call func() error
}

type job struct {
	delivery
	ctx   context.Context
	done  chan error // buffered: the worker never blocks on a caller that left
	batch *batch     // the calls posted with this one (nil for do)
	added time.Time  // when it was queued, for the delivery latency
}

// batch is calls posted together (the parts of one message): they are
// made in order, a call is skipped once one before it failed, and then
// learns the outcome after the last. Only the worker of their lane
// touches it.
type batch struct {
	left int
	err  error
	then func(error)
}

type lane struct {
	jobs []*job
}

// outbox sits in front of telebot, which has no retry and no rate limiter:
// it paces messages per chat, per group and globally, retries 429s after
// Telegram's retry_after and 5xx or network errors with a backoff, keeps
// the order of the calls of each chat, and gives up (logged) after a bounded
// number of attempts.
type outbox struct {
	clock clock
	log   *slog.Logger
	red   *redactor
	pace  pacing
	retry retrying
	life  context.Context // done when the adapter stops

	mu      sync.Mutex
	lanes   map[string]*lane
	chats   map[string]*window // per-chat pacers, kept while they matter
	groups  map[string]*window
	global  *window
	backlog int
	idlers  []chan struct{} // closed when backlog is next 0
	wg      sync.WaitGroup
	// sent, if set, learns how long each message took from being queued
	// to being accepted by Telegram (pacing and retries included).
	sent func(took time.Duration)
}

func newOutbox(life context.Context, c clock, log *slog.Logger, red *redactor, p pacing, r retrying) *outbox {
	o := &outbox{
		clock: c, log: log, red: red, pace: p, retry: r, life: life,
		lanes:  map[string]*lane{},
		chats:  map[string]*window{},
		groups: map[string]*window{},
	}
	if p.globalPerSec > 0 {
		o.global = newWindow(p.globalPerSec, time.Second)
	}
	return o
}

// Backlog returns how many calls are waiting (for the outbox-depth gauge).
func (o *outbox) Backlog() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.backlog
}

// do queues d and waits for its outcome: nil once Telegram accepted the
// call, else the last error (an *apiError, redacted). When ctx ends first,
// do returns ctx.Err() and the call is dropped unless already in flight.
func (o *outbox) do(ctx context.Context, d delivery) error {
	done, err := o.enqueue(ctx, d)
	if err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enqueue queues d behind the calls already in its lane and returns the
// channel its outcome will be sent on.
func (o *outbox) enqueue(ctx context.Context, d delivery) (<-chan error, error) {
	j := &job{delivery: d, ctx: ctx, done: make(chan error, 1)}
	if err := o.add(d.lane, []*job{j}); err != nil {
		return nil, err
	}
	return j.done, nil
}

// post queues ds, calls of one lane, behind the calls already there and
// returns at once: for callers that do not need the outcome (a reply in a
// group, which pacing may hold for minutes). The calls are made in order,
// one is skipped once one before it failed, and then (if not nil) is
// called from the lane's worker with the first error, or nil, after the
// last. The calls do not end with ctx, only when the outbox stops.
func (o *outbox) post(ctx context.Context, ds []delivery, then func(error)) error {
	if len(ds) == 0 {
		return nil
	}
	b := &batch{left: len(ds), then: then}
	jobs := make([]*job, len(ds))
	for i, d := range ds {
		jobs[i] = &job{delivery: d, ctx: context.WithoutCancel(ctx), done: make(chan error, 1), batch: b}
	}
	return o.add(ds[0].lane, jobs)
}

// add queues jobs (of lane key) all or none, and starts the lane's worker
// if it is idle.
func (o *outbox) add(key string, jobs []*job) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.life.Err() != nil {
		return errOutboxClosed
	}
	l := o.lanes[key]
	if (l != nil && len(l.jobs)+len(jobs) > maxLaneBacklog) || o.backlog+len(jobs) > maxTotalBacklog {
		o.log.Warn("telegram: outbox full, dropping a call", "method", jobs[0].method, "backlog", o.backlog)
		return errOutboxFull
	}
	o.backlog += len(jobs)
	now := o.clock.Now()
	for _, j := range jobs {
		j.added = now
	}
	if l == nil {
		l = &lane{}
		o.lanes[key] = l
		o.wg.Add(1)
		go o.work(key, l)
	}
	l.jobs = append(l.jobs, jobs...)
	return nil
}

// work runs the calls of one lane in order, and ends when the lane is empty.
func (o *outbox) work(key string, l *lane) {
	defer o.wg.Done()
	for {
		o.mu.Lock()
		if len(l.jobs) == 0 {
			delete(o.lanes, key)
			o.forgetIdleLocked(key)
			o.mu.Unlock()
			return
		}
		j := l.jobs[0]
		l.jobs[0] = nil
		l.jobs = l.jobs[1:]
		o.mu.Unlock()

		var err error
		if b := j.batch; b != nil && b.err != nil {
			err = b.err // an earlier part failed: do not send the rest
		} else {
			err = o.deliver(j)
			if err == nil && j.paced && o.sent != nil {
				o.sent(o.clock.Now().Sub(j.added))
			}
		}
		j.done <- err
		if b := j.batch; b != nil {
			if b.err == nil {
				b.err = err
			}
			if b.left--; b.left == 0 && b.then != nil {
				b.then(b.err)
			}
		}

		o.mu.Lock()
		o.backlog--
		if o.backlog == 0 {
			for _, ch := range o.idlers {
				close(ch)
			}
			o.idlers = nil
		}
		o.mu.Unlock()
	}
}

// forgetIdleLocked drops the pacers of lane key once they no longer delay
// anything (a fresh pacer would behave the same).
func (o *outbox) forgetIdleLocked(key string) {
	now := o.clock.Now()
	if g, ok := o.chats[key]; ok && g.idle(now) {
		delete(o.chats, key)
	}
	if g, ok := o.groups[key]; ok && g.idle(now) {
		delete(o.groups, key)
	}
}

// reserve books a send slot for a paced call in lane key, the earliest
// that every limit allows, and returns how long to wait for it.
func (o *outbox) reserve(key string, group bool) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.clock.Now()
	limits := []*window{o.global}
	if o.pace.perChat > 0 {
		w := o.chats[key]
		if w == nil {
			w = newWindow(1, o.pace.perChat)
			o.chats[key] = w
		}
		limits = append(limits, w)
	}
	if group && o.pace.groupPerMinute > 0 {
		w := o.groups[key]
		if w == nil {
			w = newWindow(o.pace.groupPerMinute, time.Minute)
			o.groups[key] = w
		}
		limits = append(limits, w)
	}
	at := now
	for _, w := range limits {
		if t := w.next(now); t.After(at) {
			at = t
		}
	}
	for _, w := range limits {
		w.commit(at)
	}
	return at.Sub(now)
}

// deliver makes the call of j, pacing and retrying it.
func (o *outbox) deliver(j *job) error {
	ctx, cancel := context.WithCancel(j.ctx)
	defer cancel()
	defer context.AfterFunc(o.life, cancel)()

	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if j.paced {
			if err := o.clock.Sleep(ctx, o.reserve(j.lane, j.group)); err != nil {
				return err
			}
		}
		err := j.call()
		if err == nil {
			if attempt > 1 {
				o.log.Debug("telegram: delivered after retrying", "method", j.method, "attempts", attempt)
			}
			return nil
		}
		ae := classify(j.method, err, o.red)
		var wait time.Duration
		switch ae.Kind {
		case kindFlood:
			wait = ae.RetryAfter
			if wait <= 0 {
				wait = backoff(attempt, o.retry.base, o.retry.max)
			}
		case kindTransient:
			wait = backoff(attempt, o.retry.base, o.retry.max)
		default:
			return ae
		}
		if attempt >= o.retry.maxAttempts {
			o.log.Warn("telegram: giving up a call after retries", "method", j.method,
				"attempts", attempt, "error", ae.Error())
			return ae
		}
		o.log.Debug("telegram: call failed, will retry", "method", j.method, "attempt", attempt,
			"wait", wait, "error", ae.Error())
		if err := o.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// idle returns a channel closed once no call is waiting or in flight.
func (o *outbox) idle() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	ch := make(chan struct{})
	if o.backlog == 0 {
		close(ch)
		return ch
	}
	o.idlers = append(o.idlers, ch)
	return ch
}

// wait blocks until every lane has finished (after the adapter's life
// ended, the remaining calls fail fast).
func (o *outbox) wait() {
	o.wg.Wait()
}
