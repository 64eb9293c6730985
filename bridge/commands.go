package bridge

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/clm"
)

// command is one thing a member can ask the bridge.
type command struct {
	name    string
	usage   string // arguments, as shown in help
	summary string // one line for the command list
	help    string // more, for "help <command>"
	// carriesSecret reports whether these arguments hold a secret; such a
	// request is refused unless the input is private.
	carriesSecret func(args string) bool
	run           func(c *call, args string)
}

// afterFirstWord reports whether args may hold a secret after the chat
// name: anything after its first word ("unlock Work s3cret"), or arguments
// that do not parse (`unlock "Project Athena s3cret`, the quote not closed:
// the secret may be inside).
func afterFirstWord(args string) bool {
	_, rest, err := nextWord(args)
	return err != nil || strings.TrimSpace(rest) != ""
}

// minMaybeSecretWords is how many words after an unknown command make it
// look like a mistyped command with a secret ("unlcok Work s3cret").
const minMaybeSecretWords = 2

// commandTable returns the commands in the order help lists them.
func commandTable() []*command {
	return []*command{
		{name: "help", usage: "[command]", summary: "list the commands, or explain one",
			run: (*call).cmdHelp},
		{name: "new", usage: "<chat> [secret]", summary: "create a chat (no secret: I make a strong one)",
			help:          "Creates a chat and unlocks it. Without a secret I generate a strong one and show it to you once, privately; share it with the chat's members in person or by another safe way. A secret you choose must be at least 8 characters, and may only be typed in a private chat with me.",
			carriesSecret: afterFirstWord, run: (*call).cmdNew},
		{name: "unlock", usage: "<chat> <secret>", summary: "open one of your chats, or join one you were told about (private chat only)",
			help:          "Unlocks the chat for this session: its secret stays in my memory only, and is wiped after 30 minutes without use, 12 hours at most, or when you lock it. If you have no chat of that name, you join it: the name and secret are checked when its first pointer opens (/clm receive). You may have " + itoa(MaxUnconfirmedChats) + " joined chats waiting for that at a time. A secret you chose (new, rekey, or joining) counts as a guess until it opens a pointer someone else posted (its Receive button): a receive that leaves a pointer closed counts each such secret as a wrong one. Only in a private chat with me: a secret typed in a group is burned.",
			carriesSecret: afterFirstWord, run: (*call).cmdUnlock},
		{name: "lock", usage: "[chat]", summary: "forget the secret of one chat, or of all, now",
			run: (*call).cmdLock},
		{name: "chats", summary: "your chats: messages, and locked or not",
			run: (*call).cmdChats},
		{name: "send", usage: "[--split] <chat> <message>", summary: "make a pointer of your message (private chat)",
			help: "Makes a tagged CLM pointer of your message in the chat, signed with your nickname, and saves it in your history. In a private chat with me you get the pointer to paste or forward where the chat's members read it. Typed in a group, your text would be public: I refuse. If the message is too long for one post I tell you the limit; with --split I send it as numbered parts. Chat names with spaces go in quotes: send \"Project Athena\" hello",
			run:  (*call).cmdSend},
		{name: "receive", usage: "[pointer text]", summary: "open pointers (pasted, or in the post you reply to) privately",
			help: "Opens every pointer in the text (or in the post you reply to, or behind a Receive button) with your unlocked chats, shows the text only to you, and saves it. If none of your chats opens it and we are in a private chat, I ask for the chat's secret: answer with it as your next message and I create the chat from the name inside the pointer. A pointer never replaces or changes a chat you have. Old untagged pointers (from 2.0.2 clients) are shown marked as unauthenticated: nothing proves their chat name, so they never rename a chat, and a chat made from one comes with a reminder to check its name. Tampered pointers are refused.",
			run:  (*call).cmdReceive},
		{name: "history", usage: "<chat> [page]", summary: "your messages of a chat, newest first",
			run: (*call).cmdHistory},
		{name: "search", usage: "<chat> <words>", summary: "find messages of a chat holding the words",
			run: (*call).cmdSearch},
		{name: "trash", usage: "<chat>", summary: "list the chat's deleted messages",
			run: (*call).cmdTrash},
		{name: "delete", usage: "<chat> <id>", summary: "move a message to the trash",
			run: (*call).cmdDelete},
		{name: "restore", usage: "<chat> <id>", summary: "take a message out of the trash",
			run: (*call).cmdRestore},
		{name: "purge", usage: "<chat> <id>", summary: "delete a message for good",
			run: (*call).cmdPurge},
		{name: "clear", usage: "<chat> [confirm]", summary: "delete every message of a chat (asks first)",
			run: (*call).cmdClear},
		{name: "forget", usage: "<chat> [confirm]", summary: "delete a chat and its messages from your store (asks first)",
			run: (*call).cmdForget},
		{name: "rekey", usage: "<chat> <new secret>", summary: "change a chat's secret (private chat only)",
			help:          "Changes the secret of an unlocked chat and re-seals your stored messages with it. Only in a private chat with me. Tell the chat's members the new secret out of band; each of them unlocks the chat with the old secret and runs rekey too. Pointers made with the old secret no longer open for you.",
			carriesSecret: afterFirstWord, run: (*call).cmdRekey},
		{name: "export", usage: "<chat>", summary: "your history of a chat as a JSON file, privately",
			run: (*call).cmdExport},
		{name: "name", usage: "[nickname]", summary: "show or change the nickname you sign messages with",
			run: (*call).cmdName},
		{name: "profile", usage: "[master phrase]", summary: "your nickname and chats; with a master phrase, your 2.0.2 public key",
			help:          "Shows your nickname, chats and settings. Given your CLM master phrase (private chat only), it also shows the public key a CLM 2.0.2 client would compute for your nickname; the phrase is not stored.",
			carriesSecret: func(args string) bool { return strings.TrimSpace(args) != "" }, run: (*call).cmdProfile},
		{name: "watch", usage: "[on|off]", summary: "open pointers of your unlocked chats posted where I see you, and send them to you privately",
			run: (*call).cmdWatch},
		{name: "cancel", summary: "drop the question I asked you (a secret, or a confirmation)",
			run: (*call).cmdCancel},
		{name: "whoami", summary: "your id on this platform, shown only to you (an operator names theirs in CLM_ADMINS)",
			run: (*call).cmdWhoami},
		{name: "doctor", summary: "for the bot's operators: check the bot's setup and say what to fix",
			help: "Checks the bridge's configuration, its store and each platform's settings, as `bridge doctor` does, and shows the findings and what to fix only to you, privately, wherever you ask. Only the bot's operators may run it (the members named in CLM_ADMINS).",
			run:  (*call).cmdDoctor},
	}
}

// runCommand applies the policy and runs one command.
func (c *call) runCommand(name, args string) {
	cmd := c.b.cmds[name]
	if cmd == nil {
		if !c.req.InputIsPrivate() && len(strings.Fields(args)) >= minMaybeSecretWords {
			c.maybeSecret(name)
			return
		}
		c.outcome = "unknown"
		c.private(fmt.Sprintf("I don't know the command %q.", clip(name, 32)), c.shortHelp())
		return
	}
	if cmd.carriesSecret != nil && cmd.carriesSecret(args) {
		if !c.req.InputIsPrivate() {
			c.burned(name)
			return
		}
		// Private: remove the secret from the conversation where the
		// platform allows it.
		c.deleteRequest()
	}
	cmd.run(c, args)
}

// burned handles a secret typed where others can read it: nothing is
// unlocked or changed, the message is deleted if possible, and the member
// is told the secret is public now.
func (c *call) burned(name string) {
	c.outcome = "refused"
	c.b.log.LogAttrs(c.ctx, slog.LevelWarn, "secret typed in a public place refused",
		slog.String("platform", c.req.Member.Platform), slog.String("command", name))
	deleted := c.deleteRequest()
	where := c.req.Place.Name
	if where == "" {
		where = "a public place"
	}
	gone := "I asked to delete your message."
	if !deleted {
		gone = "I could not delete your message: delete it yourself now."
		c.public(PublicPost{Text: "⚠️ A message here held a secret and I could not delete it. Whoever saw it knows that secret; its owner has been told to change it."})
	}
	c.private(
		fmt.Sprintf("🔥 You typed a secret in %s, where others can read it. I did not use it: nothing was unlocked or changed. %s", where, gone),
		"Treat that secret as public from now on. If it is a chat's secret, the chat needs a new one: in a private chat with me, unlock the chat and run /clm rekey <chat> <new secret>, and give the new secret to the chat's members out of band.",
		"Secrets go only in a private chat with me.")
}

// maybeSecret handles an unknown command followed by words in a public
// place: it may be a mistyped command with a secret ("/clm unlcok Work
// s3cret"), so the message is removed and the member warned privately.
// Nothing runs.
func (c *call) maybeSecret(name string) {
	c.outcome = "refused"
	c.b.log.LogAttrs(c.ctx, slog.LevelWarn, "unknown command with words in a public place removed",
		slog.String("platform", c.req.Member.Platform))
	gone := "so I removed your message and did nothing with it."
	if !c.deleteRequest() {
		gone = "so I did nothing with it; but I could not remove your message: delete it yourself now."
	}
	c.private(
		fmt.Sprintf("⚠️ I don't know the command %q. What you typed after it in %s looked like a command with a secret (such as /clm unlock <chat> <secret>), %s", clip(name, 32), placeName(c.req.Place), gone),
		"If it did hold a secret, others may have read it: change it. In a private chat with me, unlock the chat and run /clm rekey <chat> <new secret>, and give the new secret to the chat's members out of band. Secrets go only in a private chat with me.",
		c.shortHelp())
}

// privatePost handles a line the member wrote to the bot privately that
// is not a command: the answer to a question, a command without the /clm
// prefix, or pointers to receive.
func (c *call) privatePost(text string) string {
	if explicitCommand(text) {
		c.st.lateUntil = time.Time{}
	} else if c.lateAnswer(text) {
		return "secret-answer"
	}
	if c.st.pend != nil {
		switch c.st.pend.kind {
		case pendSecret:
			if explicitCommand(text) {
				// "/clm cancel" (or any /command) is not the secret; the
				// question stays open unless the command drops it.
				break
			}
			if p := c.takePending(pendSecret); p != nil {
				c.answerSecret(p, text)
				return "secret-answer"
			}
		case pendClear, pendForget:
			if isYes(text) {
				if p := c.takePending(c.st.pend.kind); p != nil {
					return c.doConfirmed(p.kind, p.chat)
				}
			}
			c.st.pend = nil
		}
	}
	if name, args, ok := c.b.asCommand(text); ok {
		c.runCommand(name, args)
		return logName(c.b, name)
	}
	if len(clm.Extract(text)) > 0 {
		c.receiveText(text, c.source())
		return "receive"
	}
	c.private("I only understand commands here: /clm help lists them. (What you wrote was not stored or shown to anyone.)")
	return "post"
}

// asCommand reads a private line as a command when it starts with a
// command name ("unlock Work …", "/clm unlock Work …", "/unlock …").
func (b *Bridge) asCommand(text string) (name, args string, ok bool) {
	t := strings.TrimLeftFunc(text, unicode.IsSpace)
	if rest, found := strings.CutPrefix(t, "/clm"); found && (rest == "" || unicode.IsSpace(rune(rest[0]))) {
		t = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if t == "" {
			return "help", "", true
		}
	} else {
		t = strings.TrimPrefix(t, "/")
	}
	end := strings.IndexFunc(t, unicode.IsSpace)
	if end < 0 {
		end = len(t)
	}
	name = strings.ToLower(t[:end])
	if _, known := b.cmds[name]; !known {
		return "", "", false
	}
	return name, strings.TrimLeftFunc(t[end:], unicode.IsSpace), true
}

// explicitCommand reports whether a line is written as a command, with
// the /clm prefix or a slash ("/clm cancel", "/cancel"): such a line is
// never taken as the answer to "which secret?".
func explicitCommand(text string) bool {
	t := strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(t, "/clm"); ok {
		return rest == "" || unicode.IsSpace(rune(rest[0]))
	}
	if rest, ok := strings.CutPrefix(t, "/"); ok {
		end := strings.IndexFunc(rest, unicode.IsSpace)
		if end < 0 {
			end = len(rest)
		}
		return commandName(strings.ToLower(rest[:end]))
	}
	return false
}

// commandName reports whether name is one of the bridge's commands.
func commandName(name string) bool {
	for _, c := range commandTable() {
		if c.name == name {
			return true
		}
	}
	return false
}

func isYes(text string) bool {
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "yes", "y", "confirm", "ok":
		return true
	}
	return false
}

// clip shortens s for echoing it back to its author.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func (c *call) shortHelp() string {
	return "Commands: " + strings.Join(c.b.commandNames(), ", ") + ". /clm help <command> explains one."
}

func (b *Bridge) commandNames() []string {
	names := make([]string, len(b.order))
	for i, cmd := range b.order {
		names[i] = cmd.name
	}
	return names
}

// HelpText returns the help the core shows for topic ("" for the command
// list), so adapters can show the same text (Telegram /start, /help).
func (b *Bridge) HelpText(topic string) string {
	topic = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(topic), "/clm")))
	if topic == "" {
		lines := []string{"CLM Bridge keeps your messages as encrypted CLM pointers: only members who know a chat's secret can read them, and I show text only to you, privately.", "Commands (type /clm <command>):"}
		for _, cmd := range b.order {
			lines = append(lines, "  "+strings.TrimSpace(cmd.name+" "+cmd.usage)+" — "+cmd.summary)
		}
		lines = append(lines, "Chat names with spaces go in quotes: \"Project Athena\". Secrets only in a private chat with me.")
		return strings.Join(lines, "\n")
	}
	cmd := b.cmds[topic]
	if cmd == nil {
		return fmt.Sprintf("There is no command %q. Commands: %s.", clip(topic, 32), strings.Join(b.commandNames(), ", "))
	}
	text := "/clm " + strings.TrimSpace(cmd.name+" "+cmd.usage) + " — " + cmd.summary + "."
	if cmd.help != "" {
		text += "\n" + cmd.help
	}
	return text
}

// Commands returns the command names, in help order (for adapters that
// register a command menu).
func (b *Bridge) Commands() []string { return slices.Clone(b.commandNames()) }

func (c *call) cmdHelp(args string) {
	c.private(c.b.HelpText(args))
}

func (c *call) cmdCancel(string) {
	if c.st.pend == nil {
		c.private("There was no open question to cancel.")
		return
	}
	c.st.pend = nil
	c.private("Cancelled. Nothing was changed.")
}

// usage tells the member how a command is written.
func (c *call) usage(name string) {
	c.outcome = "usage"
	cmd := c.b.cmds[name]
	c.private("Usage: /clm " + strings.TrimSpace(cmd.name+" "+cmd.usage) + " — " + cmd.summary + ".")
}

// chatArg reads the chat name at the start of args and checks it. It
// answers the member and returns ok=false when it is missing or invalid.
func (c *call) chatArg(name, args string) (chat, rest string, ok bool) {
	chat, rest, err := nextWord(args)
	if err != nil {
		c.outcome = "usage"
		c.private("A quote is not closed. Chat names with spaces go in quotes: \"Project Athena\".")
		return "", "", false
	}
	if chat == "" {
		c.usage(name)
		return "", "", false
	}
	if msg := checkName("chat name", chat, MaxChatNameRunes); msg != "" {
		c.outcome = "usage"
		c.private(msg)
		return "", "", false
	}
	return chat, rest, true
}

// soleChatArg reads args that hold only a chat name, for commands with no
// other argument: there the quotes may be left out ("lock Project Athena").
func (c *call) soleChatArg(name, args string) (string, bool) {
	t := strings.TrimSpace(args)
	if r, _ := utf8.DecodeRuneInString(t); closingQuote(r) == 0 && t != "" {
		if msg := checkName("chat name", t, MaxChatNameRunes); msg != "" {
			c.outcome = "usage"
			c.private(msg)
			return "", false
		}
		return t, true
	}
	chat, _, ok := c.chatArg(name, args)
	return chat, ok
}
