package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

func call(t *testing.T, s *Server, method string, params map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(params)
	resp, err := http.Post(s.URL+"/bot"+s.Token+"/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

func TestGetUpdatesIsHeldUntilAnUpdateArrives(t *testing.T) {
	s := New(t, Options{MaxHold: 5 * time.Second})
	got := make(chan map[string]any, 1)
	go func() {
		_, out := call(t, s, "getUpdates", map[string]any{"offset": "0", "timeout": "5"})
		got <- out
	}()
	// The poll is open and empty until a member writes.
	s.Await(t, 5*time.Second, "the poll to be held", func() bool { return s.Holding() == 1 })
	select {
	case <-got:
		t.Fatal("getUpdates returned with no update")
	default:
	}
	u := s.SendText(User{ID: 1, FirstName: "A"}, Group(-1, "G"), "/clm hi")
	out := <-got
	res := out["result"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["update_id"].(float64) != 1 {
		t.Fatalf("result = %v", out)
	}
	msg := res[0].(map[string]any)["message"].(map[string]any)
	if msg["text"] != "/clm hi" || int(msg["message_id"].(float64)) != u.MessageID || msg["entities"] == nil {
		t.Errorf("message = %v", msg)
	}
	// Asking with the next offset confirms it.
	_, out = call(t, s, "getUpdates", map[string]any{"offset": "2", "timeout": "0"})
	if len(out["result"].([]any)) != 0 || s.Pending() != 0 {
		t.Errorf("update not confirmed: %v", out)
	}
}

func TestCloseReleasesHeldPolls(t *testing.T) {
	s := New(t, Options{MaxHold: time.Minute})
	done := make(chan struct{})
	go func() {
		body := strings.NewReader(`{"offset":"1","timeout":"60"}`)
		resp, err := http.Post(s.URL+"/bot"+s.Token+"/getUpdates", "application/json", body)
		if err == nil {
			resp.Body.Close()
		}
		close(done)
	}()
	s.Await(t, 5*time.Second, "the poll to be held", func() bool { return s.Holding() == 1 })
	s.Close()
	<-done
}

func TestFailuresAreInjectedPerMethod(t *testing.T) {
	s := New(t, Options{})
	s.FailNext("sendMessage", TooManyRequests(3), BadGateway())
	status, out := call(t, s, "sendMessage", map[string]any{"chat_id": 5, "text": "a"})
	params, _ := out["parameters"].(map[string]any)
	if status != 429 || out["ok"] != false || params["retry_after"].(float64) != 3 {
		t.Errorf("429 = %d %v", status, out)
	}
	status, out = call(t, s, "sendMessage", map[string]any{"chat_id": 5, "text": "a"})
	if status != 502 || out != nil {
		t.Errorf("502 = %d %v (want an HTML body)", status, out)
	}
	if status, _ := call(t, s, "getMe", nil); status != 200 {
		t.Errorf("getMe failed: %d", status)
	}
	status, _ = call(t, s, "sendMessage", map[string]any{"chat_id": "5", "text": "a"})
	if status != 200 || len(s.BotMessages(5)) != 1 {
		t.Errorf("third send: %d, transcript %v", status, s.BotMessages(5))
	}
	calls := s.Calls("sendMessage")
	if len(calls) != 3 || !calls[0].Injected || !calls[1].Injected || calls[2].Injected || !calls[2].OK {
		t.Errorf("calls = %+v", calls)
	}
	s.NeverStarted(User{ID: 9})
	if status, out := call(t, s, "sendMessage", map[string]any{"chat_id": 9, "text": "a"}); status != 403 ||
		!strings.Contains(out["description"].(string), "can't initiate conversation") {
		t.Errorf("DM to a stranger = %d %v", status, out)
	}
}

func TestTelegramRulesTheBotReliesOn(t *testing.T) {
	s := New(t, Options{})
	g := Group(-7, "G")
	m := s.SendText(User{ID: 1, FirstName: "A"}, g, "secret here")
	tests := []struct {
		name   string
		method string
		params map[string]any
		status int
	}{
		{"callback data over 64 bytes", "sendMessage", map[string]any{"chat_id": -7, "text": "x",
			"reply_markup": `{"inline_keyboard":[[{"text":"b","callback_data":"` + strings.Repeat("d", 65) + `"}]]}`}, 400},
		{"too long", "sendMessage", map[string]any{"chat_id": -7, "text": strings.Repeat("x", 4097)}, 400},
		{"empty", "sendMessage", map[string]any{"chat_id": -7, "text": " "}, 400},
		{"reply to a missing message", "sendMessage", map[string]any{"chat_id": -7, "text": "x", "reply_to_message_id": 999}, 400},
		{"reply to a missing message, allowed", "sendMessage", map[string]any{"chat_id": -7, "text": "x", "reply_to_message_id": 999, "allow_sending_without_reply": true}, 200},
		{"unknown callback", "answerCallbackQuery", map[string]any{"callback_query_id": "nope"}, 400},
		{"unknown method", "banChatMember", map[string]any{}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, out := call(t, s, tt.method, tt.params); status != tt.status {
				t.Errorf("status %d (%v), want %d", status, out, tt.status)
			}
		})
	}
	s.SetAdmin(g, false)
	if status, _ := call(t, s, "deleteMessage", map[string]any{"chat_id": -7, "message_id": m.MessageID}); status != 400 {
		t.Errorf("a non-admin deleted a member's message")
	}
	s.SetAdmin(g, true)
	if status, _ := call(t, s, "deleteMessage", map[string]any{"chat_id": -7, "message_id": m.MessageID}); status != 200 {
		t.Errorf("an admin could not delete")
	}
	if e, _ := s.Message(-7, m.MessageID); !e.Deleted {
		t.Errorf("not marked deleted")
	}
	if status, _ := call(t, s, "deleteMessage", map[string]any{"chat_id": -7, "message_id": m.MessageID}); status != 400 {
		t.Errorf("deleted twice")
	}
}

func TestSendDocumentIsMultipart(t *testing.T) {
	s := New(t, Options{})
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("chat_id", "5")
	fw, _ := w.CreateFormFile("document", "export.json")
	_, _ = fw.Write([]byte(`{"a":1}`))
	_ = w.Close()
	resp, err := http.Post(s.URL+"/bot"+s.Token+"/sendDocument", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := s.Calls("sendDocument")
	if resp.StatusCode != 200 || len(c) != 1 || c[0].Files["document"].Name != "export.json" || string(c[0].Files["document"].Content) != `{"a":1}` {
		t.Errorf("status %d, calls %+v", resp.StatusCode, c)
	}
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	s := New(t, Options{})
	resp, err := http.Post(s.URL+"/bot1:wrong/getMe", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestInlineFlowPostsTheChosenText(t *testing.T) {
	s := New(t, Options{})
	u := User{ID: 3, FirstName: "C"}
	id := s.InlineQuery(u, "Work: hi")
	call(t, s, "answerInlineQuery", map[string]any{"inline_query_id": id, "cache_time": 0, "is_personal": true,
		"results": []map[string]any{{"type": "article", "id": "a", "title": "T", "input_message_content": map[string]any{"message_text": "POINTER"}}}})
	m, err := s.ChooseInlineResult(u, Group(-2, "G"), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "POINTER" || m.ViaBot == nil || m.ViaBot.ID != s.Bot.ID {
		t.Errorf("posted %+v", m)
	}
	if _, err := s.ChooseInlineResult(u, Group(-2, "G"), id, 1); err == nil {
		t.Errorf("chose a result that does not exist")
	}
}

// updateTypes polls once with allowed (omitted when nil) and returns the
// types of the updates delivered, confirming them.
func updateTypes(t *testing.T, s *Server, offset *int, allowed any) []string {
	t.Helper()
	p := map[string]any{"offset": *offset, "timeout": 0}
	if allowed != nil {
		p["allowed_updates"] = allowed
	}
	status, out := call(t, s, "getUpdates", p)
	if status != 200 {
		t.Fatalf("getUpdates = %d %v", status, out)
	}
	var types []string
	for _, r := range out["result"].([]any) {
		u := r.(map[string]any)
		*offset = int(u["update_id"].(float64)) + 1
		for k := range u {
			if k != "update_id" {
				types = append(types, k)
			}
		}
	}
	return types
}

func TestUpdatesAreDeliveredOnlyWhenTheBotAskedForTheirType(t *testing.T) {
	s := New(t, Options{})
	g := Group(-7, "G")
	a := User{ID: 1, FirstName: "A"}
	offset := 0
	play := func() {
		m := s.SendText(a, g, "hello")
		if _, err := s.Edit(a, m, "hello again"); err != nil {
			t.Fatal(err)
		}
		s.Leave(a, g)
	}
	tests := []struct {
		name    string
		allowed any // nil: the parameter is left out
		want    string
	}{
		{"the default set has edits but not chat_member", nil, "[message edited_message message]"},
		{"a list without edits", `["message","callback_query"]`, "[message message]"},
		{"a list is remembered by the next call", nil, "[message message]"},
		{"an empty list is the default again", []string{}, "[message edited_message message]"},
		{"chat_member only when named", []string{"message", "edited_message", "chat_member"}, "[message edited_message message chat_member]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			play()
			if got := fmt.Sprint(updateTypes(t, s, &offset, tt.allowed)); got != tt.want {
				t.Errorf("delivered %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("chat_member only where the bot is an admin", func(t *testing.T) {
		s.SetAdmin(g, false)
		play()
		if got := fmt.Sprint(updateTypes(t, s, &offset, nil)); got != "[message edited_message message]" {
			t.Errorf("delivered %s", got)
		}
	})
	if status, _ := call(t, s, "setWebhook", map[string]any{"url": "https://x.example/h", "allowed_updates": []string{"message"}}); status != 200 ||
		fmt.Sprint(s.AllowedUpdates()) != "[message]" {
		t.Errorf("setWebhook did not set the list: %d %v", status, s.AllowedUpdates())
	}
}

func TestPhotoCarriesItsTextInTheCaption(t *testing.T) {
	s := New(t, Options{})
	a := User{ID: 1, FirstName: "A"}
	m := s.SendPhoto(a, Group(-7, "G"), "/clm receive")
	if m.Text != "" || m.Caption != "/clm receive" || len(m.Photo) == 0 || len(m.CaptionEntities) != 1 || m.Entities != nil {
		t.Errorf("photo message = %+v", m)
	}
	e, err := s.Edit(a, m, "a new caption")
	if err != nil || e.Caption != "a new caption" || e.Text != "" || e.EditDate == 0 {
		t.Errorf("edited = %+v, %v", e, err)
	}
	if _, err := s.Edit(User{ID: 2}, m, "not mine"); err == nil {
		t.Errorf("someone else edited a's message")
	}
}

func TestDMToAStrangerCanBeChatNotFound(t *testing.T) {
	s := New(t, Options{})
	u := User{ID: 9, FirstName: "S"}
	s.NeverStartedNotFound(u)
	status, out := call(t, s, "sendMessage", map[string]any{"chat_id": 9, "text": "a"})
	if status != 400 || out["description"] != "Bad Request: chat not found" {
		t.Errorf("DM to a stranger = %d %v", status, out)
	}
	s.SendText(u, u.PrivateChat(), "/start")
	if status, out := call(t, s, "sendMessage", map[string]any{"chat_id": 9, "text": "a"}); status != 200 {
		t.Errorf("DM after /start = %d %v", status, out)
	}
}

func TestANewerGetUpdatesTerminatesTheHeldOne(t *testing.T) {
	s := New(t, Options{MaxHold: time.Minute})
	type answer struct {
		status int
		out    map[string]any
	}
	first := make(chan answer, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"offset": "0", "timeout": "60"})
		resp, err := http.Post(s.URL+"/bot"+s.Token+"/getUpdates", "application/json", bytes.NewReader(body))
		if err != nil {
			first <- answer{}
			return
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		first <- answer{resp.StatusCode, out}
	}()
	s.Await(t, 5*time.Second, "the first poll to be held", func() bool { return s.Holding() == 1 })

	// A second instance polls the same bot: the first poll ends with 409.
	status, out := call(t, s, "getUpdates", map[string]any{"offset": "0", "timeout": "0"})
	if status != http.StatusOK {
		t.Fatalf("the newer poll answered %d %v", status, out)
	}
	a := <-first
	if a.status != http.StatusConflict || a.out["description"] != ConflictDescription || a.out["error_code"] != float64(409) {
		t.Fatalf("the older poll answered %d %v, want 409 %q", a.status, a.out, ConflictDescription)
	}
	if n := s.Conflicts(); n != 1 {
		t.Errorf("Conflicts() = %d, want 1", n)
	}
}

func TestWebhookModeRefusesGetUpdatesAndHandsOutUpdates(t *testing.T) {
	s := New(t, Options{})
	if status, out := call(t, s, "setWebhook", map[string]any{"url": "https://x.example/hook", "secret_token": "k"}); status != 200 {
		t.Fatalf("setWebhook: %d %v", status, out)
	}
	status, out := call(t, s, "getUpdates", map[string]any{"offset": "0", "timeout": "0"})
	if status != http.StatusConflict || !strings.Contains(out["description"].(string), "webhook is active") {
		t.Fatalf("getUpdates with a webhook set answered %d %v", status, out)
	}
	s.SendText(User{ID: 1, FirstName: "A"}, Group(-1, "G"), "one")
	s.SendText(User{ID: 1, FirstName: "A"}, Group(-1, "G"), "two")
	got := s.TakeUpdates()
	if len(got) != 2 || got[0].Message.Text != "one" || got[1].Message.Text != "two" {
		t.Fatalf("TakeUpdates = %+v", got)
	}
	if s.Pending() != 0 || len(s.TakeUpdates()) != 0 {
		t.Errorf("updates taken are still pending")
	}
}
