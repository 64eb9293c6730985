package bridge

import (
	"slices"
	"strings"
	"unicode"
)

// ArgKind is what an argument of a command holds. The kind decides how
// the core reads the argument, and what platforms may do with it: a
// secret is accepted only where nobody but the bot reads the input.
type ArgKind int

const (
	// ArgChat is a chat name: one word, or quoted when it holds spaces
	// ("Project Athena"). Platforms may autocomplete it.
	ArgChat ArgKind = iota + 1
	// ArgSecret is a secret (a chat's secret, a master phrase): the rest
	// of the line. A command given one is refused unless the input is
	// private, and a form field on a platform with forms, never an option
	// others may see.
	ArgSecret
	// ArgText is free text, the rest of the line, verbatim.
	ArgText
	// ArgNumber is a positive decimal number ("12" or "#12").
	ArgNumber
	// ArgFlag is a switch: the word Arg.Words[0] ("--split") written
	// before the other arguments when it is on.
	ArgFlag
	// ArgConfirm is the word Arg.Words[0] ("confirm") written last to go
	// ahead without being asked again.
	ArgConfirm
	// ArgChoice is one of Arg.Words ("on", "off").
	ArgChoice
	// ArgCommand is the name of one of the bridge's commands (help's topic).
	ArgCommand
)

// Arg is one argument of a command, in the order members type them.
type Arg struct {
	// Name is the argument as help shows it ("chat", "new secret").
	Name string
	// Key names the argument where a platform needs an identifier (a
	// Discord option or form field): lower case, no spaces.
	Key string
	// Summary says in a few words what to give (at most 100 characters,
	// Discord's limit for an option's description).
	Summary string
	Kind    ArgKind
	// Optional arguments may be left out.
	Optional bool
	// Words are a flag's or a confirmation's word, or a choice's words.
	Words []string
	// Long marks text that may run to many lines (a message): platforms
	// with forms offer a large text field for it.
	Long bool
}

// usage is the argument as help writes it: <chat>, [page], [--split],
// [on|off].
func (a Arg) usage() string {
	word := a.Name
	if len(a.Words) > 0 {
		word = strings.Join(a.Words, "|")
	}
	if a.Optional {
		return "[" + word + "]"
	}
	return "<" + word + ">"
}

// CommandSpec describes one command a member can ask the bridge: the data
// every adapter builds its command menus, forms and parsing from, and the
// core derives its policy on secrets from.
type CommandSpec struct {
	// Name is the word after /clm, lower case.
	Name string
	// Summary is one line for the command list (at most 100 characters,
	// Discord's limit for a command's description).
	Summary string
	// Help says more, for "help <command>" ("" when Summary says it all).
	Help string
	// Args are the command's arguments, in the order members type them.
	Args []Arg
}

// Usage is how the arguments are written after the command's name
// ("<chat> [secret]"), "" for a command without arguments.
func (c CommandSpec) Usage() string {
	words := make([]string, len(c.Args))
	for i, a := range c.Args {
		words[i] = a.usage()
	}
	return strings.Join(words, " ")
}

// secretAt returns the position of the command's secret argument, or -1.
func (c CommandSpec) secretAt() int {
	return slices.IndexFunc(c.Args, func(a Arg) bool { return a.Kind == ArgSecret })
}

// HasSecret reports whether the command takes a secret: given one, it is
// refused unless the input is private.
func (c CommandSpec) HasSecret() bool { return c.secretAt() >= 0 }

// PrivateOnly reports whether the command can only be used privately: its
// secret argument is required.
func (c CommandSpec) PrivateOnly() bool {
	i := c.secretAt()
	return i >= 0 && !c.Args[i].Optional
}

// carriesSecret reports whether args surely hold the secret: something
// follows the arguments before the secret ("unlock Work s3cret"), or they
// do not parse (`unlock "Project Athena s3cret`, the quote not closed: the
// secret may be inside). Such a request is refused unless the input is
// private, and in private the message is deleted where the platform
// allows.
func (c CommandSpec) carriesSecret(args string) bool {
	at := c.secretAt()
	if at < 0 {
		return false
	}
	rest := args
	for range at {
		var err error
		if _, rest, err = nextWord(rest); err != nil {
			return true
		}
	}
	return strings.TrimSpace(rest) != ""
}

// mayHoldSecret reports whether args may hold a secret typed in the wrong
// place: a command whose secret is required, given any arguments ("unlock
// <secret>", the chat name forgotten). In public the message is removed
// and nothing runs.
func (c CommandSpec) mayHoldSecret(args string) bool {
	return c.PrivateOnly() && strings.TrimSpace(args) != ""
}

// parses reports whether args have the shape the arguments describe. In
// public, arguments that do not parse may be a secret typed in the wrong
// place, so the message is removed and nothing runs. A chat name given
// last may be followed by more words (the quotes may be left out of a
// sole chat name: "lock Project Athena").
func (c CommandSpec) parses(args string) bool {
	rest := strings.TrimSpace(args)
	for i, a := range c.Args {
		switch a.Kind {
		case ArgFlag:
			end := strings.IndexFunc(rest, unicode.IsSpace)
			if end < 0 {
				end = len(rest)
			}
			if rest[:end] == a.Words[0] {
				rest = strings.TrimSpace(rest[end:])
			}
		case ArgChat:
			_, after, err := nextWord(rest)
			if err != nil {
				return false
			}
			if i == len(c.Args)-1 {
				return true
			}
			rest = strings.TrimSpace(after)
		case ArgText, ArgSecret:
			return true
		case ArgNumber:
			return rest == "" && a.Optional || number(rest)
		case ArgConfirm, ArgChoice:
			return rest == "" && a.Optional || slices.ContainsFunc(a.Words, func(w string) bool { return strings.EqualFold(w, rest) })
		case ArgCommand:
			t := helpTopicName(rest)
			return t == "" || commandName(t)
		}
	}
	return rest == ""
}

// number reports whether w is a positive decimal number, "#" in front
// allowed ("#12").
func number(w string) bool {
	w = strings.TrimPrefix(w, "#")
	if w == "" || len(w) > 18 {
		return false
	}
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Arguments shared by many commands.
var (
	chatArg      = Arg{Name: "chat", Key: "chat", Summary: "The chat", Kind: ArgChat}
	idArg        = Arg{Name: "id", Key: "id", Summary: "Message number", Kind: ArgNumber}
	confirmWords = []string{"confirm"}
)

// Schema returns the bridge's commands, in the order help lists them. It
// is a fresh copy: callers may change it.
func Schema() []CommandSpec {
	return []CommandSpec{
		{Name: "help", Summary: "list the commands, or explain one",
			Args: []Arg{{Name: "command", Key: "command", Summary: "A command to explain", Kind: ArgCommand, Optional: true}}},
		{Name: "new", Summary: "create a chat (no secret: I make a strong one)",
			Help: "Creates a chat and unlocks it. Without a secret I generate a strong one and show it to you once, privately; share it with the chat's members in person or by another safe way. A secret you choose must be at least 8 characters, and may only be typed in a private chat with me.",
			Args: []Arg{{Name: "chat", Key: "chat", Summary: "Name of the new chat", Kind: ArgChat},
				{Name: "secret", Key: "secret", Summary: "Empty: I make a strong one. Shared out of band with the chat's members", Kind: ArgSecret, Optional: true}}},
		{Name: "unlock", Summary: "open one of your chats, or join one you were told about (private chat only)",
			Help: "Unlocks the chat for this session: its secret stays in my memory only, and is wiped after 30 minutes without use, 12 hours at most, or when you lock it. If you have no chat of that name, you join it: the name and secret are checked when its first pointer opens (/clm receive). You may have " + itoa(MaxUnconfirmedChats) + " joined chats waiting for that at a time. A secret you chose (new, rekey, or joining) counts as a guess until it opens a pointer someone else posted (its Receive button): a receive that leaves a pointer closed counts each such secret as a wrong one. Only in a private chat with me: a secret typed in a group is burned.",
			Args: []Arg{{Name: "chat", Key: "chat", Summary: "The chat to unlock", Kind: ArgChat},
				{Name: "secret", Key: "secret", Summary: "The chat's secret", Kind: ArgSecret}}},
		{Name: "lock", Summary: "forget the secret of one chat, or of all, now",
			Args: []Arg{{Name: "chat", Key: "chat", Summary: "The chat to lock (empty: all)", Kind: ArgChat, Optional: true}}},
		{Name: "chats", Summary: "your chats: messages, and locked or not"},
		{Name: "send", Summary: "make a pointer of your message, typed where only I see it",
			Help: "Makes a tagged CLM pointer of your message in the chat, signed with your nickname, and saves it in your history. In a private chat with me you get the pointer to paste or forward where the chat's members read it. Typed in a group, your text would be public: I refuse. If the message is too long for one post I tell you the limit; with --split I send it as numbered parts. Chat names with spaces go in quotes: send \"Project Athena\" hello",
			Args: []Arg{{Name: "split", Key: "split", Summary: "Too long for one pointer? Send it in numbered parts", Kind: ArgFlag, Optional: true, Words: []string{"--split"}},
				{Name: "chat", Key: "chat", Summary: "The chat to send in", Kind: ArgChat},
				{Name: "message", Key: "text", Summary: "The message", Kind: ArgText, Long: true}}},
		{Name: "receive", Summary: "open pointers (pasted, or in the post you reply to) privately",
			Help: "Opens every pointer in the text (or in the post you reply to, or behind a Receive button) with your unlocked chats, shows the text only to you, and saves it. If none of your chats opens it and we are in a private chat, I ask for the chat's secret: answer with it as your next message (as secret: <your secret> if it starts with a command's name) and I create the chat from the name inside the pointer. A pointer never replaces or changes a chat you have. Old untagged pointers (from 2.0.2 clients) are shown marked as unauthenticated: nothing proves their chat name, so they never rename a chat, and a chat made from one comes with a reminder to check its name. Tampered pointers are refused.",
			Args: []Arg{{Name: "pointer text", Key: "text", Summary: "Text holding one or more pointers", Kind: ArgText, Optional: true}}},
		{Name: "history", Summary: "your messages of a chat, newest first",
			Args: []Arg{chatArg, {Name: "page", Key: "page", Summary: "Page number", Kind: ArgNumber, Optional: true}}},
		{Name: "search", Summary: "find messages of a chat holding the words",
			Args: []Arg{chatArg, {Name: "words", Key: "words", Summary: "Words to find", Kind: ArgText}}},
		{Name: "trash", Summary: "list the chat's deleted messages", Args: []Arg{chatArg}},
		{Name: "delete", Summary: "move a message to the trash", Args: []Arg{chatArg, idArg}},
		{Name: "restore", Summary: "take a message out of the trash", Args: []Arg{chatArg, idArg}},
		{Name: "purge", Summary: "delete a message for good", Args: []Arg{chatArg, idArg}},
		{Name: "clear", Summary: "delete every message of a chat (asks first)",
			Args: []Arg{chatArg, {Name: "confirm", Key: "confirm", Summary: "Go ahead without asking again", Kind: ArgConfirm, Optional: true, Words: confirmWords}}},
		{Name: "forget", Summary: "delete a chat and its messages from your store (asks first)",
			Args: []Arg{chatArg, {Name: "confirm", Key: "confirm", Summary: "Go ahead without asking again", Kind: ArgConfirm, Optional: true, Words: confirmWords}}},
		{Name: "rekey", Summary: "change a chat's secret (private chat only)",
			Help: "Changes the secret of an unlocked chat and re-seals your stored messages with it. Only in a private chat with me. Tell the chat's members the new secret out of band; each of them unlocks the chat with the old secret and runs rekey too. Pointers made with the old secret no longer open for you.",
			Args: []Arg{chatArg, {Name: "new secret", Key: "secret", Summary: "The chat's new secret", Kind: ArgSecret}}},
		{Name: "export", Summary: "your history of a chat as a JSON file, privately", Args: []Arg{chatArg}},
		{Name: "name", Summary: "show or change the nickname you sign messages with",
			Args: []Arg{{Name: "nickname", Key: "nickname", Summary: "Your CLM nickname", Kind: ArgText, Optional: true}}},
		{Name: "profile", Summary: "your nickname and chats; with a master phrase, your 2.0.2 public key",
			Help: "Shows your nickname, chats and settings. Given your CLM master phrase (private chat only), it also shows the public key a CLM 2.0.2 client would compute for your nickname; the phrase is not stored.",
			Args: []Arg{{Name: "master phrase", Key: "secret", Summary: "Your CLM master phrase, for your 2.0.2 public key (not stored)", Kind: ArgSecret, Optional: true}}},
		{Name: "watch", Summary: "open pointers of your unlocked chats posted where I see you, and send them to you privately",
			Args: []Arg{{Name: "state", Key: "state", Summary: "on or off (empty: show the setting)", Kind: ArgChoice, Optional: true, Words: []string{"on", "off"}}}},
		{Name: "cancel", Summary: "drop the question I asked you (a secret, or a confirmation)"},
		{Name: "whoami", Summary: "your id on this platform, shown only to you (an operator names theirs in CLM_ADMINS)"},
		{Name: "doctor", Summary: "for the bot's operators: check the bot's setup and say what to fix",
			Help: "Checks the bridge's configuration, its store and each platform's settings, as `bridge doctor` does, and shows the findings and what to fix only to you, privately, wherever you ask. Only the bot's operators may run it (the members named in CLM_ADMINS)."},
	}
}

// LookupCommand returns the command named name (folded as members may type
// it: any case, fullwidth letters), and whether there is one.
func LookupCommand(name string) (CommandSpec, bool) {
	name = foldCommandName(strings.TrimSpace(name))
	for _, c := range Schema() {
		if c.Name == name {
			return c, true
		}
	}
	return CommandSpec{}, false
}

// LogName returns name when it is one of the bridge's commands, else
// "unknown": the word after /clm is what the member typed (it may be a
// secret typed in the wrong place), so logs and metrics show only the
// schema's names.
func LogName(name string) string {
	if c, ok := LookupCommand(name); ok {
		return c.Name
	}
	return "unknown"
}
