// Package discordtest is a fake Discord for tests: a REST API that records
// every call, and a WebSocket gateway that speaks enough of the real protocol
// (HELLO, IDENTIFY, READY, heartbeats, RESUME, dispatch) for an unmodified
// github.com/bwmarrin/discordgo session. It listens on 127.0.0.1 only.
//
// It is not Discord: it knows no permissions beyond what a test injects, and
// keeps everything in memory. Tests drive people (slash commands, buttons,
// modals, messages) with the payload builders in this package and read back
// what the bot did with [Server.Replies], [Server.PublicMessages] and
// [Server.Calls].
package discordtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of a new Server.
const (
	DefaultToken = "fake-discord-token.Zm9vYmFy.c2VjcmV0LXRva2VuLWRvLW5vdC1sb2c"
	DefaultAppID = "200"
	DefaultBotID = "100"
	// waitBound is how long the Wait helpers wait for a condition before
	// failing the test. It is a safety net against a hung test, not a timing
	// assertion: conditions are normally met within milliseconds.
	waitBound = 15 * time.Second
)

// Call is one REST request the fake received, and what it answered.
type Call struct {
	Seq    int
	Method string
	Path   string // the URL path, such as /api/v9/channels/5/messages
	Query  url.Values
	// Body is the JSON body (for multipart requests, the payload_json part).
	Body []byte
	// Files holds the file parts of a multipart request, by file name.
	Files map[string][]byte
	// Auth is the Authorization header as received.
	Auth   string
	Status int
}

// JSON decodes the call's body into a generic map (nil when it is not a JSON object).
func (c Call) JSON() map[string]any {
	var m map[string]any
	if json.Unmarshal(c.Body, &m) != nil {
		return nil
	}
	return m
}

// Rule makes the fake answer matching requests with an error instead of
// the normal answer, Times times (a negative Times: forever).
type Rule struct {
	Method string // empty matches any method
	// PathContains must be a substring of the path (empty matches any path).
	PathContains string
	Times        int
	Status       int
	Body         string
	Header       http.Header
	// Disconnect closes the connection without any answer, as a network
	// failure would.
	Disconnect bool
}

// Server is a fake Discord. Create it with [New].
type Server struct {
	t      testing.TB
	http   *httptest.Server
	token  string
	appID  string
	botID  string
	hbMsec int

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every recorded change
	calls    []Call
	rules    []*Rule
	refuseDM map[string]bool // user ids whose DMs are closed
	dmOwner  map[string]string
	messages []Message // every message the fake knows, in order
	nextID   int64
	inter    map[string]*interaction // by interaction id
	byToken  map[string]*interaction
	commands map[string][]map[string]any // registered commands by scope ("global" or guild id)
	// guildByChannel remembers the guild of every channel a test used.
	guildByChannel map[string]string
	// guilds are the guilds the bot is in: announced in READY as
	// unavailable, then each sent as GUILD_CREATE, as Discord does.
	guilds    []string
	gw        gateway
	closeOnce sync.Once
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the bot token the fake expects (in "Bot <token>" headers
// and IDENTIFY).
func WithToken(tok string) Option { return func(s *Server) { s.token = tok } }

// WithGuilds puts the bot in the guilds with these ids: READY lists them
// and a GUILD_CREATE follows for each, after every IDENTIFY.
func WithGuilds(ids ...string) Option { return func(s *Server) { s.guilds = append(s.guilds, ids...) } }

// WithHeartbeatInterval sets the interval announced in HELLO.
func WithHeartbeatInterval(d time.Duration) Option {
	return func(s *Server) { s.hbMsec = int(d / time.Millisecond) }
}

// New starts a fake Discord on 127.0.0.1 and closes it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		t:        t,
		token:    DefaultToken,
		appID:    DefaultAppID,
		botID:    DefaultBotID,
		hbMsec:   45000,
		changed:  make(chan struct{}),
		refuseDM: map[string]bool{},
		dmOwner:  map[string]string{},
		nextID:   1000,
		inter:    map[string]*interaction{},
		byToken:  map[string]*interaction{},
		commands: map[string][]map[string]any{},

		guildByChannel: map[string]string{},
	}
	for _, o := range opts {
		o(s)
	}
	s.gw.sessions = map[string]*gwSession{}
	s.gw.current = map[int]*gwSession{}
	s.gw.links = map[*wsConn]*gwLink{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("discordtest: listen: %v", err)
	}
	s.http = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.http.Listener.Close()
	s.http.Listener = ln
	s.http.Start()
	t.Cleanup(s.Close)
	return s
}

// Close stops the fake, dropping any gateway connection.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.gw.closed = true
		for c := range s.gw.links {
			c.close()
			delete(s.gw.links, c)
		}
		s.mu.Unlock()
		s.http.Close()
	})
}

// URL is the fake's base URL (http://127.0.0.1:port). REST paths under it
// are the real ones (/api/v9/...).
func (s *Server) URL() string { return s.http.URL }

// Token is the bot token the fake accepts.
func (s *Server) Token() string { return s.token }

// AppID is the application id the fake announces in READY.
func (s *Server) AppID() string { return s.appID }

// BotID is the bot's user id.
func (s *Server) BotID() string { return s.botID }

// Fail adds an error rule (see [Rule]); rules are tried in the order added.
func (s *Server) Fail(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rr := r
	s.rules = append(s.rules, &rr)
}

// RateLimit makes the next times matching requests answer 429 with
// retry_after seconds, as Discord does (times < 0: forever).
func (s *Server) RateLimit(method, pathContains string, times int, retryAfter float64) {
	body := fmt.Sprintf(`{"message":"You are being rate limited.","retry_after":%g,"global":false}`, retryAfter)
	s.Fail(Rule{Method: method, PathContains: pathContains, Times: times, Status: http.StatusTooManyRequests, Body: body})
}

// RefuseDMs makes messages to the user's DM channel fail with Discord's
// 50007 "Cannot send messages to this user".
func (s *Server) RefuseDMs(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseDM[userID] = true
}

// Calls returns every REST call so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// notifyLocked wakes every waiter. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor polls cond (under s.mu) each time the fake records a change,
// failing the test after a generous bound.
func (s *Server) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitBound)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("discordtest: gave up waiting for %s", what)
		}
	}
}

// WaitCall waits until a REST call satisfies pred and returns the first one.
func (s *Server) WaitCall(t testing.TB, what string, pred func(Call) bool) Call {
	t.Helper()
	var found Call
	s.waitFor(t, what, func() bool {
		for _, c := range s.calls {
			if pred(c) {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

// newIDLocked returns a fresh snowflake-like id. s.mu must be held.
func (s *Server) newIDLocked() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// serve is the single HTTP entry point: the gateway WebSocket or REST.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/gateway-ws") {
		s.serveGateway(w, r)
		return
	}
	call, err := readCall(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	status, header, body, disconnect := s.matchRuleLocked(&call)
	if !disconnect && status == 0 {
		status, header, body = s.answerLocked(&call)
	}
	call.Status = status
	call.Seq = len(s.calls) + 1
	s.calls = append(s.calls, call)
	s.notifyLocked()
	s.mu.Unlock()

	if disconnect {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
	}
	for k, vs := range header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if body != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	if body != nil {
		_, _ = w.Write(body)
	}
}

// readCall turns a request into a Call, splitting multipart bodies.
func readCall(r *http.Request) (Call, error) {
	c := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization")}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return c, err
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		c.Body = raw
		return c, nil
	}
	c.Files = map[string][]byte{}
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return c, err
		}
		if p.FormName() == "payload_json" {
			c.Body = data
		} else {
			c.Files[p.FileName()] = data
		}
	}
	return c, nil
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own maps and slices are marshalled
	}
	return b
}

func apiError(code int, msg string) []byte {
	return jsonBody(map[string]any{"code": code, "message": msg})
}

// matchRuleLocked applies the first error rule matching c, if any (status
// 0: none). s.mu must be held.
func (s *Server) matchRuleLocked(c *Call) (int, http.Header, []byte, bool) {
	for i, r := range s.rules {
		if r.Times == 0 || (r.Method != "" && r.Method != c.Method) || !strings.Contains(c.Path, r.PathContains) {
			continue
		}
		if r.Times > 0 {
			r.Times--
		}
		if r.Times == 0 {
			s.rules = append(s.rules[:i:i], s.rules[i+1:]...)
		}
		return r.Status, r.Header, []byte(r.Body), r.Disconnect
	}
	return 0, nil, nil, false
}

// answerLocked decides the normal answer to one REST call. s.mu must be held.
func (s *Server) answerLocked(c *Call) (int, http.Header, []byte) {

	p := strings.TrimPrefix(c.Path, "/api/v9")
	if p == c.Path {
		return http.StatusNotFound, nil, apiError(0, "404: Not Found")
	}
	seg := strings.Split(strings.Trim(p, "/"), "/")
	isWebhook := len(seg) >= 1 && (seg[0] == "webhooks" || seg[0] == "interactions")
	if !isWebhook && !(len(seg) == 1 && seg[0] == "gateway") && (c.Auth != "Bot "+s.token || s.gw.revoked) {
		return http.StatusUnauthorized, nil, apiError(0, "401: Unauthorized")
	}

	switch {
	case c.Method == "GET" && (p == "/gateway" || p == "/gateway/bot"):
		return 200, nil, jsonBody(map[string]any{"url": "ws://" + s.http.Listener.Addr().String() + "/gateway-ws", "shards": 1})

	case c.Method == "POST" && len(seg) == 4 && seg[0] == "interactions" && seg[3] == "callback":
		return s.callbackLocked(seg[1], seg[2], c)

	case len(seg) >= 3 && seg[0] == "webhooks":
		return s.webhookLocked(seg[1], seg[2], seg[3:], c)

	case c.Method == "POST" && p == "/users/@me/channels":
		var req struct {
			RecipientID string `json:"recipient_id"`
		}
		if json.Unmarshal(c.Body, &req) != nil || req.RecipientID == "" {
			return 400, nil, apiError(50035, "Invalid Form Body")
		}
		id := DMChannelID(req.RecipientID)
		s.dmOwner[id] = req.RecipientID
		return 200, nil, jsonBody(map[string]any{"id": id, "type": 1, "recipients": []any{map[string]any{"id": req.RecipientID, "username": "user" + req.RecipientID}}})

	case c.Method == "POST" && len(seg) == 3 && seg[0] == "channels" && seg[2] == "messages":
		ch := seg[1]
		if owner, ok := s.dmOwner[ch]; ok && s.refuseDM[owner] {
			return http.StatusForbidden, nil, apiError(50007, "Cannot send messages to this user")
		}
		m := s.storeBotMessageLocked(ch, c.JSON(), c.Files)
		return 200, nil, jsonBody(m.wire())

	case c.Method == "DELETE" && len(seg) == 4 && seg[0] == "channels" && seg[2] == "messages":
		for i := range s.messages {
			if s.messages[i].ChannelID == seg[1] && s.messages[i].ID == seg[3] {
				s.messages[i].Deleted = true
				return http.StatusNoContent, nil, nil
			}
		}
		return http.StatusNotFound, nil, apiError(10008, "Unknown Message")

	case c.Method == "PUT" && len(seg) == 3 && seg[0] == "applications" && seg[2] == "commands":
		return s.overwriteLocked(seg[1], "global", c)

	case c.Method == "GET" && len(seg) == 3 && seg[0] == "applications" && seg[2] == "commands":
		return s.listCommandsLocked(seg[1], "global")

	case c.Method == "GET" && len(seg) == 5 && seg[0] == "applications" && seg[2] == "guilds" && seg[4] == "commands":
		return s.listCommandsLocked(seg[1], seg[3])

	case c.Method == "PUT" && len(seg) == 5 && seg[0] == "applications" && seg[2] == "guilds" && seg[4] == "commands":
		return s.overwriteLocked(seg[1], seg[3], c)
	}
	return http.StatusNotFound, nil, apiError(0, "404: Not Found")
}

func (s *Server) overwriteLocked(app, scope string, c *Call) (int, http.Header, []byte) {
	if app != s.appID {
		return http.StatusForbidden, nil, apiError(50001, "Missing Access")
	}
	var cmds []map[string]any
	if err := json.Unmarshal(c.Body, &cmds); err != nil {
		return 400, nil, apiError(50035, "Invalid Form Body")
	}
	for _, cmd := range cmds {
		cmd["id"] = s.newIDLocked()
		cmd["application_id"] = app
		cmd["version"] = "1"
	}
	s.commands[scope] = cmds
	return 200, nil, jsonBody(cmds)
}

// listCommandsLocked answers GET .../commands: what is registered in scope.
func (s *Server) listCommandsLocked(app, scope string) (int, http.Header, []byte) {
	if app != s.appID {
		return http.StatusForbidden, nil, apiError(50001, "Missing Access")
	}
	cmds := s.commands[scope]
	if cmds == nil {
		cmds = []map[string]any{}
	}
	return 200, nil, jsonBody(cmds)
}

// Commands returns the commands registered by bulk overwrite in scope
// ("global", or a guild id), as the bot sent them.
func (s *Server) Commands(scope string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands[scope]
}

// dmBase offsets the fake's DM channel ids from every other id a test
// uses: a DM channel's id is a snowflake, as Discord's are.
const dmBase = uint64(1) << 62

// DMChannelID is the id of the fake's DM channel with a user: a number
// (dmBase + the user's id) for a numeric user id, as Discord's DM
// channels have snowflake ids; "dm-" and the id otherwise.
func DMChannelID(userID string) string {
	n, err := strconv.ParseUint(userID, 10, 64)
	if err != nil || n >= dmBase {
		return "dm-" + userID
	}
	return strconv.FormatUint(dmBase+n, 10)
}

// IsDM reports whether a channel id is a DM channel of the fake.
func IsDM(channelID string) bool {
	if strings.HasPrefix(channelID, "dm-") {
		return true
	}
	n, err := strconv.ParseUint(channelID, 10, 64)
	return err == nil && n >= dmBase && n < 2*dmBase
}
