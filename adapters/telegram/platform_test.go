package telegram

import (
	"testing"

	"github.com/clmbridge/clmbridge/platform"
)

func TestBotAPIMethodsAreCountedByClass(t *testing.T) {
	tests := []struct {
		method string
		want   platform.APIClass
	}{
		{"sendMessage", platform.ClassSend},
		{"editMessageReplyMarkup", platform.ClassEdit},
		{"deleteMessage", platform.ClassDelete},
		{"answerInlineQuery", platform.ClassAnswer},
		{"getUpdates", platform.ClassPoll},
		{"setMyCommands", platform.ClassRegister},
		{"getChatMember", platform.ClassMeta},
		{"banChatMember", platform.ClassOther},
	}
	for _, tt := range tests {
		if got := methodClass(tt.method); got != tt.want {
			t.Errorf("methodClass(%q) = %q, want %q", tt.method, got, tt.want)
		}
	}
}
