package telegram

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
)

// groupCore plays the core for a group: a post with a pointer gets a
// Receive reply; a secret-bearing command typed in the group is deleted
// and the member warned privately.
func groupCore(ctx context.Context, req bridge.Request) error {
	switch {
	case req.Post != "" && strings.Contains(req.Post, `{"e"`):
		return req.Reply.Public(ctx, bridge.PublicPost{Text: "🔓 A CLM pointer", ReceiveRef: "r" + req.MessageID})
	case req.Command == "unlock" && req.Place.Kind == bridge.Public:
		if err := req.Reply.DeleteRequest(ctx); err != nil {
			return err
		}
		return req.Reply.Private(ctx, "🔥 That secret was typed in a group: it is burned.")
	}
	return nil
}

// sendsTo counts the successful sendMessage calls to chat among calls.
func sendsTo(calls []telegramtest.Call, chat int64) int {
	n := 0
	for _, c := range calls {
		if c.Method == "sendMessage" && c.OK && c.Params["chat_id"] == strconv.FormatInt(chat, 10) {
			n++
		}
	}
	return n
}

// TestBusyGroupSecretIsDeletedBeforeHeldReplies: a group gets far more
// pointers than Telegram's 20 messages a minute let the bot answer. The
// chat's updates are still all handled (replies are queued, not waited
// for), and a secret typed in the group then is deleted, and its member
// warned, before the replies pacing holds back. Once pacing lets them go,
// every reply is delivered exactly once, in order.
func TestBusyGroupSecretIsDeletedBeforeHeldReplies(t *testing.T) {
	// Every paced wait is held until the gate opens: pacing really holds
	// replies back, and the test measures no time.
	gate := gateClock{gate: make(chan struct{})}
	var once sync.Once
	open := func() { once.Do(func() { close(gate.gate) }) }
	h := startHarness(t, telegramtest.Options{}, func(c *Config) {
		c.PerChatInterval, c.GroupPerMinute, c.GlobalPerSecond = time.Second, 20, 30 // Telegram's limits
	}, withClock(gate))
	t.Cleanup(open) // runs before the harness stops
	h.core.setOn(groupCore)

	const rounds, perRound = 3, 30
	var posted []int
	for r := range rounds {
		for i := range perRound {
			m := h.tg.SendText(alice, team, fmt.Sprintf(`{"e": %d, "n": "flood", "d": "00"}`, 1700000000+r*perRound+i))
			posted = append(posted, m.MessageID)
		}
		// Every update reaches the core although pacing holds the replies.
		h.core.awaitRequests(t, (r+1)*perRound)
	}
	if n := sendsTo(h.tg.Calls("sendMessage"), team.ID); n > 1 {
		t.Fatalf("pacing let %d replies through at once; the test needs them held", n)
	}

	secret := h.tg.SendText(alice, team, "/clm unlock Work s3cret-tulip")
	h.tg.Await(t, waitLimit, "the secret's deletion and alice's warning", func() bool {
		e, _ := h.tg.Message(team.ID, secret.MessageID)
		return e.Deleted && len(h.tg.BotMessages(alice.ID)) == 1
	})
	calls := h.tg.Calls()
	for i, c := range calls {
		if c.Method == "deleteMessage" && c.OK {
			if n := sendsTo(calls[:i], team.ID); n > 1 {
				t.Errorf("the secret was deleted only after %d replies in the group", n)
			}
			break
		}
	}
	if got := h.tg.BotMessages(alice.ID)[0].Text; !strings.Contains(got, "🔥") {
		t.Errorf("alice's warning: %q", got)
	}
	reqs := h.core.awaitRequests(t, rounds*perRound+1)
	if last := reqs[len(reqs)-1]; last.Command != "unlock" {
		t.Errorf("the core's last request is %q, want the unlock", last.Command)
	}

	open()
	h.tg.Await(t, waitLimit, "every held reply", func() bool {
		return sendsTo(h.tg.Calls("sendMessage"), team.ID) >= len(posted)
	})
	var replies []int
	for _, m := range h.tg.BotMessages(team.ID) {
		if m.ReplyTo != nil {
			replies = append(replies, m.ReplyTo.MessageID)
		}
	}
	if fmt.Sprint(replies) != fmt.Sprint(posted) {
		t.Errorf("replies to %v,\nwant exactly %v", replies, posted)
	}
	if strings.Contains(h.logs.String(), "dropping") {
		t.Errorf("updates were dropped:\n%s", h.logs)
	}
}

// TestSecretIsHandledWhenTheGroupsLaneIsFull: the core is slow on a
// group's posts, so the group's lane fills and its updates are dropped; a
// secret typed there is still handled at once, and, when even the
// secret-bearing commands waiting fill their lane, still deleted.
func TestSecretIsHandledWhenTheGroupsLaneIsFull(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	release := make(chan struct{})
	var releaseOnce sync.Once
	open := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(open)
	entered := make(chan string, 1000)
	var mu sync.Mutex
	blockUnlocks := false
	h.core.setOn(func(ctx context.Context, req bridge.Request) error {
		mu.Lock()
		block := req.Post != "" || blockUnlocks
		mu.Unlock()
		if block {
			entered <- req.Command + req.Post
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return groupCore(ctx, req)
	})

	h.tg.SendText(alice, team, `{"e": 1700000000, "n": "slow", "d": "00"}`)
	awaitEntered(t, entered) // the group's lane is busy with the first post
	for i := range maxUpdateBacklog + 4 {
		h.tg.SendText(bob, team, fmt.Sprintf(`{"e": %d, "n": "queued", "d": "00"}`, 1700000001+i))
	}
	h.logs.await(t, "too many updates waiting in one chat")

	t.Run("handled through the priority lane", func(t *testing.T) {
		secret := h.tg.SendText(carol, team, "/clm unlock Work s3cret-carol")
		h.tg.Await(t, waitLimit, "the secret's deletion and carol's warning", func() bool {
			e, _ := h.tg.Message(team.ID, secret.MessageID)
			return e.Deleted && len(h.tg.BotMessages(carol.ID)) == 1
		})
	})

	t.Run("deleted even when the priority lane is full", func(t *testing.T) {
		mu.Lock()
		blockUnlocks = true
		mu.Unlock()
		h.tg.SendText(carol, team, "/clm unlock Work first")
		if got := awaitEntered(t, entered); !strings.HasPrefix(got, "unlock") {
			t.Fatalf("the core got %q", got)
		}
		for range maxPriorityBacklog {
			h.tg.SendText(carol, team, "/clm unlock Work waiting")
		}
		last := h.tg.SendText(carol, team, "/clm@clm_bot unlock Work s3cret-overflow")
		h.tg.Await(t, waitLimit, "the overflowing secret's deletion", func() bool {
			e, _ := h.tg.Message(team.ID, last.MessageID)
			return e.Deleted
		})
		h.logs.await(t, "deleting one without handling it")
	})
	open()
	if strings.Contains(h.logs.String(), "s3cret") {
		t.Errorf("a secret reached the log")
	}
}

// awaitEntered waits (a bounded time) until the core starts handling a
// request, and returns what it got.
func awaitEntered(t *testing.T, entered <-chan string) string {
	t.Helper()
	select {
	case got := <-entered:
		return got
	case <-time.After(waitLimit):
		t.Fatal("the core got no request")
		return ""
	}
}
