package telegram

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
)

// awaitRun waits (a bounded time) for the harness's Run to return.
func (h *harness) awaitRun() {
	h.t.Helper()
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup's shutdown
		if err != nil {
			h.t.Errorf("Run = %v", err)
		}
	case <-time.After(waitLimit):
		h.t.Fatal("Run did not return")
	}
}

// TestShutdownFinishesRequestsInFlight: when Run's context ends, polling
// stops, but a request being handled still gets its answer, the secret
// line it holds is still deleted, and a reply that pacing held back in a
// group is still sent.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	gate := gateClock{gate: make(chan struct{})}
	var once sync.Once
	open := func() { once.Do(func() { close(gate.gate) }) }
	h := startHarness(t, telegramtest.Options{}, func(c *Config) {
		c.PerChatInterval, c.GroupPerMinute, c.GlobalPerSecond = time.Second, 20, 30
	}, withClock(gate))
	release := make(chan struct{})
	entered := make(chan string, 10)
	var relOnce sync.Once
	t.Cleanup(func() { relOnce.Do(func() { close(release) }); open() })
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		if req.Post != "" {
			return req.Reply.Public(ctx, bridge.PublicPost{Text: "🔓 A CLM pointer", ReceiveRef: "r" + req.MessageID})
		}
		entered <- req.Command
		<-release
		if err := req.Reply.DeleteRequest(ctx); err != nil {
			return err
		}
		return req.Reply.Private(ctx, "Work is unlocked.")
	})

	// Two pointers in the group: the second reply is held by pacing.
	h.tg.SendText(bob, team, `{"e": 1700000001, "n": "a", "d": "00"}`)
	h.tg.SendText(bob, team, `{"e": 1700000002, "n": "b", "d": "00"}`)
	h.core.awaitRequests(t, 2)
	secret := h.tg.SendText(alice, alice.PrivateChat(), "/clm unlock Work s3cret-in-flight")
	awaitEntered(t, entered)
	h.tg.Await(t, waitLimit, "the next long poll", func() bool { return h.tg.Holding() > 0 })

	h.stop()
	// The open long poll ends: the adapter takes no more updates.
	h.tg.Await(t, waitLimit, "polling to stop", func() bool { return h.tg.Holding() == 0 })
	late := h.tg.SendText(carol, carol.PrivateChat(), "/clm chats")
	relOnce.Do(func() { close(release) })
	open()
	h.awaitRun()

	if e, _ := h.tg.Message(alice.ID, secret.MessageID); !e.Deleted {
		t.Errorf("the secret line in flight was not deleted")
	}
	if dm := h.tg.BotMessages(alice.ID); len(dm) != 1 || dm[0].Text != "Work is unlocked." {
		t.Errorf("alice's answer: %+v", dm)
	}
	if n := len(h.tg.BotMessages(team.ID)); n != 2 {
		t.Errorf("the group got %d of its 2 replies", n)
	}
	if reqs, _ := h.core.requests(); len(reqs) != 3 {
		t.Errorf("the core handled %d requests, want 3 (the update sent after the stop is for the next run)", len(reqs))
	}
	if h.tg.Pending() == 0 {
		t.Errorf("the update sent after the stop was confirmed to Telegram: message %d is lost", late.MessageID)
	}
	if strings.Contains(h.logs.String(), "cancelling") {
		t.Errorf("the drain timed out:\n%s", h.logs)
	}
}

// TestShutdownDrainIsBounded: a handler that does not finish is cancelled
// after the drain timeout, and Run returns.
func TestShutdownDrainIsBounded(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil, WithDrainTimeout(50*time.Millisecond))
	entered := make(chan string, 1)
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		entered <- req.Command
		<-ctx.Done() // stuck until cancelled
		return ctx.Err()
	})
	h.tg.SendText(alice, alice.PrivateChat(), "/clm chats")
	awaitEntered(t, entered)
	h.stop()
	h.awaitRun()
	if !strings.Contains(h.logs.String(), "still pending at shutdown; cancelling them") {
		t.Errorf("the cancelled drain was not logged:\n%s", h.logs)
	}
}

// TestShutdownConfirmsTheUpdatesTaken: an update handed to the bot is
// confirmed to Telegram when polling stops, so the next start does not
// handle it a second time. (Here the getUpdates that would confirm it
// fails, and the poller waits in its backoff when the stop comes.)
func TestShutdownConfirmsTheUpdatesTaken(t *testing.T) {
	gate := gateClock{gate: make(chan struct{})} // holds the poller's backoff
	h := startHarness(t, telegramtest.Options{}, nil, withClock(gate))
	t.Cleanup(func() { close(gate.gate) })
	var failing atomic.Bool
	failing.Store(true)
	h.tg.SetFailer(func(method string, p map[string]string) *telegramtest.Failure {
		// The first update's id is 1: fail the getUpdates that would
		// confirm it.
		if method == "getUpdates" && failing.Load() && p["offset"] == "2" {
			f := telegramtest.BadGateway()
			return &f
		}
		return nil
	})
	h.tg.SendText(alice, alice.PrivateChat(), "/clm chats")
	h.core.awaitRequests(t, 1)
	h.tg.Await(t, waitLimit, "the failed getUpdates", func() bool {
		for _, c := range h.tg.Calls("getUpdates") {
			if c.Injected {
				return true
			}
		}
		return false
	})
	failing.Store(false)
	if n := h.tg.Pending(); n != 1 {
		t.Fatalf("%d updates pending before the stop, want 1", n)
	}
	h.stop()
	h.awaitRun()
	if n := h.tg.Pending(); n != 0 {
		t.Errorf("the update taken is still pending at Telegram: the next start would handle it again")
	}
	if strings.Contains(h.logs.String(), "cannot confirm") {
		t.Errorf("log:\n%s", h.logs)
	}
}
