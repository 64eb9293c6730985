package bridge

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CommandWord is the command members type in front of every bridge
// command ("/clm unlock …").
const CommandWord = "clm"

// CommandText is a /clm command recognised in the text of a message by
// ParseCommandText.
type CommandText struct {
	// Name is the word after /clm, folded to lower case (fullwidth letters
	// to ASCII); "help" for a bare /clm. It may be any word, not only one
	// of the bridge's commands: it is what the member typed, and may be a
	// secret typed in the wrong place, so it is never logged or shown.
	Name string
	// Args is everything after Name, its leading white space removed and
	// otherwise verbatim (newlines kept), as Request.Args wants it.
	Args string
	// Bot is the bot named by "/clm@bot" (without the "@"), "" when none.
	Bot string
}

// ForBot reports whether the command is addressed to the bot named
// username: it names no bot, or names that one (in any case). A command
// addressed to another bot ("/clm@other_bot" in a Telegram group) is that
// bot's business.
func (ct CommandText) ForBot(username string) bool {
	return ct.Bot == "" || strings.EqualFold(ct.Bot, strings.TrimPrefix(username, "@"))
}

// ParseCommandText recognises text written as a /clm command, the one way
// every adapter and the core do so, since a variant that one place misses
// is a secret left readable in a channel. It accepts leading white space,
// the fullwidth solidus (U+FF0F, "／clm") and fullwidth letters, any case
// ("/CLM"), an addressed bot ("/clm@mybot"), and any Unicode white space
// (NBSP, U+3000, a newline, a tab…) or zero-width space between /clm and
// the command. "/clmx" and "clm …" are not commands: ok is false.
func ParseCommandText(text string) (ct CommandText, ok bool) {
	t := strings.TrimLeftFunc(text, isCommandSpace)
	r, n := utf8.DecodeRuneInString(t)
	if r != '/' && r != '\uff0f' {
		return CommandText{}, false
	}
	t = t[n:]
	for _, want := range CommandWord {
		r, n := utf8.DecodeRuneInString(t)
		if unicode.ToLower(foldWidth(r)) != want {
			return CommandText{}, false
		}
		t = t[n:]
	}
	if r, n := utf8.DecodeRuneInString(t); r == '@' || r == '\uff20' {
		end := strings.IndexFunc(t[n:], isCommandSpace)
		if end < 0 {
			end = len(t) - n
		}
		ct.Bot, t = t[n:n+end], t[n+end:]
	}
	if r, _ := utf8.DecodeRuneInString(t); t != "" && !isCommandSpace(r) {
		return CommandText{}, false // "/clmfoo", "/clm:"
	}
	ct.Name, ct.Args = splitCommandWord(t)
	if ct.Name == "" {
		ct.Name = "help"
	}
	return ct, true
}

// ParseBareSecretCommand recognises a public post written as one of the
// bridge's secret-bearing commands without the /clm prefix, such as
// "/unlock Work s3cret" or "/rekey Work n3w": a member who forgot /clm
// has typed a secret where others read it, and the core treats it as the
// command so that the secret rule burns it (deleted, author warned). Only
// a command with a secret argument whose arguments may hold the secret
// counts, and only without "@otherbot": "/new Work" or another bot's
// "/new poll", for example, stay ordinary posts.
func ParseBareSecretCommand(text string) (ct CommandText, ok bool) {
	t := strings.TrimLeftFunc(text, isCommandSpace)
	r, n := utf8.DecodeRuneInString(t)
	if r != '/' && r != '\uff0f' {
		return CommandText{}, false
	}
	ct.Name, ct.Args = splitCommandWord(t[n:])
	cmd, known := LookupCommand(ct.Name)
	if !known || !cmd.HasSecret() || strings.ContainsAny(ct.Name, "@\uff20") {
		return CommandText{}, false
	}
	if !ct.MayHoldSecret() {
		return CommandText{}, false
	}
	return ct, true
}

// splitCommandWord splits s into its first word, folded (lower case, ASCII
// for fullwidth letters), and what follows it with leading white space
// removed.
func splitCommandWord(s string) (name, rest string) {
	s = strings.TrimLeftFunc(s, isCommandSpace)
	end := strings.IndexFunc(s, isCommandSpace)
	if end < 0 {
		end = len(s)
	}
	return foldCommandName(s[:end]), strings.TrimLeftFunc(s[end:], isCommandSpace)
}

// foldCommandName folds a command word the way members may type it: any
// case, fullwidth letters from an East Asian keyboard.
func foldCommandName(w string) string {
	return strings.ToLower(strings.Map(foldWidth, w))
}

// foldWidth maps a fullwidth ASCII variant (U+FF01–U+FF5E) to its ASCII
// character, and any other rune to itself.
func foldWidth(r rune) rune {
	if r >= '\uff01' && r <= '\uff5e' {
		return r - 0xff01 + '!'
	}
	return r
}

// isCommandSpace reports whether r separates the words of a command:
// Unicode white space, or an invisible zero-width space, word joiner or
// byte order mark, which a member cannot see and would not mean as part of
// a word.
func isCommandSpace(r rune) bool {
	switch r {
	case '\u200b', '\u2060', '\ufeff':
		return true
	}
	return unicode.IsSpace(r)
}

// MayHoldSecret reports whether the core refuses this command in a public
// place because it may hold a secret (a secret-bearing command with
// arguments, a word that is no command, arguments that do not parse):
// there the core deletes the message and warns the member. Adapters use
// it to handle such a message first, so the secret is deleted at once;
// it is read from the same command table the core decides with.
func (ct CommandText) MayHoldSecret() bool {
	cmd, ok := LookupCommand(ct.Name)
	if !ok {
		return true
	}
	return cmd.carriesSecret(ct.Args) || cmd.mayHoldSecret(ct.Args) || !cmd.parses(ct.Args)
}
