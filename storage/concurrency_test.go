package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// sharedKey is a chat key several goroutines use while one rekeys it, the
// way bridge sessions share an unlocked chat. After a rekey the old key
// answers ErrLocked; users then wait for the new one.
type sharedKey struct {
	mu      sync.Mutex
	k       *ChatKey
	changed chan struct{} // closed when k is replaced
}

func (h *sharedKey) get() (*ChatKey, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.k, h.changed
}

func (h *sharedKey) set(k *ChatKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.k = k
	close(h.changed)
	h.changed = make(chan struct{})
}

// withKey calls fn with the current key, and again with the next key each
// time fn reports ErrLocked (the key it had was rekeyed away).
func (h *sharedKey) withKey(fn func(k *ChatKey) error) error {
	for {
		k, changed := h.get()
		err := fn(k)
		if !errors.Is(err, ErrLocked) {
			return err
		}
		<-changed
	}
}

func TestConcurrentSaveReadPageRekey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		shared := &sharedKey{k: mustChat(t, s, m.ID, "Shared", "secret-0"), changed: make(chan struct{})}

		const (
			sharedSavers = 4
			ownSavers    = 2
			readers      = 3
			saves        = 50
			rekeys       = 5
		)
		var (
			wg      sync.WaitGroup
			errMu   sync.Mutex
			errs    []error
			ackMu   sync.Mutex
			acked   = map[int64]string{} // shared chat: id -> text
			secrets = make(chan string, 1)
		)
		report := func(who string, err error) {
			if err == nil {
				return
			}
			errMu.Lock()
			errs = append(errs, fmt.Errorf("%s: %w", who, err))
			errMu.Unlock()
		}

		for g := range sharedSavers {
			wg.Go(func() {
				for i := range saves {
					nm := testMessage(g*1000 + i)
					var id int64
					err := shared.withKey(func(k *ChatKey) (err error) {
						id, _, err = s.SaveMessage(ctx, k, nm)
						return err
					})
					if err != nil {
						report("shared saver", err)
						return
					}
					ackMu.Lock()
					acked[id] = nm.Text
					ackMu.Unlock()
				}
			})
		}
		for g := range ownSavers {
			wg.Go(func() {
				mem, err := s.EnsureMember(ctx, MemberRef{"discord", fmt.Sprint(g)}, fmt.Sprint("user", g))
				if err != nil {
					report("own saver", err)
					return
				}
				k, err := s.CreateChat(ctx, mem.ID, "Own", []byte("pw"))
				if err != nil {
					report("own saver", err)
					return
				}
				for i := range saves {
					if _, _, err := s.SaveMessage(ctx, k, testMessage(i)); err != nil {
						report("own saver", err)
						return
					}
					if i%10 == 0 {
						if _, err := s.UnlockChat(ctx, mem.ID, "Own", []byte("pw")); err != nil {
							report("own unlock", err)
							return
						}
					}
				}
			})
		}
		for range readers {
			wg.Go(func() {
				for i := range 30 {
					err := shared.withKey(func(k *ChatKey) error {
						if _, err := s.History(ctx, k, Page{Size: 20, Page: i % 3}); err != nil {
							return err
						}
						if _, err := s.Search(ctx, k, "number 1", 10); err != nil {
							return err
						}
						_, err := s.ListTrash(ctx, k)
						return err
					})
					if err == nil {
						_, err = s.ListChats(ctx, m.ID)
					}
					if err == nil {
						_, err = s.Stats(ctx)
					}
					if err != nil {
						report("reader", err)
						return
					}
				}
			})
		}
		wg.Go(func() { // trash and restore what the savers acknowledged
			for i := range 40 {
				ackMu.Lock()
				var id int64
				for id = range acked {
					break
				}
				ackMu.Unlock()
				if id == 0 {
					continue
				}
				err := shared.withKey(func(k *ChatKey) error {
					if i%2 == 0 {
						return s.Trash(ctx, k, id)
					}
					return s.Restore(ctx, k, id)
				})
				if err != nil {
					report("trasher", err)
					return
				}
			}
		})
		wg.Go(func() {
			last := "secret-0"
			defer func() { secrets <- last }()
			for r := 1; r <= rekeys; r++ {
				k, _ := shared.get()
				next := fmt.Sprint("secret-", r)
				nk, _, err := s.Rekey(ctx, k, []byte(next))
				if err != nil {
					report("rekeyer", err)
					return
				}
				last = next
				shared.set(nk)
			}
		})
		wg.Wait()

		for _, err := range errs {
			t.Error(err)
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), "database is locked") || strings.Contains(err.Error(), "busy") {
				t.Fatalf("SQLite lock contention reached a caller: %v", err)
			}
		}
		final := <-secrets
		k, err := s.UnlockChat(ctx, m.ID, "Shared", []byte(final))
		if err != nil {
			t.Fatalf("unlock with the last secret %q: %v", final, err)
		}
		found := map[int64]Message{}
		for p := 0; ; p++ {
			h := mustHistory(t, s, k, Page{Size: MaxPageSize, Page: p})
			for _, msg := range h {
				found[msg.ID] = msg
			}
			if len(h) < MaxPageSize {
				break
			}
		}
		trash, err := s.ListTrash(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range trash {
			found[msg.ID] = msg
		}
		if len(acked) != sharedSavers*saves {
			t.Fatalf("%d saves acknowledged, want %d", len(acked), sharedSavers*saves)
		}
		for id, text := range acked {
			if found[id].Text != text {
				t.Fatalf("acknowledged message %d = %q, want %q", id, found[id].Text, text)
			}
		}
	})
}

func TestCloseWaitsForCallsInProgress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := be.open(t)
		m := mustMember(t, s, "1", "alice")
		k := mustChat(t, s, m.ID, "Work", "pw")
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 50 {
					_, _, err := s.SaveMessage(ctx, k, testMessage(g*100+i))
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("save racing Close: %v", err)
						return
					}
				}
			})
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close with calls in flight: %v", err)
		}
		wg.Wait()
	})
}

// One bridge process changes a chat's secret again and again while
// another saves into it with the key it unlocked: every save either lands
// under the secret of its time and is re-sealed by the next change, or is
// refused as out of date (ErrLocked). None is left sealed under a burned
// secret, so with the last secret every saved message opens.
func TestSavesFromAnotherStoreDuringRekeysAllOpenAfterwards(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		both := be.openShared(t, 2)
		a, b := both[0], both[1]
		m := mustMember(t, a, "1", "alice")
		ka := mustChat(t, a, m.ID, "Work", "secret-0")
		for i := range 50 {
			mustSave(t, a, ka, testMessage(i))
		}
		const rekeys = 15
		kb, err := b.UnlockChat(ctx, m.ID, "Work", []byte("secret-0"))
		if err != nil {
			t.Fatal(err)
		}
		var saved []int64
		started, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for i := 1000; i < 1400; i++ {
				if i == 1001 {
					close(started)
				}
				num, _, err := b.SaveMessage(ctx, kb, testMessage(i))
				switch {
				case errors.Is(err, ErrLocked):
					if i == 1000 {
						close(started)
					}
					return // the secret changed: a member would unlock again
				case err != nil:
					t.Errorf("save from the second store: %v", err)
					if i == 1000 {
						close(started)
					}
					return
				}
				saved = append(saved, num)
			}
		}()
		<-started
		for r := 1; r <= rekeys; r++ {
			nk, damaged, err := a.Rekey(ctx, ka, []byte(fmt.Sprintf("secret-%d", r)))
			if err != nil || len(damaged) > 0 {
				t.Fatalf("rekey %d: damaged %v, %v", r, damaged, err)
			}
			ka = nk
		}
		<-done
		final, _, err := a.Rekey(ctx, ka, []byte("secret-final"))
		if err != nil {
			t.Fatal(err)
		}
		h := mustHistory(t, a, final, Page{Size: MaxPageSize})
		var broken []int64
		for _, msg := range h {
			if msg.Damaged {
				broken = append(broken, msg.ID)
			}
		}
		if len(broken) > 0 {
			t.Fatalf("messages %v were sealed under a secret that had already changed (of %d saved by the second store)", broken, len(saved))
		}
	})
}
