package telegram

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"sync"
	"time"

	"github.com/clmbridge/clmbridge/platform"
)

// transport wraps the HTTP transport telebot uses. It
//   - bounds every call (telebot sets no deadline of its own), ends the
//     calls that take updates when Run's context ends, and all calls when
//     the adapter stops;
//   - turns a 5xx answer into a *statusError: telebot ignores the HTTP
//     status and would take an HTML 502 page for success on some methods;
//   - counts failed calls in the metrics.
type transport struct {
	base        http.RoundTripper
	life        context.Context  // ends every call
	polling     context.Context  // ends the calls that take updates or start the bot
	turn        *pollTurn        // when set, ends getUpdates once this instance lost its poll gate
	callTimeout time.Duration    // any method but getUpdates
	pollTimeout time.Duration    // getUpdates (its long-poll timeout plus a margin)
	met         platform.Metrics // never nil
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	method := path.Base(req.URL.Path)
	timeout := t.callTimeout
	if method == "getUpdates" {
		timeout = t.pollTimeout
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	ends := t.life
	if t.polling != nil && (method == "getUpdates" || method == "getMe" || method == "setWebhook") {
		// When Run's context ends, an open getUpdates must not take more
		// updates, nor keep Run waiting for its long poll.
		ends = t.polling
	}
	if method == "getUpdates" && t.turn != nil {
		if c := t.turn.get(); c != nil {
			ends = c // derived from polling: ends with it too
		}
	}
	stop := context.AfterFunc(ends, cancel)
	release := func() { stop(); cancel() }

	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		if !errors.Is(err, context.Canceled) {
			t.met.APIError(Name, methodClass(method), 0)
		}
		return nil, err
	}
	if resp.StatusCode >= 400 {
		t.met.APIError(Name, methodClass(method), resp.StatusCode)
	}
	if resp.StatusCode >= 500 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		release()
		return nil, &statusError{Method: method, Status: resp.StatusCode}
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody frees the call's context when the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// methodClass is the class of a Bot API method, all the metrics record of
// a call.
func methodClass(method string) platform.APIClass {
	switch method {
	case "sendMessage", "sendDocument":
		return platform.ClassSend
	case "editMessageText", "editMessageReplyMarkup":
		return platform.ClassEdit
	case "deleteMessage":
		return platform.ClassDelete
	case "answerCallbackQuery", "answerInlineQuery":
		return platform.ClassAnswer
	case "getUpdates", "setWebhook", "deleteWebhook":
		return platform.ClassPoll
	case "setMyCommands":
		return platform.ClassRegister
	case "getMe", "getChatMember", "getChat", "getMyCommands":
		return platform.ClassMeta
	}
	return platform.ClassOther
}

// pollTurn holds the context of the current turn at the poll gate: the
// long poller sets it while it holds the gate, and the transport ends a
// getUpdates when it ends, so a lost gate stops an open long poll at once.
type pollTurn struct {
	mu  sync.Mutex
	ctx context.Context
}

func (p *pollTurn) get() context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ctx
}

// set makes ctx the current turn.
func (p *pollTurn) set(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ctx = ctx
}

// end forgets the current turn (this instance no longer polls).
func (p *pollTurn) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ctx = nil
}
