package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clmbridge/clmbridge/storage"
)

// DefaultMaxKDFWaiting is how many requests may wait for a key-derivation
// slot when Options.MaxKDFWaiting is zero. With two slots and Argon2id at
// about 0.2 s a run, the last of them waits about a second.
const DefaultMaxKDFWaiting = 8

// initialKDFEstimate is the time a key derivation is assumed to take until
// one has been measured (the default Argon2id cost on a small host, with
// margin).
const initialKDFEstimate = 500 * time.Millisecond

// busyError is returned by the gated store calls when too many requests
// wait for key derivation: the request is answered at once, with when to
// try again, instead of holding its adapter's handler slot in a long queue.
type busyError struct {
	retryIn time.Duration
}

func (e *busyError) Error() string {
	return fmt.Sprintf("bridge: too many key derivations waiting; retry in %s", e.retryIn)
}

// kdfGate admits the requests that need a key derivation (Argon2id: new,
// unlock, rekey, a secret given for a pointer). Every request is handled in
// its adapter's handler slot (Telegram has 64), so a request that queued for
// the store's two Argon2id slots behind hundreds of others held its handler
// slot for the whole wait, and requests that need no key derivation waited
// for a handler slot. The gate lets at most maxWaiting requests queue behind
// the running derivations; any more are refused at once with an estimate
// of when the queue will have drained, from the measured time a derivation
// holds its slot. The store's own semaphore stays the memory cap.
type kdfGate struct {
	slots      chan struct{} // one token per derivation running
	maxWaiting int           // < 0: no limit

	mu      sync.Mutex
	waiting int
	avg     time.Duration // moving average of a slot's hold time
}

func newKDFGate(slots, maxWaiting int) *kdfGate {
	return &kdfGate{slots: make(chan struct{}, max(slots, 1)), maxWaiting: maxWaiting, avg: initialKDFEstimate}
}

// do runs f in a derivation slot, waiting for one unless too many requests
// wait already (then it returns a *busyError at once). measure says whether
// f's time is a fair sample of a derivation (a rekey also re-seals every
// message, so it is not).
func (g *kdfGate) do(ctx context.Context, measure bool, f func() error) error {
	g.mu.Lock()
	select {
	case g.slots <- struct{}{}:
		g.mu.Unlock()
	default:
		if g.maxWaiting >= 0 && g.waiting >= g.maxWaiting {
			wait := g.retryInLocked()
			g.mu.Unlock()
			return &busyError{retryIn: wait}
		}
		g.waiting++
		g.mu.Unlock()
		var err error
		select {
		case g.slots <- struct{}{}:
		case <-ctx.Done():
			err = ctx.Err()
		}
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
		if err != nil {
			return fmt.Errorf("bridge: waiting to derive a key: %w", err)
		}
	}
	start := time.Now()
	err := f()
	took := time.Since(start)
	<-g.slots
	if measure && err == nil {
		g.mu.Lock()
		g.avg = (3*g.avg + took) / 4
		g.mu.Unlock()
	}
	return err
}

// queued returns how many requests wait for a slot now.
func (g *kdfGate) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

// retryInLocked estimates when the queue ahead (the waiting requests and
// the running derivations) will have drained: whole rounds of len(slots)
// derivations, rounded up to a second.
func (g *kdfGate) retryInLocked() time.Duration {
	n := cap(g.slots)
	rounds := (g.waiting + n + n - 1) / n
	return retryEstimate(rounds, g.avg)
}

// retryEstimate is rounds derivations of avg each, rounded up to a whole
// second and at least one.
func retryEstimate(rounds int, avg time.Duration) time.Duration {
	d := time.Duration(rounds) * avg
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
}

// createChat is storage's CreateChat through the key-derivation gate.
func (b *Bridge) createChat(ctx context.Context, memberID int64, name string, secret []byte) (key *storage.ChatKey, err error) {
	gerr := b.kdf.do(ctx, true, func() error {
		key, err = b.store.CreateChat(ctx, memberID, name, secret)
		return err
	})
	if err == nil {
		err = gerr
	}
	return key, err
}

// unlockChat is storage's UnlockChat through the key-derivation gate.
func (b *Bridge) unlockChat(ctx context.Context, memberID int64, name string, secret []byte) (key *storage.ChatKey, err error) {
	gerr := b.kdf.do(ctx, true, func() error {
		key, err = b.store.UnlockChat(ctx, memberID, name, secret)
		if errors.Is(err, storage.ErrWrongSecret) {
			return nil // a wrong secret costs a derivation like a right one
		}
		return err
	})
	if err == nil {
		err = gerr
	}
	return key, err
}

// rekeyChat is storage's Rekey through the key-derivation gate.
func (b *Bridge) rekeyChat(ctx context.Context, key *storage.ChatKey, newSecret []byte) (newKey *storage.ChatKey, damaged []int64, err error) {
	gerr := b.kdf.do(ctx, false, func() error {
		newKey, damaged, err = b.store.Rekey(ctx, key, newSecret)
		return err
	})
	if err == nil {
		err = gerr
	}
	return newKey, damaged, err
}

// busyText is what a member whose request met a full key-derivation queue
// is told (callers add what was not done), and whether err is that.
func busyText(err error) (string, bool) {
	var be *busyError
	if !errors.As(err, &be) {
		return "", false
	}
	return fmt.Sprintf("⏳ Many members are unlocking or creating chats right now, so I can't check a secret for you at the moment: please try again in %s.", human(be.retryIn)), true
}
