package discordtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// Gateway intents the fake honours (see Discord's gateway documentation).
const (
	IntentGuildMembers   = 1 << 1
	IntentGuildMessages  = 1 << 9
	IntentDirectMessages = 1 << 12
	IntentMessageContent = 1 << 15
)

// gateway is the fake's gateway state, guarded by Server.mu. A bot may
// hold several connections, one per shard: each IDENTIFY names its shard
// [id, count] (none: [0, 1]), and each connection gets only the events of
// its shard, as Discord sends them: a guild's to shard
// (guild_id >> 22) % count, DMs to shard 0.
type gateway struct {
	closed   bool
	links    map[*wsConn]*gwLink // every open connection
	sessions map[string]*gwSession
	// current is the latest session of each shard id.
	current    map[int]*gwSession
	identifies int
	resumes    int
	nSessions  int
	// identified lists the [id, count] of every accepted IDENTIFY.
	identified [][2]int
	// revoked (RevokeToken) closes every handshake with 4004; refused
	// (RefuseIntents) closes an IDENTIFY asking for any of its bits
	// with 4014; required (RequireShards) closes an IDENTIFY with fewer
	// shards with 4011.
	revoked  bool
	refused  int
	required int
}

// gwLink is one open gateway connection: its session once it identified
// or resumed, and whether that handshake finished.
type gwLink struct {
	sess  *gwSession
	ready bool
}

// gwSession is one gateway session: its shard, what was dispatched in it,
// by sequence.
type gwSession struct {
	id      string
	intents int
	shard   int
	shards  int
	seq     int64
	log     []json.RawMessage // log[i] has sequence i+1
}

// ShardOf is the shard, out of count, that receives the events of the
// guild guildID (a snowflake): (guild_id >> 22) % count, as Discord
// computes it. It returns 0 for an id that is not a number.
func ShardOf(guildID string, count int) int {
	n, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil || count < 1 {
		return 0
	}
	return int((n >> 22) % uint64(count))
}

// receives reports whether the session's shard gets an event in guildID
// ("" for a DM or an event outside guilds).
func (g *gwSession) receives(guildID string) bool {
	if guildID == "" {
		return g.shard == 0
	}
	return ShardOf(guildID, g.shards) == g.shard
}

// readyLinkLocked returns the ready connection of sess, or nil. s.mu must
// be held.
func (s *Server) readyLinkLocked(sess *gwSession) *wsConn {
	for c, l := range s.gw.links {
		if l.sess == sess && l.ready {
			return c
		}
	}
	return nil
}

// replaceShardLocked closes every connection of shard other than keep: a
// bot that connects a shard again replaces its old connection. s.mu must
// be held.
func (s *Server) replaceShardLocked(shard int, keep *wsConn) {
	for c, l := range s.gw.links {
		if c != keep && l.sess != nil && l.sess.shard == shard {
			c.close()
			delete(s.gw.links, c)
		}
	}
}

// anyReadyLocked reports whether some connection is ready. s.mu must be held.
func (s *Server) anyReadyLocked() bool {
	for _, l := range s.gw.links {
		if l.ready {
			return true
		}
	}
	return false
}

// wsConn is one WebSocket connection with an ordered write queue, so that
// frames leave in sequence order without holding Server.mu while writing.
type wsConn struct {
	c     *websocket.Conn
	mu    sync.Mutex
	queue []wsFrame
	wake  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// wsFrame is a queued frame: a text frame, or a close frame after which the
// connection is closed.
type wsFrame struct {
	data  []byte
	close bool
}

func newWSConn(c *websocket.Conn) *wsConn {
	w := &wsConn{c: c, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.writer()
	return w
}

func (w *wsConn) send(frame []byte) { w.enqueue(wsFrame{data: frame}) }

// sendClose queues a close frame with code and reason; the connection is
// closed once it is written.
func (w *wsConn) sendClose(code int, reason string) {
	w.enqueue(wsFrame{data: websocket.FormatCloseMessage(code, reason), close: true})
}

func (w *wsConn) enqueue(f wsFrame) {
	w.mu.Lock()
	w.queue = append(w.queue, f)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *wsConn) writer() {
	for {
		select {
		case <-w.done:
			return
		case <-w.wake:
		}
		for {
			w.mu.Lock()
			if len(w.queue) == 0 {
				w.mu.Unlock()
				break
			}
			f := w.queue[0]
			w.queue = w.queue[1:]
			w.mu.Unlock()
			if f.close {
				_ = w.c.WriteMessage(websocket.CloseMessage, f.data)
				w.close()
				return
			}
			// Text frames: discordgo takes binary frames as zlib.
			if w.c.WriteMessage(websocket.TextMessage, f.data) != nil {
				return
			}
		}
	}
}

// close drops the connection abruptly (no close frame), as a network
// failure would.
func (w *wsConn) close() {
	w.once.Do(func() {
		close(w.done)
		_ = w.c.Close()
	})
}

type gwFrame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d,omitempty"`
	S  int64           `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

func frame(op int, t string, seq int64, d any) []byte {
	raw, _ := json.Marshal(d)
	return jsonBody(gwFrame{Op: op, D: raw, S: seq, T: t})
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn := newWSConn(c)
	s.mu.Lock()
	if s.gw.closed {
		s.mu.Unlock()
		conn.close()
		return
	}
	link := &gwLink{}
	s.gw.links[conn] = link
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.gw.links, conn)
		s.notifyLocked()
		s.mu.Unlock()
		conn.close()
	}()

	conn.send(frame(10, "", 0, map[string]any{"heartbeat_interval": s.hbMsec}))
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		var f gwFrame
		if json.Unmarshal(msg, &f) != nil {
			return
		}
		switch f.Op {
		case 1: // heartbeat
			conn.send(frame(11, "", 0, nil))
		case 2: // identify
			var id struct {
				Token   string  `json:"token"`
				Intents int     `json:"intents"`
				Shard   *[2]int `json:"shard"`
			}
			_ = json.Unmarshal(f.D, &id)
			shard, shards := 0, 1
			if id.Shard != nil {
				shard, shards = id.Shard[0], id.Shard[1]
			}
			s.mu.Lock()
			revoked, refused, required := s.gw.revoked, s.gw.refused, s.gw.required
			s.mu.Unlock()
			if revoked || (id.Token != s.token && id.Token != "Bot "+s.token) {
				// The writer closes the connection after the close frame;
				// the next read then fails and ends this handler.
				conn.sendClose(4004, "Authentication failed.")
				continue
			}
			if id.Intents&refused != 0 {
				// A privileged intent the application was not granted in
				// the developer portal.
				conn.sendClose(4014, "Disallowed intent(s).")
				continue
			}
			if shards < 1 || shard < 0 || shard >= shards {
				conn.sendClose(4010, "Invalid shard.")
				continue
			}
			if shards < required {
				conn.sendClose(4011, "Sharding required.")
				continue
			}
			s.mu.Lock()
			s.gw.nSessions++
			sess := &gwSession{id: "session-" + strconv.Itoa(s.gw.nSessions), intents: id.Intents, shard: shard, shards: shards}
			s.gw.sessions[sess.id] = sess
			s.gw.current[shard] = sess
			s.gw.identifies++
			s.gw.identified = append(s.gw.identified, [2]int{shard, shards})
			s.replaceShardLocked(shard, conn)
			sess.seq++
			sess.log = append(sess.log, nil) // READY takes sequence 1
			unavailable := []any{}
			var mine []string
			for _, g := range s.guilds {
				if sess.receives(g) {
					mine = append(mine, g)
					unavailable = append(unavailable, map[string]any{"id": g, "unavailable": true})
				}
			}
			conn.send(frame(0, "READY", sess.seq, map[string]any{
				"v": 9, "session_id": sess.id,
				"user":        map[string]any{"id": s.botID, "username": "clmbot", "bot": true},
				"application": map[string]any{"id": s.appID},
				"guilds":      unavailable,
				"shard":       []int{shard, shards},
			}))
			link.sess, link.ready = sess, true
			for _, g := range mine {
				sess.seq++
				f := frame(0, "GUILD_CREATE", sess.seq, map[string]any{"id": g, "name": "guild " + g, "unavailable": false})
				sess.log = append(sess.log, f)
				conn.send(f)
			}
			s.notifyLocked()
			s.mu.Unlock()
		case 6: // resume
			var res struct {
				Token     string `json:"token"`
				SessionID string `json:"session_id"`
				Seq       int64  `json:"seq"`
			}
			_ = json.Unmarshal(f.D, &res)
			s.mu.Lock()
			if s.gw.revoked {
				s.mu.Unlock()
				conn.sendClose(4004, "Authentication failed.")
				continue
			}
			sess := s.gw.sessions[res.SessionID]
			if sess == nil || (res.Token != s.token && res.Token != "Bot "+s.token) {
				s.mu.Unlock()
				conn.send(frame(9, "", 0, false)) // invalid session: identify again
				continue
			}
			s.gw.current[sess.shard] = sess
			s.gw.resumes++
			s.replaceShardLocked(sess.shard, conn)
			// Replay what the client missed, in order, then RESUMED.
			for i := res.Seq; i < int64(len(sess.log)); i++ {
				if sess.log[i] != nil {
					conn.send(sess.log[i])
				}
			}
			sess.seq++
			sess.log = append(sess.log, nil)
			conn.send(frame(0, "RESUMED", sess.seq, map[string]any{}))
			link.sess, link.ready = sess, true
			s.notifyLocked()
			s.mu.Unlock()
		}
	}
}

// Dispatch sends an event (op 0) with the next sequence number, as Discord
// would, and returns that sequence number. The event goes to the shard
// that receives it (its guild_id's, or shard 0 for a DM; see [ShardOf]).
// When that shard is disconnected the event is kept and replayed if the
// bot resumes. MESSAGE_CREATE follows the session's intents, and so does
// MESSAGE_UPDATE (an edit): guild messages need GUILD_MESSAGES, DMs need
// DIRECT_MESSAGES, and without MESSAGE_CONTENT a guild message arrives
// with empty content unless it mentions the bot. GUILD_MEMBER_REMOVE
// needs the privileged GUILD_MEMBERS intent.
func (s *Server) Dispatch(t testing.TB, event string, d map[string]any) int64 {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	guildID, _ := d["guild_id"].(string)
	sess := s.sessionForLocked(guildID)
	if sess == nil {
		t.Fatalf("discordtest: dispatch of %s before the shard that receives it identified", event)
	}
	switch event {
	case "GUILD_MEMBER_REMOVE":
		if sess.intents&IntentGuildMembers == 0 {
			return 0
		}
	case "MESSAGE_CREATE", "MESSAGE_UPDATE":
		ch, _ := d["channel_id"].(string)
		if IsDM(ch) {
			if sess.intents&IntentDirectMessages == 0 {
				return 0
			}
		} else {
			if sess.intents&IntentGuildMessages == 0 {
				return 0
			}
			content, hasContent := d["content"].(string)
			if hasContent && sess.intents&IntentMessageContent == 0 && !strings.Contains(content, "<@"+s.botID+">") {
				d = shallowCopy(d)
				d["content"] = ""
			}
		}
	}
	sess.seq++
	f := frame(0, event, sess.seq, d)
	sess.log = append(sess.log, f)
	if c := s.readyLinkLocked(sess); c != nil {
		c.send(f)
	}
	s.notifyLocked()
	return sess.seq
}

// sessionForLocked returns the current session of the shard that
// receives events of guildID ("" for DMs), the lowest such shard when
// sessions disagree on the count; nil when none. s.mu must be held.
func (s *Server) sessionForLocked(guildID string) *gwSession {
	var found *gwSession
	for _, sess := range s.gw.current {
		if sess.receives(guildID) && (found == nil || sess.shard < found.shard) {
			found = sess
		}
	}
	return found
}

// Redeliver sends the event with sequence seq of shard 0's session (the
// only one without sharding) again, unchanged, as a gateway that lost
// track of the client's acknowledgements may do.
func (s *Server) Redeliver(t testing.TB, seq int64) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.gw.current[0]
	if sess == nil || seq < 1 || seq > int64(len(sess.log)) || sess.log[seq-1] == nil {
		t.Fatalf("discordtest: no event with sequence %d to redeliver", seq)
	}
	if c := s.readyLinkLocked(sess); c != nil {
		c.send(sess.log[seq-1])
	}
}

func shallowCopy(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// RevokeToken resets the bot's token, as "Reset Token" in the developer
// portal does: the live gateway connection is closed with 4004
// (Authentication failed), as is every later IDENTIFY or RESUME, and REST
// calls answer 401.
func (s *Server) RevokeToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.revoked = true
	for c := range s.gw.links {
		c.sendClose(4004, "Authentication failed.")
	}
	s.notifyLocked()
}

// RefuseIntents makes the gateway close an IDENTIFY that asks for any of
// the intents in mask with 4014 (Disallowed intents), as Discord does for
// a privileged intent (such as Message Content, 1<<15) not enabled in the
// developer portal.
func (s *Server) RefuseIntents(mask int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.refused = mask
}

// RequireShards makes the gateway close an IDENTIFY with fewer than n
// shards with 4011 (Sharding required), as Discord does for a bot in too
// many guilds for one connection.
func (s *Server) RequireShards(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.required = n
}

// Drop closes every gateway connection abruptly, as a network failure
// would. The sessions survive: a bot that resumes gets what it missed.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.gw.links {
		c.close()
		delete(s.gw.links, c)
	}
	s.notifyLocked()
}

// Connected reports whether a bot holds a ready gateway connection.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.anyReadyLocked()
}

// IdentifiedShards returns the shard [id, count] of every IDENTIFY the
// gateway accepted, in order ([0, 1] for one without a shard).
func (s *Server) IdentifiedShards() [][2]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][2]int(nil), s.gw.identified...)
}

// Identifies and Resumes count the gateway handshakes so far.
func (s *Server) Identifies() int { s.mu.Lock(); defer s.mu.Unlock(); return s.gw.identifies }

// Resumes counts the RESUMEs the fake accepted.
func (s *Server) Resumes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.gw.resumes }

// Intents returns the intents of shard 0's current gateway session (0
// before IDENTIFY).
func (s *Server) Intents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gw.current[0] == nil {
		return 0
	}
	return s.gw.current[0].intents
}

// WaitHandshakes waits until the bot has completed n gateway handshakes
// (IDENTIFY or RESUME) and holds a ready connection.
func (s *Server) WaitHandshakes(t testing.TB, n int) {
	t.Helper()
	s.waitFor(t, "gateway handshake "+strconv.Itoa(n), func() bool {
		return s.gw.identifies+s.gw.resumes >= n && s.anyReadyLocked()
	})
}

// WaitReady waits until the bot holds a ready gateway connection.
func (s *Server) WaitReady(t testing.TB) {
	t.Helper()
	s.waitFor(t, "a ready gateway connection", func() bool { return s.anyReadyLocked() })
}

// WaitShardReady waits until the bot holds a ready gateway connection for
// shard.
func (s *Server) WaitShardReady(t testing.TB, shard int) {
	t.Helper()
	s.waitFor(t, "a ready gateway connection for shard "+strconv.Itoa(shard), func() bool {
		for _, l := range s.gw.links {
			if l.ready && l.sess != nil && l.sess.shard == shard {
				return true
			}
		}
		return false
	})
}
