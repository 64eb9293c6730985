package telegram

import (
	"context"
	"log/slog"
	"sync"
)

// Limits of the dispatcher.
const (
	maxUpdateBacklog   = 64 // updates waiting in one chat
	maxHandlers        = 64 // requests handled at once
	maxPriorityBacklog = 64 // secret-bearing commands waiting in one group
	maxPriorityRunning = 16 // secret-bearing commands handled at once
)

// dispatcher runs the handling of updates: one at a time and in order per
// key (a chat, so a member's next private line is handled after the
// command that asked for it), and at most maxHandlers at once overall.
// Priority lanes (secret-bearing commands typed in groups) have their own
// bounds and their own handler slots, so a busy chat cannot hold them up.
type dispatcher struct {
	ctx  context.Context
	log  *slog.Logger
	sem  chan struct{}
	psem chan struct{} // handler slots of priority lanes

	mu     sync.Mutex
	lanes  map[string]*dlane
	closed bool
	wg     sync.WaitGroup
}

type dlane struct {
	fns  []func(context.Context)
	prio bool
}

func newDispatcher(ctx context.Context, log *slog.Logger) *dispatcher {
	return &dispatcher{ctx: ctx, log: log, sem: make(chan struct{}, maxHandlers),
		psem: make(chan struct{}, maxPriorityRunning), lanes: map[string]*dlane{}}
}

// submit queues fn in lane key. It returns false (and drops fn) when the
// lane is full or the dispatcher is closed.
func (d *dispatcher) submit(key string, fn func(context.Context)) bool {
	return d.add(key, fn, false)
}

// submitPriority queues fn in priority lane key (a key of its own, not a
// chat's). It returns false (and drops fn) when the lane is full or the
// dispatcher is closed.
func (d *dispatcher) submitPriority(key string, fn func(context.Context)) bool {
	return d.add(key, fn, true)
}

func (d *dispatcher) add(key string, fn func(context.Context), prio bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	l := d.lanes[key]
	limit := maxUpdateBacklog
	if prio {
		limit = maxPriorityBacklog
	}
	if l != nil && len(l.fns) >= limit {
		d.log.Warn("telegram: too many updates waiting in one chat, dropping one", "priority", prio)
		return false
	}
	if l == nil {
		l = &dlane{prio: prio}
		d.lanes[key] = l
		d.wg.Add(1)
		go d.run(key, l)
	}
	l.fns = append(l.fns, fn)
	return true
}

func (d *dispatcher) run(key string, l *dlane) {
	defer d.wg.Done()
	sem := d.sem
	if l.prio {
		sem = d.psem
	}
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
		case sem <- struct{}{}:
		case <-d.ctx.Done():
			continue // drain without running: the adapter is stopping
		}
		d.runOne(fn)
		<-sem
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

// stopTaking stops accepting work and returns a channel closed once the
// handlers queued and running have finished (they see their context end
// when the adapter's life does).
func (d *dispatcher) stopTaking() <-chan struct{} {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	return done
}

// close stops accepting work and waits for the handlers.
func (d *dispatcher) close() {
	<-d.stopTaking()
}
