package telegram

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestDispatcherKeepsOrderPerLaneAndSurvivesPanics(t *testing.T) {
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := newDispatcher(ctx, slog.New(slog.NewTextHandler(logs, nil)))
	var mu sync.Mutex
	got := map[string][]int{}
	var wg sync.WaitGroup
	for i := range 20 {
		for _, lane := range []string{"a", "b"} {
			wg.Add(1)
			ok := d.submit(lane, func(context.Context) {
				defer wg.Done()
				if i == 7 {
					panic("secret text must not be logged")
				}
				mu.Lock()
				got[lane] = append(got[lane], i)
				mu.Unlock()
			})
			if !ok {
				t.Fatalf("submit %s/%d refused", lane, i)
			}
		}
	}
	wg.Wait()
	d.close()
	for lane, seq := range got {
		if len(seq) != 19 {
			t.Errorf("lane %s ran %d of 19", lane, len(seq))
		}
		for j := 1; j < len(seq); j++ {
			if seq[j] < seq[j-1] {
				t.Errorf("lane %s out of order: %v", lane, seq)
				break
			}
		}
	}
	if !strings.Contains(logs.String(), "panicked") || strings.Contains(logs.String(), "secret text") {
		t.Errorf("log: %s", logs)
	}
	if d.submit("a", func(context.Context) {}) {
		t.Errorf("a closed dispatcher accepted work")
	}
}
