package bridge

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// Default watch limits; see [Options].
const (
	DefaultWatchPerPost   = 3
	DefaultWatchPerMinute = 10
)

// Bounds of the background watch delivery.
const (
	// watchWorkers deliver in the background; a member's deliveries all go
	// through the same one, so they arrive in order.
	watchWorkers = 4
	// watchQueue is how many deliveries (one member, one post) wait per
	// worker; when a queue is full, the post's pointers are held back for
	// that member (and they are told).
	watchQueue = 64
	// maxOwedPlaces bounds the (chat, channel) counts kept per member for
	// the "held back" note; further ones are counted as elsewhere.
	maxOwedPlaces = 8
)

// watcher delivers watched pointers in the background, bounded three ways:
// at most perPost messages per post to one member, a token bucket of
// notifications per member (burst and perMinute), and a fixed queue. One
// post of 8 pointers of a chat that 2,000 members watch made 16,000
// notifications and rows in the posting request; now the post is answered
// at once, each member gets at most perPost of its messages (saved) and
// one line for the rest ("3 more pointers of Work were posted in
// #general…"), and what the budget or the queue holds back is counted and
// told later. Nothing held back is saved: it stays a public pointer the
// member can receive.
type watcher struct {
	b         *Bridge
	perPost   int
	burst     float64
	perMinute float64
	seed      maphash.Seed

	ctx    context.Context // ends on Close: deliveries stop
	cancel context.CancelFunc
	queues [watchWorkers]chan watchJob
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	pending int        // jobs queued or running
	idle    *sync.Cond // signalled when pending drops to 0 (tests wait on it)
	members map[memberKey]*watchBudget
}

// watchJob is one member's share of one post (or, with no items, a note
// of what was held back before).
type watchJob struct {
	n      Notifier
	member Member
	mk     memberKey
	where  string
	src    storage.Source
	items  []watchItem
}

// watchItem is one pointer opened for the member, with its held hit.
type watchItem struct {
	p clm.Pointer
	h hit
}

// watchBudget is a member's notification bucket and what was held back.
type watchBudget struct {
	member Member
	n      Notifier
	tokens float64
	last   time.Time
	owed   map[owedPlace]int
	other  int // held back beyond maxOwedPlaces places
}

type owedPlace struct{ chat, where string }

func newWatcher(b *Bridge, perPost, perMinute int) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{b: b, perPost: perPost, burst: float64(perMinute), perMinute: float64(perMinute),
		seed: maphash.MakeSeed(), ctx: ctx, cancel: cancel, members: make(map[memberKey]*watchBudget)}
	w.idle = sync.NewCond(&w.mu)
	for i := range w.queues {
		q := make(chan watchJob, watchQueue)
		w.queues[i] = q
		w.wg.Go(func() { w.work(q) })
	}
	return w
}

// close stops the deliveries: those queued are dropped (their members can
// still receive the public pointers), the ones being sent see their
// context end, and it returns once every worker has stopped.
func (w *watcher) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
}

func (w *watcher) work(q chan watchJob) {
	for {
		select {
		case <-w.ctx.Done():
			for {
				select {
				case j := <-q:
					w.drop(j)
				default:
					return
				}
			}
		case j := <-q:
			w.deliver(j)
			w.done()
		}
	}
}

func (w *watcher) drop(j watchJob) {
	for _, it := range j.items {
		w.b.sessions.release(it.h.s)
	}
	w.done()
}

func (w *watcher) done() {
	w.mu.Lock()
	w.pending--
	if w.pending == 0 {
		w.idle.Broadcast()
	}
	w.mu.Unlock()
}

// enqueue hands j to its member's worker without waiting. When the worker
// is behind (or the bridge is closing), j's pointers are held back and
// counted, to be told later.
func (w *watcher) enqueue(j watchJob) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		select {
		case w.queues[maphash.Comparable(w.seed, j.mk)%watchWorkers] <- j:
			w.pending++
			return
		default:
		}
	}
	for _, it := range j.items {
		w.owedLocked(j, it.h.s.chat, 1)
		w.b.sessions.release(it.h.s)
	}
}

// budgetLocked returns mk's bucket, refilled to now.
func (w *watcher) budgetLocked(j watchJob) *watchBudget {
	now := w.b.opts.Now()
	bg := w.members[j.mk]
	if bg == nil {
		bg = &watchBudget{tokens: w.burst, last: now}
		w.members[j.mk] = bg
	}
	bg.member, bg.n = j.member, j.n
	if el := now.Sub(bg.last); el > 0 {
		bg.tokens = min(w.burst, bg.tokens+el.Minutes()*w.perMinute)
		bg.last = now
	}
	return bg
}

// take spends one of the member's notifications if at least need are
// left (need 2 keeps one for the note of what is held back).
func (w *watcher) take(j watchJob, need float64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	bg := w.budgetLocked(j)
	if bg.tokens < need {
		return false
	}
	bg.tokens--
	return true
}

// refund gives back a notification taken for a message not sent after all.
func (w *watcher) refund(j watchJob) {
	w.mu.Lock()
	defer w.mu.Unlock()
	bg := w.budgetLocked(j)
	bg.tokens = min(w.burst, bg.tokens+1)
}

// owedLocked counts n pointers of chat held back for j's member.
func (w *watcher) owedLocked(j watchJob, chat string, n int) {
	bg := w.budgetLocked(j)
	k := owedPlace{chat: chat, where: j.where}
	if bg.owed == nil {
		bg.owed = make(map[owedPlace]int)
	}
	if _, ok := bg.owed[k]; !ok && len(bg.owed) >= maxOwedPlaces {
		bg.other += n
		return
	}
	bg.owed[k] += n
}

// takeOwed returns the note of what was held back for j's member and
// forgets it, if there is any and a notification is left for it.
func (w *watcher) takeOwed(j watchJob) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	bg := w.budgetLocked(j)
	if len(bg.owed) == 0 && bg.other == 0 {
		return "", false
	}
	if bg.tokens < 1 {
		return "", false
	}
	bg.tokens--
	text := heldBackText(bg.owed, bg.other, w.perPost, int(w.perMinute))
	bg.owed, bg.other = nil, 0
	return text, true
}

// flush queues the notes of what was held back for members whose budget
// has room again; Sweep calls it.
func (w *watcher) flush() {
	w.mu.Lock()
	var jobs []watchJob
	for mk, bg := range w.members {
		j := watchJob{n: bg.n, member: bg.member, mk: mk}
		bg := w.budgetLocked(j)
		switch {
		case len(bg.owed) > 0 || bg.other > 0:
			if bg.tokens >= 1 {
				jobs = append(jobs, j)
			}
		case bg.tokens >= w.burst:
			delete(w.members, mk) // as new
		}
	}
	w.mu.Unlock()
	for _, j := range jobs {
		w.enqueue(j)
	}
}

// deliver sends one member their share of a post: the first perPost
// messages the member does not have yet (saved first), while the budget
// lasts; the rest is held back and told in one line.
func (w *watcher) deliver(j watchJob) {
	b := w.b
	ctx := w.ctx
	delivered, stopped := 0, false
	held := make(map[string]int)
	var chats []string
	hold := func(chat string) {
		if held[chat] == 0 {
			chats = append(chats, chat)
		}
		held[chat]++
	}
	for i, it := range j.items {
		h := it.h
		if !b.sessions.alive(h.s) {
			continue // locked (or expired) since the post: not for delivery now
		}
		need := 1.0
		if i < len(j.items)-1 {
			need = 2 // keep one for the note, should the rest be held back
		}
		if stopped || ctx.Err() != nil || delivered >= w.perPost || !w.take(j, need) {
			stopped = true // the rest too, so what arrives is in order
			hold(h.s.chat)
			continue
		}
		var text string
		if h.err != nil {
			text = fmt.Sprintf("⚠️ A pointer of %s posted in %s was changed on the way and was not saved (tampered): I did not open it for you.", h.s.chat, j.where)
		} else {
			created, err := b.saveToSession(ctx, &h, receivedMessage(it.p, h.opened, j.src))
			if err != nil {
				b.log.LogAttrs(ctx, slog.LevelError, "saving a watched message failed", slog.String("error", err.Error()))
			}
			if err == nil && !created {
				w.refund(j)
				continue // already had it (their own, or received before)
			}
			lines := formatOpened(h.opened)
			lines[0] += fmt.Sprintf("  (posted in %s)", j.where)
			text = strings.Join(lines, "\n")
		}
		delivered++
		w.notify(j, text)
	}
	for _, it := range j.items {
		b.sessions.release(it.h.s)
	}
	if len(chats) > 0 {
		w.mu.Lock()
		for _, chat := range chats {
			w.owedLocked(j, chat, held[chat])
		}
		w.mu.Unlock()
	}
	if text, ok := w.takeOwed(j); ok && ctx.Err() == nil {
		w.notify(j, text)
	}
}

// alive reports whether a held session is still unlocked.
func (r *registry) alive(s *session) bool {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	return !s.dead && !s.expired(now, r.idle, r.maxAge)
}

func (w *watcher) notify(j watchJob, text string) {
	if err := j.n.NotifyPrivately(w.ctx, j.member, text); err != nil {
		w.b.log.LogAttrs(w.ctx, slog.LevelWarn, "watch delivery failed",
			slog.String("platform", j.mk.platform), slog.String("error", err.Error()))
	}
}

// heldBackText tells a member which watched pointers were not delivered
// and how to open them.
func heldBackText(owed map[owedPlace]int, other, perPost, perMinute int) string {
	places := make([]owedPlace, 0, len(owed))
	for k := range owed {
		places = append(places, k)
	}
	sort.Slice(places, func(i, j int) bool {
		if places[i].where != places[j].where {
			return places[i].where < places[j].where
		}
		return places[i].chat < places[j].chat
	})
	var parts []string
	total := other
	for i, k := range places {
		n := owed[k]
		total += n
		verb := "were"
		if n == 1 {
			verb = "was"
		}
		if i == 0 {
			parts = append(parts, fmt.Sprintf("%s of %s %s posted in %s", plural(n, "more pointer", "more pointers"), k.chat, verb, k.where))
		} else {
			parts = append(parts, fmt.Sprintf("%s of %s in %s", plural(n, "more", "more"), k.chat, k.where))
		}
	}
	if other > 0 {
		if len(parts) == 0 {
			parts = append(parts, fmt.Sprintf("%s of your chats were posted", plural(other, "more pointer", "more pointers")))
		} else {
			parts = append(parts, fmt.Sprintf("%s elsewhere", plural(other, "more", "more")))
		}
	}
	them := "them"
	if total == 1 {
		them = "it"
	}
	return fmt.Sprintf("📬 %s; open %s with /clm receive (the Receive button under the post, or a reply to it). Watch sends you at most %d messages of one post and %d a minute.",
		strings.Join(parts, ", "), them, perPost, perMinute)
}

// watchDeliver opens pointers seen in a channel for the members who turned
// watch on and were seen in that channel, and queues each member's share
// for the background workers (see watcher), without waiting for them. It
// returns how many of the pointers opened for someone.
func (b *Bridge) watchDeliver(req Request, pointers []clm.Pointer, src storage.Source) (opened int) {
	ck := channelKey{platform: req.Member.Platform, id: req.Place.ID}
	b.mu.Lock()
	n := b.notifiers[req.Member.Platform]
	b.mu.Unlock()
	if n == nil {
		return 0
	}
	want := func(s *session) bool {
		if s.mk.platform != ck.platform {
			return false
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		st := b.members[s.mk]
		if st == nil || !st.watch {
			return false
		}
		_, seen := b.seen[ck][s.mk]
		return seen
	}
	where := placeName(req.Place)
	jobs := make(map[memberKey]*watchJob)
	var order []memberKey
	for _, p := range pointers {
		// A joined chat no pointer confirmed yet opens pointers only when its
		// member asks (receive counts the ones it does not open).
		hits := b.sessions.dropUnverified(b.sessions.trialOpen(p, want))
		if len(hits) > 0 {
			opened++
		}
		took := make(map[memberKey]bool)
		for _, h := range hits {
			// One message per member and pointer; another chat sharing the
			// secret is not for watch.
			if took[h.s.mk] || (h.err == nil && h.s.chat != h.opened.Chat) {
				b.sessions.release(h.s)
				continue
			}
			took[h.s.mk] = true
			j := jobs[h.s.mk]
			if j == nil {
				j = &watchJob{n: n, member: h.s.member, mk: h.s.mk, where: where, src: src}
				jobs[h.s.mk] = j
				order = append(order, h.s.mk)
			}
			j.items = append(j.items, watchItem{p: p, h: h})
		}
	}
	for _, mk := range order {
		b.watch.enqueue(*jobs[mk])
	}
	return opened
}
