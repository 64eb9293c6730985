package discordtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// client is a minimal gateway client speaking the raw protocol, to check
// the fake independently of discordgo.
type client struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, s *Server) *client {
	t.Helper()
	resp, err := http.Get(s.URL() + "/api/v9/gateway")
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ URL string }
	err = json.NewDecoder(resp.Body).Decode(&g)
	resp.Body.Close()
	if err != nil || !strings.HasPrefix(g.URL, "ws://127.0.0.1:") {
		t.Fatalf("gateway answer %q, %v", g.URL, err)
	}
	c, _, err := websocket.DefaultDialer.Dial(g.URL+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cl := &client{t: t, c: c}
	if f := cl.read(); f.Op != 10 {
		t.Fatalf("first frame op %d, want HELLO (10)", f.Op)
	}
	return cl
}

func (c *client) read() gwFrame {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f gwFrame
	if err := c.c.ReadJSON(&f); err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	return f
}

func (c *client) send(op int, d any) {
	c.t.Helper()
	raw, _ := json.Marshal(d)
	if err := c.c.WriteJSON(gwFrame{Op: op, D: raw}); err != nil {
		c.t.Fatal(err)
	}
}

func TestGatewayHandshakeHeartbeatAndResumeReplay(t *testing.T) {
	s := New(t)
	c := dial(t, s)
	c.send(2, map[string]any{"token": "Bot " + s.Token(), "intents": IntentGuildMessages})
	ready := c.read()
	if ready.T != "READY" || ready.S != 1 {
		t.Fatalf("got %+v, want READY with sequence 1", ready)
	}
	var r struct {
		SessionID string `json:"session_id"`
	}
	_ = json.Unmarshal(ready.D, &r)
	c.send(1, 1)
	if ack := c.read(); ack.Op != 11 {
		t.Fatalf("heartbeat answered with op %d", ack.Op)
	}
	if seq := s.Dispatch(t, "MESSAGE_CREATE", map[string]any{"channel_id": "5", "content": "hello"}); seq != 2 {
		t.Fatalf("first dispatch has sequence %d", seq)
	}
	if f := c.read(); f.T != "MESSAGE_CREATE" || f.S != 2 || !strings.Contains(string(f.D), `"content":""`) {
		t.Fatalf("got %+v; without MESSAGE_CONTENT a guild message arrives empty", f)
	}

	s.Drop()
	s.Dispatch(t, "INTERACTION_CREATE", map[string]any{"id": "a"})
	s.Dispatch(t, "INTERACTION_CREATE", map[string]any{"id": "b"})
	c2 := dial(t, s)
	c2.send(6, map[string]any{"token": "Bot " + s.Token(), "session_id": r.SessionID, "seq": 2})
	for _, want := range []string{`"a"`, `"b"`} {
		if f := c2.read(); f.T != "INTERACTION_CREATE" || !strings.Contains(string(f.D), want) {
			t.Fatalf("replay got %+v, want the event with id %s", f, want)
		}
	}
	if f := c2.read(); f.T != "RESUMED" {
		t.Fatalf("got %+v, want RESUMED after the replay", f)
	}
	if s.Identifies() != 1 || s.Resumes() != 1 {
		t.Errorf("identifies %d, resumes %d", s.Identifies(), s.Resumes())
	}
}

func TestGatewayRefusesAWrongToken(t *testing.T) {
	s := New(t)
	c := dial(t, s)
	c.send(2, map[string]any{"token": "Bot nope"})
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4004 {
		t.Fatalf("got %v, want close code 4004", err)
	}
}

func TestRESTRecordsAndInjects(t *testing.T) {
	s := New(t)
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bot "+s.Token())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	s.RateLimit("POST", "/channels/9/messages", 1, 0.25)
	if st, body := do("POST", "/api/v9/channels/9/messages", `{"content":"x"}`); st != 429 || !strings.Contains(body, `"retry_after":0.25`) {
		t.Fatalf("got %d %s, want the injected 429", st, body)
	}
	if st, body := do("POST", "/api/v9/channels/9/messages", `{"content":"x"}`); st != 200 || !strings.Contains(body, `"content":"x"`) {
		t.Fatalf("got %d %s, want the message back", st, body)
	}
	s.RefuseDMs("7")
	if st, body := do("POST", "/api/v9/users/@me/channels", `{"recipient_id":"7"}`); st != 200 || !strings.Contains(body, DMChannelID("7")) {
		t.Fatalf("DM channel: %d %s", st, body)
	}
	if st, body := do("POST", "/api/v9/channels/"+DMChannelID("7")+"/messages", `{"content":"x"}`); st != 403 || !strings.Contains(body, "50007") {
		t.Fatalf("refused DM: %d %s", st, body)
	}
	req, _ := http.NewRequest("GET", s.URL()+"/api/v9/users/@me", nil) // no token
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a call without the token got %d, want 401", resp.StatusCode)
	}
	calls := s.Calls()
	if len(calls) != 5 || calls[0].Status != 429 || calls[1].JSON()["content"] != "x" {
		t.Errorf("recorded %+v", calls)
	}
}

func TestGatewayShardsGetTheirGuildsEventsAndShardZeroTheDMs(t *testing.T) {
	const guild0, guild1 = "77", "4194304" // (id >> 22) % 2: 0 and 1
	if ShardOf(guild0, 2) != 0 || ShardOf(guild1, 2) != 1 {
		t.Fatalf("ShardOf: %d, %d", ShardOf(guild0, 2), ShardOf(guild1, 2))
	}
	s := New(t, WithGuilds(guild0, guild1))
	shards := make([]*client, 2)
	for k := range shards {
		shards[k] = dial(t, s)
		shards[k].send(2, map[string]any{"token": "Bot " + s.Token(), "intents": IntentGuildMessages | IntentDirectMessages | IntentMessageContent,
			"shard": []int{k, 2}})
		ready := shards[k].read()
		if ready.T != "READY" {
			t.Fatalf("shard %d got %+v, want READY", k, ready)
		}
		want := []string{guild0, guild1}[k]
		if f := shards[k].read(); f.T != "GUILD_CREATE" || !strings.Contains(string(f.D), `"id":"`+want+`"`) {
			t.Fatalf("shard %d got %+v first, want its guild %s", k, f, want)
		}
	}
	s.WaitShardReady(t, 1)
	s.Dispatch(t, "MESSAGE_CREATE", map[string]any{"channel_id": "600", "guild_id": guild1, "content": "to one"})
	s.Dispatch(t, "MESSAGE_CREATE", map[string]any{"channel_id": DMChannelID("7"), "content": "to zero"})
	s.Dispatch(t, "MESSAGE_CREATE", map[string]any{"channel_id": "500", "guild_id": guild0, "content": "zero again"})
	for k, want := range [][]string{{"to zero", "zero again"}, {"to one"}} {
		for _, w := range want {
			if f := shards[k].read(); f.T != "MESSAGE_CREATE" || !strings.Contains(string(f.D), w) {
				t.Fatalf("shard %d got %+v, want the message %q", k, f, w)
			}
		}
	}
	// Shard 1 got nothing more: a heartbeat's ack is the next frame.
	shards[1].send(1, 1)
	if f := shards[1].read(); f.Op != 11 {
		t.Fatalf("shard 1 got %+v, an event of another shard", f)
	}
	if got := s.IdentifiedShards(); len(got) != 2 || got[0] != [2]int{0, 2} || got[1] != [2]int{1, 2} {
		t.Errorf("identified shards %v", got)
	}
}

func TestGatewayClosesAnInvalidShardAndAnUnshardedBotWhenShardingIsRequired(t *testing.T) {
	tests := []struct {
		name     string
		shard    any
		required int
		code     int
	}{
		{"id not below count", []int{2, 2}, 0, 4010},
		{"no shards", []int{0, 0}, 0, 4010},
		{"negative id", []int{-1, 2}, 0, 4010},
		{"one shard when two are required", nil, 2, 4011},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			s.RequireShards(tt.required)
			c := dial(t, s)
			d := map[string]any{"token": "Bot " + s.Token()}
			if tt.shard != nil {
				d["shard"] = tt.shard
			}
			c.send(2, d)
			_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.c.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tt.code {
				t.Fatalf("got %v, want close code %d", err, tt.code)
			}
		})
	}
}
