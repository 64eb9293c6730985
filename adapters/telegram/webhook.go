package telegram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"
)

// Limits of the webhook server.
const (
	maxUpdateBody = 1 << 20 // bytes of one update
	secretHeader  = "X-Telegram-Bot-Api-Secret-Token"
)

// webhookPoller is a tele.Poller that registers a webhook with Telegram and
// serves it. telebot's own Webhook compares the secret with != and answers
// 200 to a wrong one; this one compares in constant time and answers 401.
type webhookPoller struct {
	a *Adapter

	mu     sync.Mutex
	ln     net.Listener
	srv    *http.Server
	secret string
	dest   chan tele.Update
	stop   chan struct{}
}

// listen opens the listening socket (before anything else, so a wrong
// address fails Run at once) and picks the secret.
func (w *webhookPoller) listen() error {
	secret := w.a.cfg.WebhookSecret
	if secret == "" {
		secret = derivedWebhookSecret(w.a.cfg.Token)
	}
	ln, err := listenTCP(w.a.cfg.WebhookListen)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.ln, w.secret = ln, secret
	w.mu.Unlock()
	return nil
}

func (w *webhookPoller) addr() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ln == nil {
		return ""
	}
	return w.ln.Addr().String()
}

// Poll implements tele.Poller: it serves the webhook, registers it with
// Telegram (retrying with a backoff), and returns when stop is closed.
func (w *webhookPoller) Poll(b *tele.Bot, dest chan tele.Update, stop chan struct{}) {
	w.mu.Lock()
	w.dest, w.stop = dest, stop
	w.srv = &http.Server{
		Handler:           w,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	srv, ln := w.srv, w.ln
	w.mu.Unlock()

	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.a.log.Error("telegram: the webhook server stopped", "error", w.a.red.err(err))
		}
	}()

	ctx, cancel := context.WithCancel(w.a.polling)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	w.register(ctx, b)

	<-ctx.Done()
	shutCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutCtx)
	<-served
}

// register calls setWebhook until Telegram accepts it or ctx ends.
func (w *webhookPoller) register(ctx context.Context, b *tele.Bot) {
	allowed, _ := json.Marshal(allowedUpdates())
	params := map[string]string{
		"url":             w.a.cfg.WebhookURL,
		"secret_token":    w.secret,
		"allowed_updates": string(allowed),
	}
	for attempt := 1; ctx.Err() == nil; attempt++ {
		_, err := b.Raw("setWebhook", params)
		if err == nil {
			w.a.setConnected(true, nil)
			w.a.log.Info("telegram: webhook registered", "listen", w.addr())
			return
		}
		ae := classify("setWebhook", err, w.a.red)
		w.a.setConnected(false, ae)
		wait := backoff(attempt, pollBackoffBase, pollBackoffMax)
		if ae.Kind == kindFlood && ae.RetryAfter > 0 {
			wait = ae.RetryAfter
		}
		w.a.log.Warn("telegram: setWebhook failed, retrying", "attempt", attempt, "retry_in", wait,
			"error", ae.Error(), "hint", "CLM_TELEGRAM_WEBHOOK_URL must be a public https URL")
		if w.a.opts.clock.Sleep(ctx, wait) != nil {
			return
		}
	}
}

// ServeHTTP receives one update from Telegram.
func (w *webhookPoller) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if !sameSecret(r.Header.Get(secretHeader), w.secret) {
		w.a.log.Warn("telegram: webhook request with a wrong or missing secret token", "remote", remoteIP(r))
		http.Error(rw, "unauthorized", http.StatusUnauthorized)
		return
	}
	var u tele.Update
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxUpdateBody)).Decode(&u); err != nil {
		http.Error(rw, "bad update", http.StatusBadRequest)
		return
	}
	select {
	case w.dest <- u:
		rw.WriteHeader(http.StatusOK)
	case <-w.stop:
		http.Error(rw, "stopping", http.StatusServiceUnavailable)
	case <-r.Context().Done():
	}
}

// derivedWebhookSecret is the webhook's secret token when
// CLM_TELEGRAM_WEBHOOK_SECRET is not set: an HMAC of a fixed label keyed
// with the bot token. Every instance of a cluster (each registers the
// webhook at start, and Telegram keeps only the last registration's
// secret) and every restart derive the same one, with nothing to
// configure; nobody without the token can compute it, and whoever has the
// token commands the bot anyway.
func derivedWebhookSecret(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("clm-bridge telegram webhook secret_token v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// sameSecret compares a received secret token with ours in constant time
// (hashing first, so not even the length leaks).
func sameSecret(got, want string) bool {
	g, h := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], h[:]) == 1 && want != ""
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return strings.TrimSpace(r.RemoteAddr)
	}
	return host
}

// close closes the listener if Poll never ran.
func (w *webhookPoller) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.srv == nil && w.ln != nil {
		_ = w.ln.Close()
	}
}
