package bridge

import (
	"context"
	"strings"
	"testing"
)

// buttonRecorder is a recorder whose platform has buttons: it records each
// confirmation asked, or refuses with err.
type buttonRecorder struct {
	recorder
	err   error
	asked [][3]string // question, yes command, no command
}

func (r *buttonRecorder) Confirm(_ context.Context, question, yes, no string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.asked = append(r.asked, [3]string{question, yes, no})
	return nil
}

var _ Confirmer = (*buttonRecorder)(nil)

// ask hands req to the bridge with the Responder r.
func (e *env) ask(req Request, r Responder) {
	e.t.Helper()
	req.Reply = r
	if req.Caps == (Capabilities{}) {
		req.Caps = e.caps
	}
	if err := e.b.Handle(context.Background(), req); err != nil {
		e.t.Fatalf("Handle(%s %q): %v", req.Command, req.Args, err)
	}
}

func TestConfirmationsUseButtonsWhereThePlatformHasThem(t *testing.T) {
	tests := []struct {
		command, chat string
		question, yes string
	}{
		{"forget", "Work", "deletes your chat Work and its 0 messages", "forget Work confirm"},
		{"clear", "Work", "deletes all 0 messages of Work", "clear Work confirm"},
		{"forget", "Project Athena", "deletes your chat Project Athena and its 0 messages", `forget "Project Athena" confirm`},
	}
	for _, tt := range tests {
		t.Run(tt.command+" "+tt.chat, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.newChat("alice", tt.chat, workSecret)
			r := &buttonRecorder{}
			e.ask(Request{Member: member("alice"), Place: general, Command: tt.command, Args: quoteName(tt.chat), Caps: Capabilities{Ephemeral: true, Buttons: true}}, r)
			if len(r.asked) != 1 || !strings.Contains(r.asked[0][0], tt.question) || r.asked[0][1] != tt.yes || r.asked[0][2] != "cancel" {
				t.Fatalf("asked %q, want one question holding %q, yes %q, no \"cancel\"", r.asked, tt.question, tt.yes)
			}
			if len(r.private) != 0 {
				t.Errorf("asked in words as well: %q", r.private)
			}
			if got := e.chatNames("alice"); len(got) != 1 {
				t.Fatalf("chats %v before the press: asking must change nothing", got)
			}
			// The press of Confirm comes back as the yes command.
			name, args, _ := strings.Cut(r.asked[0][1], " ")
			done := e.run(Request{Member: member("alice"), Place: general, Command: name, Args: args, Caps: Capabilities{Ephemeral: true, Buttons: true}})
			if tt.command == "forget" {
				mustContain(t, done.text(), "Forgot "+tt.chat)
				if got := e.chatNames("alice"); len(got) != 0 {
					t.Errorf("chats %v after Confirm", got)
				}
			} else {
				mustContain(t, done.text(), "Cleared "+tt.chat)
			}
		})
	}
}

func TestWithoutButtonsTheConfirmationIsAskedInWords(t *testing.T) {
	for _, name := range []string{"plain responder", "buttons refused"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.newChat("alice", "Work", workSecret)
			var r Responder = &recorder{}
			if name == "buttons refused" {
				r = &buttonRecorder{err: ErrCannotConfirm}
			}
			e.ask(Request{Member: member("alice"), Place: dm, Command: "forget", Args: "Work"}, r)
			var said string
			switch r := r.(type) {
			case *recorder:
				said = r.text()
			case *buttonRecorder:
				said = r.text()
			}
			mustContain(t, said, "deletes your chat Work", "/clm forget Work confirm", "answer yes")
			mustContain(t, e.post("alice", dm, "yes").text(), "Forgot Work")
		})
	}
}

func TestEphemeralAnswersSayEveryRateLimitRefusal(t *testing.T) {
	e := newEnv(t, Options{RateBurst: 2, RatePerMinute: 6})
	ephemeral := Capabilities{MaxPointerChars: 1900, Ephemeral: true, Buttons: true}
	for i := 0; i < 2; i++ {
		e.run(Request{Member: member("alice"), Place: general, Command: "chats", Caps: ephemeral})
	}
	for i := 0; i < 3; i++ {
		r := e.run(Request{Member: member("alice"), Place: general, Command: "chats", Caps: ephemeral})
		mustContain(t, r.text(), "too fast")
		mustNotContain(t, r.text(), "no chats")
	}
}
