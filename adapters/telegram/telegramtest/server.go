// Package telegramtest is a fake Telegram Bot API server on 127.0.0.1 for
// tests. It serves the methods the bridge uses (getMe, long-polled
// getUpdates, sendMessage, editMessageText, deleteMessage,
// answerCallbackQuery, answerInlineQuery, setMyCommands, sendDocument,
// setWebhook, deleteWebhook), keeps a transcript of every chat, records every
// call with its decoded parameters, and lets a test play members (messages,
// photos with captions, edits, button presses, inline queries, leaving a
// group) and inject failures (429, 5xx, 403) per method.
//
// As Telegram does, it answers 409 Conflict to a getUpdates held open when
// a newer one arrives (two instances polling one bot), and to any
// getUpdates while a webhook is set. In webhook mode a test takes the
// pending updates (TakeUpdates) and posts them (PostUpdate) to any of
// several instances' webhook listeners, as a load balancer would.
//
// Like Telegram, it delivers an update only when its type is in the
// allowed_updates of the bot's last getUpdates or setWebhook (an empty list,
// or none ever given, means every type but chat_member and the reaction
// types), and chat_member updates only from groups where the bot is an
// admin. A message to a user who never started the bot fails with 403, or
// with 400 "chat not found" (see NeverStarted and NeverStartedNotFound).
//
// It is not a Telegram emulator: it models only what the bridge relies on,
// with Telegram's own error texts where the bridge reacts to them.
// Everything is bounded: request bodies, recorded calls, pending updates and
// how long a getUpdates is held open.
package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// Limits of the fake, so a runaway client cannot exhaust a test machine.
const (
	maxBody      = 20 << 20 // bytes of one request body
	maxCalls     = 100_000  // recorded calls
	maxPending   = 10_000   // updates not yet confirmed by getUpdates
	maxBatch     = 100      // updates in one getUpdates answer
	defaultHold  = 2 * time.Second
	maxTextUnits = 4096 // Telegram's message length, in UTF-16 code units
	maxAlert     = 200  // answerCallbackQuery text, in UTF-16 code units
	maxCallback  = 64   // bytes of callback_data
)

// Options configure a Server. The zero value gives a bot "clm_bot" (id 42)
// with privacy mode on, as Telegram creates bots.
type Options struct {
	Token       string // default "4242:fake-token-for-tests"
	BotUsername string // default "clm_bot"
	BotID       int64  // default 42
	// ReadAllGroupMessages is getMe's can_read_all_group_messages: false
	// means privacy mode is on.
	ReadAllGroupMessages bool
	// MaxHold caps how long a getUpdates is held open waiting for updates
	// (default 2s), whatever timeout the client asks for.
	MaxHold time.Duration
}

// Failure is an answer the server gives instead of performing a call.
type Failure struct {
	Status      int    // HTTP status
	Description string // Bot API description ("Too Many Requests: retry after 1")
	RetryAfter  int    // parameters.retry_after, for 429
	// HTML makes the body an HTML page instead of Bot API JSON, as a proxy
	// in front of Telegram answers a 502.
	HTML bool
}

// TooManyRequests is Telegram's flood-control answer.
func TooManyRequests(retryAfter int) Failure {
	return Failure{Status: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter), RetryAfter: retryAfter}
}

// BadGateway is a 502 with an HTML body, as nginx in front of the Bot API
// answers when Telegram's backend is unavailable.
func BadGateway() Failure {
	return Failure{Status: 502, Description: "Bad Gateway", HTML: true}
}

// InternalError is a 500 with a Bot API JSON body.
func InternalError() Failure {
	return Failure{Status: 500, Description: "Internal Server Error"}
}

// Forbidden is a 403 with the given description ("Forbidden: bot was
// blocked by the user", …).
func Forbidden(description string) Failure {
	return Failure{Status: 403, Description: description}
}

// File is an uploaded file of a sendDocument call.
type File struct {
	Name    string
	Content []byte
}

// Call is one recorded API call.
type Call struct {
	Method string
	// Params holds every parameter as text: JSON strings as they are, other
	// JSON values (numbers, booleans, objects) as their JSON text, multipart
	// fields as sent.
	Params map[string]string
	Files  map[string]File
	// OK is true when the server performed the call and answered ok:true.
	OK bool
	// Status is the HTTP status of the answer; Description the Bot API
	// error description when not OK.
	Status      int
	Description string
	// Injected is true when the answer was an injected Failure.
	Injected bool

	injectedFailure *Failure
}

// Entry is one message of a chat's transcript.
type Entry struct {
	Message
	Deleted bool
	// ByBot is true for messages the bot sent (sendMessage, sendDocument).
	ByBot bool
}

// Server is a fake Bot API. Create it with New; it closes itself when the
// test ends.
type Server struct {
	// URL is the API base URL to give the client (telebot's Settings.URL).
	URL string
	// Token is the bot token the server accepts.
	Token string
	// Bot is the bot's own user.
	Bot User

	tb      testing.TB
	srv     *httptest.Server
	maxHold time.Duration
	closing chan struct{}
	once    sync.Once

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every change
	calls       []Call
	pending     []Update
	nextUpdate  int
	nextMsg     int
	nextID      int
	chats       map[int64]Chat
	msgs        map[int64][]*Entry // per chat, in order
	unreachable map[int64]Failure  // chat id → the answer to a message there
	allowed     map[string]bool    // allowed_updates last asked for; nil: the default set
	notAdmin    map[int64]bool     // groups where the bot cannot delete others' messages
	failQueue   map[string][]Failure
	failer      func(method string, params map[string]string) *Failure
	inline      map[string][]inlineResult // inline query id → answered results
	queries     map[string]string         // callback query id → state ("open", "answered")
	holding     int                       // getUpdates calls waiting for updates now
	polls       int                       // getUpdates calls received: a held one older than the last is terminated
	webhookURL  string
	webhookSec  string
	commands    string
	revoked     bool // Revoke: every call answers 401
}

type inlineResult struct {
	ID, Title, Text string
}

// New starts a fake Bot API on 127.0.0.1 and closes it when tb's test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Token == "" {
		opts.Token = "4242:fake-token-for-tests"
	}
	if opts.BotUsername == "" {
		opts.BotUsername = "clm_bot"
	}
	if opts.BotID == 0 {
		opts.BotID = 42
	}
	if opts.MaxHold <= 0 {
		opts.MaxHold = defaultHold
	}
	s := &Server{
		Token: opts.Token,
		Bot: User{ID: opts.BotID, IsBot: true, FirstName: "CLM Bridge", Username: opts.BotUsername,
			CanJoinGroups: true, CanReadAllGroupMessages: opts.ReadAllGroupMessages, SupportsInlineQueries: true},
		tb:          tb,
		maxHold:     opts.MaxHold,
		closing:     make(chan struct{}),
		changed:     make(chan struct{}),
		nextMsg:     100,
		chats:       map[int64]Chat{},
		msgs:        map[int64][]*Entry{},
		unreachable: map[int64]Failure{},
		notAdmin:    map[int64]bool{},
		failQueue:   map[string][]Failure{},
		inline:      map[string][]inlineResult{},
		queries:     map[string]string{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server, releasing held getUpdates calls first.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// notify wakes everyone waiting for a change. Callers hold s.mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ---- configuration -------------------------------------------------------

// FailNext makes the next len(fs) calls of method answer with fs, in order.
func (s *Server) FailNext(method string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failQueue[method] = append(s.failQueue[method], fs...)
}

// SetFailer installs f, asked before every call that FailNext did not fail:
// a non-nil answer is given instead of performing the call. nil removes it.
// f runs with the server's lock held: it must not call the Server.
func (s *Server) SetFailer(f func(method string, params map[string]string) *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failer = f
}

// Revoke revokes the bot's token, as /revoke in @BotFather does: from now
// on every call answers 401 Unauthorized, as Telegram does.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
	s.notify()
}

// NeverStarted marks u as someone who never wrote to the bot: a message to
// them fails with Telegram's 403 "bot can't initiate conversation".
func (s *Server) NeverStarted(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unreachable[u.ID] = Failure{Status: 403, Description: "Forbidden: bot can't initiate conversation with a user"}
}

// NeverStartedNotFound marks u as someone who never wrote to the bot, for
// whom Telegram answers a message with 400 "Bad Request: chat not found"
// instead of 403 (it does so for users the bot has never met).
func (s *Server) NeverStartedNotFound(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unreachable[u.ID] = Failure{Status: 400, Description: "Bad Request: chat not found"}
}

// GroupGone makes group vanish for the bot (deleted, or the bot was
// removed long ago): a message to it fails with 400 "chat not found".
func (s *Server) GroupGone(group Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unreachable[group.ID] = Failure{Status: 400, Description: "Bad Request: chat not found"}
}

// SetAdmin says whether the bot is an admin of group (default true): a
// non-admin bot cannot delete other people's messages.
func (s *Server) SetAdmin(group Chat, admin bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notAdmin[group.ID] = !admin
}

// ---- playing members -----------------------------------------------------

// Inject queues a raw update (its UpdateID is assigned) and returns it.
func (s *Server) Inject(u Update) Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.injectLocked(u)
}

func (s *Server) injectLocked(u Update) Update {
	if len(s.pending) >= maxPending {
		s.tb.Errorf("telegramtest: more than %d updates pending; is the bot polling?", maxPending)
		return u
	}
	s.nextUpdate++
	u.UpdateID = s.nextUpdate
	s.pending = append(s.pending, u)
	s.notify()
	return u
}

// SendText plays from writing text in chat (a private chat with the bot, or
// a group) and returns the message as the bot will see it.
func (s *Server) SendText(from User, chat Chat, text string) Message {
	return s.send(from, chat, text, nil, nil)
}

// ReplyText plays from replying to msg with text.
func (s *Server) ReplyText(from User, msg Message, text string) Message {
	return s.send(from, msg.Chat, text, &msg, nil)
}

func (s *Server) send(from User, chat Chat, text string, replyTo *Message, via *User) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if chat.Type == "private" {
		// Writing to the bot starts the conversation.
		delete(s.unreachable, from.ID)
	}
	m := s.storeLocked(Message{From: &from, Chat: chat, Text: text, ViaBot: via}, replyTo, false)
	s.injectLocked(Update{Message: &m})
	return m
}

// SendPhoto plays from posting a photo with caption in chat. As in
// Telegram, the text is the message's caption, not its text.
func (s *Server) SendPhoto(from User, chat Chat, caption string) Message {
	return s.sendPhoto(from, chat, caption, nil)
}

// ReplyPhoto plays from replying to msg with a photo with caption.
func (s *Server) ReplyPhoto(from User, msg Message, caption string) Message {
	return s.sendPhoto(from, msg.Chat, caption, &msg)
}

func (s *Server) sendPhoto(from User, chat Chat, caption string, replyTo *Message) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := "photo" + strconv.Itoa(s.nextID)
	photo := []PhotoSize{
		{FileID: id + "s", FileUniqueID: id + "s", Width: 90, Height: 60},
		{FileID: id + "m", FileUniqueID: id + "m", Width: 800, Height: 533},
	}
	m := s.storeLocked(Message{From: &from, Chat: chat, Caption: caption, Photo: photo}, replyTo, false)
	s.injectLocked(Update{Message: &m})
	return m
}

// Edit plays from editing their message msg to say text (its caption, for
// a photo or document) and returns the edited message, which the bot gets
// as an edited_message update.
func (s *Server) Edit(from User, msg Message, text string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.findLocked(msg.Chat.ID, msg.MessageID)
	switch {
	case e == nil || e.Deleted:
		return Message{}, fmt.Errorf("telegramtest: message %d of chat %d is gone", msg.MessageID, msg.Chat.ID)
	case e.ByBot || e.From == nil || e.From.ID != from.ID:
		return Message{}, fmt.Errorf("telegramtest: %s cannot edit message %d: not theirs", from.FirstName, msg.MessageID)
	}
	if e.Photo != nil || e.Document != nil {
		e.Caption, e.CaptionEntities = text, commandEntities(text)
	} else {
		e.Text, e.Entities = text, commandEntities(text)
	}
	e.EditDate = time.Now().Unix()
	m := e.Message
	s.injectLocked(Update{EditedMessage: &m})
	return m, nil
}

// Leave plays u leaving group, as Telegram tells a bot: a service message
// with left_chat_member and a chat_member update (status "left"), each
// delivered only if the bot asked for it (see the package comment).
func (s *Server) Leave(u User, group Chat) {
	s.memberGone(u, u, group, "left")
}

// Remove plays admin removing (banning) u from group: a service message
// with left_chat_member from admin and a chat_member update with status
// "kicked".
func (s *Server) Remove(admin, u User, group Chat) {
	s.memberGone(admin, u, group, "kicked")
}

func (s *Server) memberGone(by, u User, group Chat, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := u
	m := s.storeLocked(Message{From: &by, Chat: group, LeftChatMember: &left}, nil, false)
	s.injectLocked(Update{Message: &m})
	s.injectLocked(Update{ChatMember: &ChatMemberUpdated{
		Chat: group, From: by, Date: time.Now().Unix(),
		OldChatMember: ChatMember{Status: "member", User: u},
		NewChatMember: ChatMember{Status: status, User: u},
	}})
}

// AllowedUpdates returns the allowed_updates of the bot's last getUpdates
// or setWebhook that named any, nil while it uses the default set.
func (s *Server) AllowedUpdates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.allowed == nil {
		return nil
	}
	out := make([]string, 0, len(s.allowed))
	for t := range s.allowed {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// PressButton plays from pressing the inline button with callback data on
// msg (a message the bot sent) and returns the callback query id.
func (s *Server) PressButton(from User, msg Message, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := "cb" + strconv.Itoa(s.nextID)
	s.queries[id] = "open"
	cur := msg
	if e := s.findLocked(msg.Chat.ID, msg.MessageID); e != nil {
		cur = e.Message
	}
	s.injectLocked(Update{CallbackQuery: &CallbackQuery{ID: id, From: from, Message: &cur,
		ChatInstance: strconv.FormatInt(msg.Chat.ID, 10), Data: data}})
	return id
}

// InlineQuery plays from typing "@bot query" and returns the query id.
func (s *Server) InlineQuery(from User, query string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := "iq" + strconv.Itoa(s.nextID)
	s.injectLocked(Update{InlineQuery: &InlineQuery{ID: id, From: from, Query: query, ChatType: "supergroup"}})
	return id
}

// InlineResults returns the titles and message texts the bot answered to
// inline query id (nil if it has not answered).
func (s *Server) InlineResults(id string) (titles, texts []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.inline[id] {
		titles = append(titles, r.Title)
		texts = append(texts, r.Text)
	}
	return titles, texts
}

// InlineResultIDs returns the result ids the bot answered to inline query
// id (nil if it has not answered), to forge chosen_inline_result updates.
func (s *Server) InlineResultIDs(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, r := range s.inline[id] {
		ids = append(ids, r.ID)
	}
	return ids
}

// ChooseInlineResult plays from picking result number i (0-based) of inline
// query id in chat: as Telegram does, the result's text is posted in chat as
// from's message "via" the bot, and a chosen_inline_result update is sent.
func (s *Server) ChooseInlineResult(from User, chat Chat, id string, i int) (Message, error) {
	s.mu.Lock()
	rs := s.inline[id]
	s.mu.Unlock()
	if i < 0 || i >= len(rs) {
		return Message{}, fmt.Errorf("telegramtest: inline query %s has %d results, not %d", id, len(rs), i+1)
	}
	bot := s.Bot
	m := s.send(from, chat, rs[i].Text, nil, &bot)
	s.Inject(Update{ChosenInlineResult: &ChosenInlineResult{ResultID: rs[i].ID, From: from}})
	return m, nil
}

// ---- inspection ----------------------------------------------------------

// Calls returns a copy of every recorded call, in order. With methods given,
// only calls of those methods.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Transcript returns every message of chat in order (members' and the
// bot's, deleted ones marked).
func (s *Server) Transcript(chat int64) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.msgs[chat]))
	for _, e := range s.msgs[chat] {
		out = append(out, *e)
	}
	return out
}

// BotMessages returns the messages the bot sent to chat that are still
// there, in order.
func (s *Server) BotMessages(chat int64) []Message {
	var out []Message
	for _, e := range s.Transcript(chat) {
		if e.ByBot && !e.Deleted {
			out = append(out, e.Message)
		}
	}
	return out
}

// Message returns the current state of message id in chat.
func (s *Server) Message(chat int64, id int) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.findLocked(chat, id); e != nil {
		return *e, true
	}
	return Entry{}, false
}

// Webhook returns the URL and secret token of the last setWebhook ("" when
// none is set).
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.webhookSec
}

// Commands returns the JSON of the last setMyCommands commands parameter.
func (s *Server) Commands() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands
}

// Holding reports how many getUpdates calls are open, waiting for updates.
func (s *Server) Holding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holding
}

// Pending reports how many updates the bot has not yet confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Await blocks until cond returns true, re-checking after every change of
// the server (a call, an update), and fails the test after timeout. cond
// may call the Server.
func (s *Server) Await(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			if !cond() {
				tb.Fatalf("telegramtest: timed out after %v waiting for %s", timeout, what)
			}
			return
		}
	}
}

// ---- the HTTP side -------------------------------------------------------

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	prefix := "/bot" + s.Token + "/"
	s.mu.Lock()
	revoked := s.revoked
	s.mu.Unlock()
	if revoked || !strings.HasPrefix(r.URL.Path, prefix) {
		writeJSON(w, 401, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	method := strings.TrimPrefix(r.URL.Path, prefix)
	params, files, err := decodeParams(http.MaxBytesReader(w, r.Body, maxBody), r.Header.Get("Content-Type"))
	if err != nil {
		writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
		return
	}
	call := Call{Method: method, Params: params, Files: files}

	if method == "getUpdates" {
		s.getUpdates(w, r, call)
		return
	}

	s.mu.Lock()
	status, body := s.performLocked(&call)
	call.Status = status
	s.recordLocked(call)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f := call.injectedFailure; f != nil && f.HTML {
		w.Header().Set("Content-Type", "text/html")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) recordLocked(c Call) {
	if len(s.calls) >= maxCalls {
		s.tb.Errorf("telegramtest: more than %d calls; is the client looping?", maxCalls)
		return
	}
	c.injectedFailure = nil
	s.calls = append(s.calls, c)
	s.notify()
}

// injectedFailureLocked returns the failure to give to c, if any.
func (s *Server) injectedFailureLocked(c *Call) *Failure {
	if q := s.failQueue[c.Method]; len(q) > 0 {
		f := q[0]
		s.failQueue[c.Method] = q[1:]
		return &f
	}
	if s.failer != nil {
		return s.failer(c.Method, c.Params)
	}
	return nil
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, call Call) {
	offset, _ := strconv.Atoi(call.Params["offset"])
	timeout, _ := strconv.Atoi(call.Params["timeout"])
	hold := min(time.Duration(timeout)*time.Second, s.maxHold)
	timer := time.NewTimer(hold)
	defer timer.Stop()

	s.mu.Lock()
	if f := s.injectedFailureLocked(&call); f != nil {
		call.injectedFailure = f
		status, body := failureBody(&call, *f)
		call.Status = status
		s.recordLocked(call)
		s.mu.Unlock()
		if f.HTML {
			w.Header().Set("Content-Type", "text/html")
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	if s.webhookURL != "" {
		s.refusePollLocked(w, call, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
		return
	}
	if f := s.setAllowedLocked(call.Params); f != nil {
		status, body := failureBody(&call, *f)
		call.Status = status
		s.recordLocked(call)
		s.mu.Unlock()
		writeRaw(w, status, body)
		return
	}
	// Like Telegram, a getUpdates ends the one still held for the same
	// bot: the older call is answered 409.
	s.polls++
	mine := s.polls
	if s.holding > 0 {
		s.notify()
	}
	for {
		s.confirmLocked(offset)
		s.dropUnwantedLocked()
		if len(s.pending) > 0 {
			break
		}
		s.holding++
		s.notify()
		// Wait for the next change (taken after notify, or the poll
		// would wake itself at once and spin).
		ch := s.changed
		s.mu.Unlock()
		done := false
		select {
		case <-ch:
		case <-timer.C:
			done = true
		case <-r.Context().Done():
			done = true
		case <-s.closing:
			done = true
		}
		s.mu.Lock()
		s.holding--
		if s.revoked { // a held poll ends as the next call would
			s.mu.Unlock()
			writeJSON(w, 401, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
			return
		}
		if s.polls != mine {
			s.refusePollLocked(w, call, ConflictDescription)
			return
		}
		if done {
			s.confirmLocked(offset)
			s.dropUnwantedLocked()
			break
		}
	}
	batch := s.pending[:min(len(s.pending), maxBatch)]
	body, _ := json.Marshal(map[string]any{"ok": true, "result": batch})
	call.OK, call.Status = true, 200
	s.recordLocked(call)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// ConflictDescription is Telegram's answer (409) to a getUpdates that a
// newer getUpdates of the same bot terminated: two instances are polling.
const ConflictDescription = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"

// refusePollLocked answers call (a getUpdates) with a 409 Conflict saying
// why, records it and unlocks s.mu.
func (s *Server) refusePollLocked(w http.ResponseWriter, call Call, description string) {
	status, body := failureBody(&call, Failure{Status: http.StatusConflict, Description: description})
	call.Status = status
	s.recordLocked(call)
	s.mu.Unlock()
	writeRaw(w, status, body)
}

// Conflicts returns how many getUpdates calls were answered 409 Conflict
// (terminated by a newer getUpdates, or made while a webhook is set).
func (s *Server) Conflicts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Method == "getUpdates" && c.Status == http.StatusConflict {
			n++
		}
	}
	return n
}

// TakeUpdates removes and returns the pending updates the bot asked for,
// as Telegram does when it posts them to a webhook: a test then posts each
// (PostUpdate) to whichever instance a load balancer would pick.
func (s *Server) TakeUpdates() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropUnwantedLocked()
	out := append([]Update(nil), s.pending...)
	clear(s.pending)
	s.pending = s.pending[:0]
	s.notify()
	return out
}

// confirmLocked drops every update below offset, as Telegram does when a
// getUpdates asks for offset.
func (s *Server) confirmLocked(offset int) {
	keep := s.pending[:0]
	for _, u := range s.pending {
		if u.UpdateID >= offset {
			keep = append(keep, u)
		}
	}
	s.pending = keep
}

// performLocked does call c and returns the HTTP status and body.
func (s *Server) performLocked(c *Call) (int, []byte) {
	if f := s.injectedFailureLocked(c); f != nil {
		c.injectedFailure = f
		return failureBody(c, *f)
	}
	result, failure := s.dispatchLocked(c)
	if failure != nil {
		return failureBody(c, *failure)
	}
	c.OK = true
	body, _ := json.Marshal(map[string]any{"ok": true, "result": result})
	return 200, body
}

func failureBody(c *Call, f Failure) (int, []byte) {
	c.Injected = c.injectedFailure != nil
	c.Description = f.Description
	if f.HTML {
		return f.Status, []byte("<html><head><title>" + strconv.Itoa(f.Status) + " " + f.Description +
			"</title></head><body><center><h1>" + strconv.Itoa(f.Status) + " " + f.Description + "</h1></center></body></html>\n")
	}
	e := map[string]any{"ok": false, "error_code": f.Status, "description": f.Description}
	if f.RetryAfter > 0 {
		e["parameters"] = map[string]any{"retry_after": f.RetryAfter}
	}
	body, _ := json.Marshal(e)
	return f.Status, body
}

func badRequest(desc string) *Failure {
	return &Failure{Status: 400, Description: "Bad Request: " + desc}
}

// dispatchLocked performs one method and returns its result.
func (s *Server) dispatchLocked(c *Call) (any, *Failure) {
	p := c.Params
	switch c.Method {
	case "getMe":
		return s.Bot, nil
	case "setMyCommands":
		s.commands = p["commands"]
		return true, nil
	case "deleteWebhook":
		s.webhookURL, s.webhookSec = "", ""
		return true, nil
	case "setWebhook":
		if f := s.setAllowedLocked(p); f != nil {
			return nil, f
		}
		s.webhookURL, s.webhookSec = p["url"], p["secret_token"]
		return true, nil
	case "sendMessage":
		return s.sendLocked(p, p["text"], nil)
	case "sendDocument":
		f, ok := c.Files["document"]
		if !ok {
			return nil, badRequest("there is no document in the request")
		}
		s.nextID++
		doc := &Document{FileID: "doc" + strconv.Itoa(s.nextID), FileUniqueID: "u" + strconv.Itoa(s.nextID),
			FileName: f.Name, FileSize: len(f.Content)}
		return s.sendLocked(p, p["caption"], doc)
	case "editMessageText":
		chat, _ := strconv.ParseInt(p["chat_id"], 10, 64)
		id, _ := strconv.Atoi(p["message_id"])
		e := s.findLocked(chat, id)
		if e == nil || e.Deleted {
			return nil, badRequest("message to edit not found")
		}
		if !e.ByBot {
			return nil, badRequest("message can't be edited")
		}
		if p["text"] == "" {
			return nil, badRequest("message text is empty")
		}
		e.Text, e.EditDate = p["text"], time.Now().Unix()
		if rm, ok := p["reply_markup"]; ok {
			e.ReplyMarkup = json.RawMessage(rm)
		}
		return e.Message, nil
	case "deleteMessage":
		chat, _ := strconv.ParseInt(p["chat_id"], 10, 64)
		id, _ := strconv.Atoi(p["message_id"])
		e := s.findLocked(chat, id)
		if e == nil || e.Deleted {
			return nil, badRequest("message to delete not found")
		}
		if !e.ByBot && s.notAdmin[chat] {
			return nil, badRequest("message can't be deleted")
		}
		e.Deleted = true
		return true, nil
	case "answerCallbackQuery":
		id := p["callback_query_id"]
		if s.queries[id] != "open" {
			return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
		}
		if units(p["text"]) > maxAlert {
			return nil, badRequest("MESSAGE_TOO_LONG")
		}
		s.queries[id] = "answered"
		return true, nil
	case "answerInlineQuery":
		id := p["inline_query_id"]
		if _, done := s.inline[id]; done {
			return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
		}
		var rs []struct {
			ID    string `json:"id"`
			Type  string `json:"type"`
			Title string `json:"title"`
			Input struct {
				Text string `json:"message_text"`
			} `json:"input_message_content"`
			Text string `json:"message_text"`
		}
		if err := json.Unmarshal([]byte(p["results"]), &rs); err != nil {
			return nil, badRequest("can't parse inline query results")
		}
		out := []inlineResult{}
		for _, r := range rs {
			text := r.Input.Text
			if text == "" {
				text = r.Text
			}
			if r.ID == "" || len(r.ID) > 64 || text == "" || units(text) > maxTextUnits {
				return nil, badRequest("RESULT_ID_INVALID or MESSAGE_EMPTY")
			}
			out = append(out, inlineResult{ID: r.ID, Title: r.Title, Text: text})
		}
		s.inline[id] = out
		return true, nil
	}
	return nil, &Failure{Status: 404, Description: "Not Found: method not found"}
}

// sendLocked makes the bot post a message (text or document) to chat_id.
func (s *Server) sendLocked(p map[string]string, text string, doc *Document) (any, *Failure) {
	chatID, err := strconv.ParseInt(p["chat_id"], 10, 64)
	if err != nil || chatID == 0 {
		return nil, badRequest("chat not found")
	}
	if f, ok := s.unreachable[chatID]; ok {
		return nil, &f
	}
	if doc == nil && strings.TrimSpace(text) == "" {
		return nil, badRequest("message text is empty")
	}
	if units(text) > maxTextUnits {
		return nil, badRequest("message is too long")
	}
	var replyTo *Message
	if r := p["reply_to_message_id"]; r != "" {
		id, _ := strconv.Atoi(r)
		e := s.findLocked(chatID, id)
		switch {
		case e != nil && !e.Deleted:
			m := e.Message
			m.ReplyTo = nil
			replyTo = &m
		case p["allow_sending_without_reply"] != "true":
			return nil, badRequest("message to be replied not found")
		}
	}
	var markup json.RawMessage
	if rm := p["reply_markup"]; rm != "" {
		var kb InlineKeyboard
		if json.Unmarshal([]byte(rm), &kb) != nil {
			return nil, badRequest("can't parse reply keyboard markup JSON object")
		}
		for _, row := range kb.InlineKeyboard {
			for _, b := range row {
				if len(b.CallbackData) > maxCallback {
					return nil, badRequest("BUTTON_DATA_INVALID")
				}
			}
		}
		markup = json.RawMessage(rm)
	}
	chat, ok := s.chats[chatID]
	if !ok {
		chat = Chat{ID: chatID, Type: "supergroup"}
		if chatID > 0 {
			chat.Type = "private"
		}
	}
	bot := s.Bot
	m := Message{From: &bot, Chat: chat, Text: text, Document: doc, ReplyMarkup: markup}
	return s.storeLocked(m, replyTo, true), nil
}

// storeLocked assigns an id and date to m, appends it to its chat's
// transcript and returns it.
func (s *Server) storeLocked(m Message, replyTo *Message, byBot bool) Message {
	s.nextMsg++
	m.MessageID = s.nextMsg
	m.Date = time.Now().Unix()
	if replyTo != nil {
		r := *replyTo
		r.ReplyTo = nil
		m.ReplyTo = &r
	}
	m.Entities = commandEntities(m.Text)
	m.CaptionEntities = commandEntities(m.Caption)
	if _, ok := s.chats[m.Chat.ID]; !ok {
		s.chats[m.Chat.ID] = m.Chat
	}
	s.msgs[m.Chat.ID] = append(s.msgs[m.Chat.ID], &Entry{Message: m, ByBot: byBot})
	return m
}

// commandEntities marks a leading "/command" of text as Telegram does.
func commandEntities(text string) []Entity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	word, _, _ := strings.Cut(text, " ")
	word, _, _ = strings.Cut(word, "\n")
	return []Entity{{Type: "bot_command", Offset: 0, Length: units(word)}}
}

// setAllowedLocked remembers the allowed_updates of a getUpdates or
// setWebhook call, if it names any; as in Telegram, a call without the
// parameter keeps the previous list, and an empty list means the default.
func (s *Server) setAllowedLocked(p map[string]string) *Failure {
	raw, ok := p["allowed_updates"]
	if !ok {
		return nil
	}
	var list []string
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return badRequest("can't parse allowed_updates JSON array")
	}
	if len(list) == 0 {
		s.allowed = nil
		return nil
	}
	s.allowed = map[string]bool{}
	for _, t := range list {
		s.allowed[t] = true
	}
	return nil
}

// wantedLocked reports whether Telegram would deliver u to the bot now.
func (s *Server) wantedLocked(u Update) bool {
	t := u.Type()
	if t == "chat_member" && s.notAdmin[u.ChatMember.Chat.ID] {
		return false // only admins get other members' changes
	}
	if s.allowed == nil {
		switch t {
		case "chat_member", "message_reaction", "message_reaction_count":
			return false
		}
		return true
	}
	return s.allowed[t]
}

// dropUnwantedLocked forgets the pending updates the bot did not ask for:
// Telegram never makes them.
func (s *Server) dropUnwantedLocked() {
	keep := s.pending[:0]
	for _, u := range s.pending {
		if s.wantedLocked(u) {
			keep = append(keep, u)
		}
	}
	clear(s.pending[len(keep):])
	s.pending = keep
}

func (s *Server) findLocked(chat int64, id int) *Entry {
	for _, e := range s.msgs[chat] {
		if e.MessageID == id {
			return e
		}
	}
	return nil
}

// decodeParams reads a JSON, multipart or form body into text parameters.
func decodeParams(body io.Reader, contentType string) (map[string]string, map[string]File, error) {
	params := map[string]string{}
	mediaType, mp, _ := mime.ParseMediaType(contentType)
	switch {
	case mediaType == "multipart/form-data":
		mr := multipart.NewReader(body, mp["boundary"])
		form, err := mr.ReadForm(maxBody)
		if err != nil {
			return nil, nil, fmt.Errorf("bad multipart body: %v", err)
		}
		defer func() { _ = form.RemoveAll() }()
		for k, v := range form.Value {
			params[k] = v[0]
		}
		files := map[string]File{}
		for k, fhs := range form.File {
			f, err := fhs[0].Open()
			if err != nil {
				return nil, nil, err
			}
			data, err := io.ReadAll(f)
			_ = f.Close()
			if err != nil {
				return nil, nil, err
			}
			files[k] = File{Name: fhs[0].Filename, Content: data}
		}
		return params, files, nil
	case mediaType == "application/x-www-form-urlencoded":
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, nil, err
		}
		vals, err := parseQuery(string(data))
		return vals, nil, err
	default:
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, nil, err
		}
		data = bytes.TrimSpace(data)
		if len(data) == 0 || string(data) == "null" {
			return params, nil, nil
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, nil, fmt.Errorf("can't parse JSON body: %v", err)
		}
		for k, v := range raw {
			var str string
			if json.Unmarshal(v, &str) == nil {
				params[k] = str
			} else {
				params[k] = string(v)
			}
		}
		return params, nil, nil
	}
}

func parseQuery(q string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(q, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out, nil
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// units counts s in UTF-16 code units, as Telegram measures lengths.
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// PostUpdate posts u to a webhook url with the given secret token header
// (none when empty) and returns the HTTP status.
func PostUpdate(ctx context.Context, url, secret string, u Update) (int, error) {
	body, err := json.Marshal(u)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// Chats returns the ids of every chat with a transcript, sorted.
func (s *Server) Chats() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int64, 0, len(s.msgs))
	for id := range s.msgs {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
