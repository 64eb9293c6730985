package telegram

import (
	"strings"
	"testing"
	"unicode/utf8"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/bridge"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name, text     string
		isCmd, forUs   bool
		wantCmd, wantR string
	}{
		{"plain clm", "/clm unlock Work s3cret", true, true, "clm", "unlock Work s3cret"},
		{"addressed to us", "/clm@clm_bot send Work hi", true, true, "clm", "send Work hi"},
		{"addressed to us, other case", "/clm@CLM_Bot chats", true, true, "clm", "chats"},
		{"addressed to another bot", "/clm@other_bot send Work hi", true, false, "", ""},
		{"multi-line keeps lines", "/clm send Work first\nsecond\n\nfourth", true, true, "clm", "send Work first\nsecond\n\nfourth"},
		{"newline after command", "/clm\nsend Work x", true, true, "clm", "send Work x"},
		{"bare", "/clm", true, true, "clm", ""},
		{"upper case command", "/CLM help", true, true, "clm", "help"},
		{"start with payload", "/start clm", true, true, "start", "clm"},
		{"not a command", "hello /clm", false, false, "", ""},
		{"slash alone", "/", false, false, "", ""},
		{"path-like", "/usr/bin send", false, false, "", ""},
		{"pointer text", `{"e": 1, "n": "x", "d": "ab"}`, false, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, isCmd, forUs := parseCommand(tt.text, "clm_bot")
			if isCmd != tt.isCmd || forUs != tt.forUs {
				t.Fatalf("parseCommand(%q): command=%v forUs=%v, want %v %v", tt.text, isCmd, forUs, tt.isCmd, tt.forUs)
			}
			if c.Name != tt.wantCmd || c.Rest != tt.wantR {
				t.Errorf("parseCommand(%q) = %q %q, want %q %q", tt.text, c.Name, c.Rest, tt.wantCmd, tt.wantR)
			}
		})
	}
}

func TestParseInlineQuery(t *testing.T) {
	tests := []struct {
		q, chat, text string
		named         bool
	}{
		{"Work: hello", "Work", "hello", true},
		{"  Work :  hello there  ", "Work", "hello there", true},
		{`"Project Athena": launch at 9: sharp`, "Project Athena", "launch at 9: sharp", true},
		{"Work:", "Work", "", true},
		{"hello", "", "hello", false},
		{": hello", "", ": hello", false},
		{"", "", "", false},
		{strings.Repeat("n", 65) + ": x", "", strings.Repeat("n", 65) + ": x", false},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			chat, text, named := parseInlineQuery(tt.q)
			if chat != tt.chat || text != tt.text || named != tt.named {
				t.Errorf("parseInlineQuery(%q) = %q, %q, %v; want %q, %q, %v", tt.q, chat, text, named, tt.chat, tt.text, tt.named)
			}
		})
	}
}

func TestSplitTextKeepsEverythingWithinTheLimit(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit int
		parts int
	}{
		{"short", "hello", 10, 1},
		{"empty", "", 10, 1},
		{"exact", "0123456789", 10, 1},
		{"breaks at newline", "aaaa\nbbbb\ncccc", 10, 2},
		{"breaks at space", "aaaa bbbb cccc", 10, 2},
		{"hard break", strings.Repeat("x", 25), 10, 3},
		{"emoji count as two units", strings.Repeat("🔓", 6), 10, 2},
		{"telegram limit", strings.Repeat("line of text\n", 700), maxMessageUnits, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := splitText(tt.text, tt.limit)
			if len(parts) != tt.parts {
				t.Errorf("got %d parts, want %d", len(parts), tt.parts)
			}
			checkSplit(t, tt.text, tt.limit, parts)
		})
	}
}

func checkSplit(t *testing.T, text string, limit int, parts []string) {
	t.Helper()
	if strings.Join(parts, "") != text {
		t.Fatalf("parts do not join back to the text")
	}
	for i, p := range parts {
		if units(p) > limit {
			t.Errorf("part %d has %d units, limit %d", i, units(p), limit)
		}
		if p == "" && len(parts) > 1 {
			t.Errorf("part %d is empty", i)
		}
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("hello world\nsecond line", 5)
	f.Add(strings.Repeat("🔓x ", 50), 7)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if !utf8.ValidString(text) || limit < 2 || limit > 5000 {
			t.Skip()
		}
		checkSplit(t, text, limit, splitText(text, limit))
	})
}

func FuzzParseCommand(f *testing.F) {
	f.Add("/clm@clm_bot send Work hi\nthere")
	f.Add("/start")
	f.Add("/clm@@x")
	f.Fuzz(func(t *testing.T, text string) {
		c, isCmd, forUs := parseCommand(text, "clm_bot")
		if !isCmd && (forUs || c.Name != "") {
			t.Fatalf("not a command but forUs=%v name=%q", forUs, c.Name)
		}
		if forUs && !strings.HasSuffix(text, c.Rest) {
			t.Fatalf("rest %q is not the end of %q", c.Rest, text)
		}
	})
}

func FuzzParseInlineQuery(f *testing.F) {
	f.Add("Work: hello")
	f.Add(`"a": b`)
	f.Add(`'`)
	f.Fuzz(func(t *testing.T, q string) {
		chat, text, named := parseInlineQuery(q)
		if named && (chat == "" || strings.ContainsAny(chat, "\n\r")) {
			t.Fatalf("bad chat %q from %q", chat, q)
		}
		if !named && text != strings.TrimSpace(q) {
			t.Fatalf("unnamed query lost text: %q from %q", text, q)
		}
	})
}

func TestTruncateUnits(t *testing.T) {
	if got := truncateUnits("short", 10); got != "short" {
		t.Errorf("short text changed: %q", got)
	}
	got := truncateUnits(strings.Repeat("é🔓", 40), 20)
	if units(got) > 20 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("truncateUnits gave %q (%d units)", got, units(got))
	}
}

func TestPlaceAndMember(t *testing.T) {
	tests := []struct {
		name string
		chat tele.Chat
		ok   bool
		kind bridge.PlaceKind
	}{
		{"private", tele.Chat{ID: 7, Type: tele.ChatPrivate}, true, bridge.Private},
		{"group", tele.Chat{ID: -5, Type: tele.ChatGroup, Title: "Team"}, true, bridge.Public},
		{"supergroup", tele.Chat{ID: -1005, Type: tele.ChatSuperGroup, Title: "Team"}, true, bridge.Public},
		{"channel is not served", tele.Chat{ID: -1006, Type: tele.ChatChannel}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := placeOf(&tt.chat)
			if ok != tt.ok || (ok && p.Kind != tt.kind) {
				t.Errorf("placeOf = %+v, %v", p, ok)
			}
		})
	}
	m := memberOf(&tele.User{ID: 12, FirstName: "Alice", LastName: "Liddell", Username: "al"})
	if m.Platform != "telegram" || m.ID != "12" || m.DisplayName != "Alice Liddell" {
		t.Errorf("memberOf = %+v", m)
	}
	if m := memberOf(&tele.User{ID: 13, Username: "bobby"}); m.DisplayName != "bobby" {
		t.Errorf("username fallback: %+v", m)
	}
}

func TestReceiveDataFitsTelegramsLimit(t *testing.T) {
	// The core promises refs of at most 32 bytes; with the telebot prefix
	// they must fit the 64 bytes of callback_data.
	if n := len(receiveData(strings.Repeat("r", 32))); n > maxCallbackData {
		t.Fatalf("callback data for a 32-byte ref is %d bytes", n)
	}
}
