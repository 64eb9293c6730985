package telegram

import (
	"context"
	"log/slog"
	"sync"
)

// Limits of the dispatcher.
const (
	maxUpdateBacklog = 64 // updates waiting in one chat
	maxHandlers      = 64 // requests handled at once
)

// dispatcher runs the handling of updates: one at a time and in order per
// key (a chat, so a member's next private line is handled after the
// command that asked for it), and at most maxHandlers at once overall.
type dispatcher struct {
	ctx context.Context
	log *slog.Logger
	sem chan struct{}

	mu     sync.Mutex
	lanes  map[string]*dlane
	closed bool
	wg     sync.WaitGroup
}

type dlane struct {
	fns []func(context.Context)
}

func newDispatcher(ctx context.Context, log *slog.Logger) *dispatcher {
	return &dispatcher{ctx: ctx, log: log, sem: make(chan struct{}, maxHandlers), lanes: map[string]*dlane{}}
}

// submit queues fn in lane key. It returns false (and drops fn) when the
// lane is full or the dispatcher is closed.
func (d *dispatcher) submit(key string, fn func(context.Context)) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	l := d.lanes[key]
	if l != nil && len(l.fns) >= maxUpdateBacklog {
		d.log.Warn("telegram: too many updates waiting in one chat, dropping one")
		return false
	}
	if l == nil {
		l = &dlane{}
		d.lanes[key] = l
		d.wg.Add(1)
		go d.run(key, l)
	}
	l.fns = append(l.fns, fn)
	return true
}

func (d *dispatcher) run(key string, l *dlane) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(l.fns) == 0 {
			delete(d.lanes, key)
			d.mu.Unlock()
			return
		}
		fn := l.fns[0]
		l.fns[0] = nil
		l.fns = l.fns[1:]
		d.mu.Unlock()

		select {
		case d.sem <- struct{}{}:
		case <-d.ctx.Done():
			continue // drain without running: the adapter is stopping
		}
		d.runOne(fn)
		<-d.sem
	}
}

// runOne runs fn, containing a panic so one bad request cannot stop the
// bot. The panic value is not logged: it could hold message text.
func (d *dispatcher) runOne(fn func(context.Context)) {
	defer func() {
		if recover() != nil {
			d.log.Error("telegram: handling an update panicked; the update was dropped")
		}
	}()
	fn(d.ctx)
}

// close stops accepting work and waits for the running handlers (which see
// their context end).
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
}
