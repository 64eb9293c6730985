package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
)

func TestFailingGetUpdatesBacksOff(t *testing.T) {
	fc := newFakeClock()
	tg := telegramtest.New(t, telegramtest.Options{})
	fails := []telegramtest.Failure{telegramtest.BadGateway(), telegramtest.InternalError(),
		telegramtest.BadGateway(), telegramtest.TooManyRequests(9), telegramtest.BadGateway()}
	tg.FailNext("getUpdates", fails...)
	core := newFakeCore()
	logs := &syncBuffer{}
	a, err := New(fastConfig(tg), core, slog.New(slog.NewTextHandler(logs, nil)), withClock(fc))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()

	// An update sent during the outage arrives once polling works again.
	tg.SendText(alice, alice.PrivateChat(), "/clm chats")
	core.awaitRequests(t, 1)

	pollWaits := fc.waits()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 9 * time.Second, 16 * time.Second}
	if !slices.Equal(pollWaits, want) {
		t.Errorf("poller waits = %v, want %v", pollWaits, want)
	}
	failed := 0
	for _, c := range tg.Calls("getUpdates") {
		if !c.OK {
			failed++
		}
	}
	if failed != len(fails) {
		t.Errorf("%d failed getUpdates, want %d: the poller retried without waiting", failed, len(fails))
	}
	// Logged at failures 1, 2 and 4 only, then that it works again.
	if n := strings.Count(logs.String(), "getUpdates failed"); n != 3 {
		t.Errorf("%d warnings for %d failures", n, len(fails))
	}
	if !strings.Contains(logs.String(), "getUpdates works again") {
		t.Errorf("recovery not logged")
	}
	if st := a.Status(); !st.Connected || st.LastError != "" {
		t.Errorf("status after recovery = %+v", st)
	}
}

func TestGetMeIsRetriedAtStart(t *testing.T) {
	fc := newFakeClock()
	tg := telegramtest.New(t, telegramtest.Options{})
	tg.FailNext("getMe", telegramtest.BadGateway(), telegramtest.BadGateway())
	a, err := New(fastConfig(tg), newFakeCore(), nil, withClock(fc))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	tg.Await(t, waitLimit, "setup after getMe", func() bool { return len(tg.Calls("deleteWebhook")) > 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := len(tg.Calls("getMe")); got != 3 {
		t.Errorf("%d getMe calls, want 3", got)
	}
	if w := fc.waits(); !slices.Equal(w[:2], []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("waits = %v", w)
	}
}

func TestRunStopsWhileTelegramIsUnreachable(t *testing.T) {
	// A closed port: getMe never works. Run must still return when asked.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a, err := New(Config{Token: "4242:fake-token-for-tests", APIURL: "http://" + addr}, newFakeCore(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return")
	}
}

// TestTokenNeverInLogsOrErrors drives every path where telebot reports the
// request URL (which holds the token): network errors on getMe, getUpdates
// and sends, and HTTP errors, then scans the whole debug log.
func TestTokenNeverInLogsOrErrors(t *testing.T) {
	const token = "987654321:AAH-secret-token_value"
	tg := telegramtest.New(t, telegramtest.Options{Token: token})
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// Start against a dead address first, so getMe fails with a network
	// error (the URL is in it), then against the fake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String()
	ln.Close()
	fc := newFakeClock()
	dead, err := New(Config{Token: token, APIURL: deadURL}, newFakeCore(), logger, withClock(fc))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dead.Run(ctx) }()
	logs.await(t, "cannot reach the bot")
	if st := dead.Status(); strings.Contains(st.LastError, token) || st.LastError == "" || st.Connected {
		t.Errorf("status while unreachable = %+v", st)
	}
	cancel()
	<-done

	cfg := fastConfig(tg)
	core := newFakeCore()
	a, err := New(cfg, core, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- a.Run(ctx2) }()
	tg.Await(t, waitLimit, "setup", func() bool { return len(tg.Calls("deleteWebhook")) > 0 })
	tg.FailNext("sendMessage", telegramtest.BadGateway(), telegramtest.BadGateway(), telegramtest.BadGateway(),
		telegramtest.BadGateway(), telegramtest.BadGateway(), telegramtest.BadGateway())
	var errs []error
	errs = append(errs, core.notifiers["telegram"].NotifyPrivately(context.Background(), bridge.Member{Platform: "telegram", ID: "1"}, "x"))
	tg.Close() // now every call fails with a network error
	errs = append(errs, core.notifiers["telegram"].NotifyPrivately(context.Background(), bridge.Member{Platform: "telegram", ID: "1"}, "x"))
	cancel2()
	<-done2

	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d did not fail", i)
			continue
		}
		if strings.Contains(err.Error(), token) || strings.Contains(fmt.Sprintf("%+v", err), token) {
			t.Errorf("error %d holds the token: %v", i, err)
		}
	}
	out := logs.String()
	for _, form := range []string{token, url.PathEscape(token), "AAH-secret-token_value"} {
		if strings.Contains(out, form) {
			t.Fatalf("the token (%q) is in the log:\n%s", form, out)
		}
	}
	if !strings.Contains(out, "bot[token]") && !strings.Contains(out, "[token]") {
		t.Errorf("no redacted URL in the log; did the failing paths run?\n%s", out)
	}
}

func TestRedactAndClassify(t *testing.T) {
	const token = "123:ABC-def_ghi"
	red := newRedactor(token)
	urlErr := &url.Error{Op: "Post", URL: "https://api.telegram.org/bot" + token + "/sendMessage", Err: io.ErrUnexpectedEOF}
	tests := []struct {
		name string
		err  error
		kind errKind
		code int
	}{
		{"network error", fmt.Errorf("telebot: %w", urlErr), kindTransient, 0},
		{"transport 5xx", fmt.Errorf("telebot: %w", &url.Error{Op: "Post", URL: "x/bot" + token + "/m", Err: &statusError{Method: "m", Status: 502}}), kindTransient, 502},
		{"telebot flood", tele.FloodError{RetryAfter: 5}, kindFlood, 429},
		{"telebot known 403", tele.ErrNotStartedByUser, kindForbidden, 403},
		{"telebot known 400", tele.ErrNoRightsToDelete, kindPermanent, 400},
		{"telebot unknown 400", errors.New("telegram: Bad Request: something new (400)"), kindPermanent, 400},
		{"telebot unknown 503", errors.New("telegram: Service Unavailable (503)"), kindTransient, 503},
		{"canceled", fmt.Errorf("telebot: %w", context.Canceled), kindCanceled, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "telebot flood" {
				// FloodError's message needs its unexported error; build
				// it the way telebot does, from a real answer.
				tt.err = floodFromTelebot(t)
			}
			ae := classify("sendMessage", tt.err, red)
			if ae.Kind != tt.kind || ae.Code != tt.code {
				t.Errorf("classify = kind %v code %d, want %v %d", ae.Kind, ae.Code, tt.kind, tt.code)
			}
			if strings.Contains(ae.Error(), "ABC-def_ghi") {
				t.Errorf("token in %q", ae.Error())
			}
		})
	}
	if got := red.redact("see https://x/bot999:OTHER_token/getMe"); strings.Contains(got, "OTHER_token") {
		t.Errorf("an unknown token survived: %q", got)
	}
}

// floodFromTelebot returns the error telebot makes of a real 429 answer.
func floodFromTelebot(t *testing.T) error {
	t.Helper()
	tg := telegramtest.New(t, telegramtest.Options{})
	b, err := tele.NewBot(tele.Settings{URL: tg.URL, Token: tg.Token, Offline: true, Client: &http.Client{Timeout: waitLimit}})
	if err != nil {
		t.Fatal(err)
	}
	tg.FailNext("sendMessage", telegramtest.TooManyRequests(5))
	_, err = b.Send(tele.ChatID(1), "x")
	var fe tele.FloodError
	if !errors.As(err, &fe) || fe.RetryAfter != 5 {
		t.Fatalf("telebot gave %v for a 429", err)
	}
	return err
}
