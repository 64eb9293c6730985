package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/platform"
)

func TestARevokedTokenAtStartEndsRunWithARefusalInsteadOfRetryingForever(t *testing.T) {
	tg := telegramtest.New(t, telegramtest.Options{})
	tg.Revoke()
	logs := &syncBuffer{}
	a, err := New(fastConfig(tg), newFakeCore(), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, platform.ErrRefused) || !strings.Contains(err.Error(), "@BotFather") {
			t.Fatalf("Run returned %v; want a refusal that says where to get a token", err)
		}
		if strings.Contains(err.Error(), tg.Token) || strings.Contains(logs.String(), tg.Token) {
			t.Fatal("the token is in the error or the log")
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run still retrying a revoked token after %v:\n%s", waitLimit, logs.String())
	}
}

func TestATokenRevokedWhileServingEndsRunAfterTheDrain(t *testing.T) {
	h := startHarness(t, telegramtest.Options{}, nil)
	h.tg.Await(t, waitLimit, "polling", func() bool { return len(h.tg.Calls("getUpdates")) > 0 })

	h.tg.Revoke()
	select {
	case err := <-h.done:
		h.done <- nil // the harness's cleanup expects to read an outcome
		if !errors.Is(err, platform.ErrRefused) {
			t.Fatalf("Run returned %v; want a refusal", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run did not end after the token was revoked:\n%s", h.logs.String())
	}
	if st := h.a.Status(); st.Connected {
		t.Error("Status still says connected")
	}
	if !strings.Contains(h.logs.String(), "refused the bot token") {
		t.Errorf("no clear log line:\n%s", h.logs.String())
	}
}
