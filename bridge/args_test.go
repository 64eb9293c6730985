package bridge

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNextWordReadsPlainAndQuotedNames(t *testing.T) {
	tests := []struct {
		name, in, word, rest string
		err                  bool
	}{
		{"plain", "Work hello there", "Work", "hello there", false},
		{"leading space", "  Work   hi", "Work", "hi", false},
		{"only word", "Work", "Work", "", false},
		{"empty", "   ", "", "", false},
		{"quoted", `"Project Athena" hello`, "Project Athena", "hello", false},
		{"quoted escapes", `"say \"hi\" \\ now" x`, `say "hi" \ now`, "x", false},
		{"curly quotes", "\u201cProject Athena\u201d hi", "Project Athena", "hi", false},
		{"guillemets", "\u00abProjet Ath\u00e9na\u00bb salut", "Projet Ath\u00e9na", "salut", false},
		{"newlines kept in rest", "Work line one\nline two\n", "Work", "line one\nline two\n", false},
		{"rest after newline", "Work\nhello", "Work", "hello", false},
		{"unterminated", `"Project Athena hello`, "", "", true},
		{"empty quotes", `"" x`, "", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, r, err := nextWord(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if w != tt.word || r != tt.rest {
				t.Fatalf("nextWord(%q) = %q, %q; want %q, %q", tt.in, w, r, tt.word, tt.rest)
			}
		})
	}
}

func TestQuoteNameReadsBackUnchanged(t *testing.T) {
	for _, name := range []string{"Work", "Project Athena", `a "b" c`, `back\slash`, "\u201cquoted", "x y\\"} {
		t.Run(name, func(t *testing.T) {
			w, rest, err := nextWord(quoteName(name) + " tail")
			if err != nil || w != name || rest != "tail" {
				t.Fatalf("quoteName(%q) = %s reads back as %q, %q, %v", name, quoteName(name), w, rest, err)
			}
		})
	}
}

func TestCheckNameRefusesBadNames(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"fine", "Work", true},
		{"spaces inside", "Project Athena", true},
		{"emoji", "🚀 Team", true},
		{"empty", "", false},
		{"too long", strings.Repeat("x", MaxChatNameRunes+1), false},
		{"separator", "a|¶|b", false},
		{"leading space", " Work", false},
		{"newline", "Wo\nrk", false},
		{"bidi override", "Wo\u202erk", false},
		{"invalid utf8", "Wo\xffrk", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := checkName("chat name", tt.in, MaxChatNameRunes)
			if (msg == "") != tt.ok {
				t.Fatalf("checkName(%q) = %q, want ok=%v", tt.in, msg, tt.ok)
			}
		})
	}
}

func FuzzNextWord(f *testing.F) {
	for _, s := range []string{"Work hi", `"Project Athena" x`, "\u201ca\u201d b", `"\`, "", "  \n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, rest, err := nextWord(s)
		if err != nil {
			return
		}
		if len(rest) > len(s) {
			t.Fatalf("rest longer than input")
		}
		if utf8.ValidString(s) && !utf8.ValidString(w) {
			t.Fatalf("word %q from valid input is not valid UTF-8", w)
		}
		// A name quoted by quoteName always reads back.
		if utf8.ValidString(w) {
			w2, rest2, err := nextWord(quoteName(w) + " z")
			if err != nil || w2 != w || rest2 != "z" {
				t.Fatalf("quoteName(%q) round trip: %q %q %v", w, w2, rest2, err)
			}
		}
	})
}

func TestSplitMessageNumbersPartsWithinLimit(t *testing.T) {
	text := strings.Repeat("word ", 200) + strings.Repeat("é", 100)
	parts, err := splitMessage(text, 120, 20)
	if err != nil {
		t.Fatal(err)
	}
	var joined strings.Builder
	for i, p := range parts {
		if len(p) > 120 {
			t.Errorf("part %d is %d bytes", i, len(p))
		}
		label := "[" + itoa(i+1) + "/" + itoa(len(parts)) + "] "
		if !strings.HasPrefix(p, label) {
			t.Fatalf("part %d %q lacks label %q", i, p, label)
		}
		joined.WriteString(strings.TrimPrefix(p, label))
	}
	if joined.String() != text {
		t.Fatal("parts do not join back into the text")
	}
	if _, err := splitMessage(strings.Repeat("x", 5000), 120, 20); err == nil {
		t.Fatal("5000 bytes in 20 parts of 120 should not fit")
	}
}

func FuzzSplitMessage(f *testing.F) {
	f.Add("hello world", 20)
	f.Add(strings.Repeat("ab ", 50), 16)
	f.Fuzz(func(t *testing.T, text string, max int) {
		if max < 0 || max > 1000 || !utf8.ValidString(text) {
			return
		}
		parts, err := splitMessage(text, max, MaxSplitParts)
		if err != nil {
			return
		}
		var joined strings.Builder
		for i, p := range parts {
			if len(p) > max {
				t.Fatalf("part %d has %d bytes > %d", i, len(p), max)
			}
			if !utf8.ValidString(p) {
				t.Fatalf("part %d is not valid UTF-8", i)
			}
			_, after, _ := strings.Cut(p, "] ")
			joined.WriteString(after)
		}
		if joined.String() != text {
			t.Fatalf("parts do not join back")
		}
	})
}

func TestAsCommandReadsBareAndPrefixedCommands(t *testing.T) {
	b := &Bridge{cmds: map[string]*command{}}
	for _, c := range commandTable() {
		b.cmds[c.Name] = c
	}
	tests := []struct {
		in, name, args string
		explicit, ok   bool
	}{
		{"unlock Work s3cret", "unlock", "Work s3cret", false, true},
		{"/clm unlock Work s3cret", "unlock", "Work s3cret", true, true},
		{"/CLM Unlock Work s3cret", "unlock", "Work s3cret", true, true},
		{"/clm\u00a0unlock Work s3cret", "unlock", "Work s3cret", true, true},
		{"\uff0fclm\u3000unlock Work s3cret", "unlock", "Work s3cret", true, true},
		{"/clm", "help", "", true, true},
		{"/clm s3cret-horse", "s3cret-horse", "", true, true},
		{"/chats", "chats", "", true, true},
		{"clm chats", "chats", "", true, true},
		{"CLM  send x y\nz", "send", "x y\nz", true, true},
		{"clm", "help", "", true, true},
		{"clm sk-live-9f8e7d", "", "", false, false},
		{"clmfoo bar", "", "", false, false},
		{"HELP", "help", "", false, true},
		{"hello there", "", "", false, false},
		{"/clmx chats", "", "", false, false},
		{"correct horse battery", "", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, args, explicit, ok := b.asCommand(tt.in)
			if ok != tt.ok || name != tt.name || args != tt.args || explicit != tt.explicit {
				t.Fatalf("asCommand(%q) = %q %q explicit %v ok %v", tt.in, name, args, explicit, ok)
			}
		})
	}
}
