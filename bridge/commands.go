package bridge

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/clm"
)

// command is one thing a member can ask the bridge.
type command struct {
	name    string
	usage   string // arguments, as shown in help
	summary string // one line for the command list
	help    string // more, for "help <command>"
	// carriesSecret reports whether these arguments surely hold a secret;
	// such a request is refused unless the input is private, and in
	// private the message is deleted where the platform allows.
	carriesSecret func(args string) bool
	// mayHoldSecret reports whether these arguments may hold a secret
	// typed in the wrong place ("unlock <secret>", the chat name
	// forgotten): in public the message is removed and nothing runs.
	mayHoldSecret func(args string) bool
	// parses reports whether args have the shape the command expects (nil:
	// any). In public, arguments that do not parse may be a secret typed
	// in the wrong place, so the message is removed and nothing runs.
	parses func(args string) bool
	run    func(c *call, args string)
}

// afterFirstWord reports whether args may hold a secret after the chat
// name: anything after its first word ("unlock Work s3cret"), or arguments
// that do not parse (`unlock "Project Athena s3cret`, the quote not closed:
// the secret may be inside).
func afterFirstWord(args string) bool {
	_, rest, err := nextWord(args)
	return err != nil || strings.TrimSpace(rest) != ""
}

// anyArgs reports whether there are arguments at all.
func anyArgs(args string) bool { return strings.TrimSpace(args) != "" }

// noArgs parses a command that takes no arguments.
func noArgs(args string) bool { return strings.TrimSpace(args) == "" }

// chatFirst parses arguments that start with a chat name, whose quotes
// must be closed.
func chatFirst(args string) bool {
	_, _, err := nextWord(args)
	return err == nil
}

// chatThen parses a chat name followed by one word that last accepts
// (which may be "").
func chatThen(last func(word string) bool) func(args string) bool {
	return func(args string) bool {
		_, rest, err := nextWord(args)
		return err == nil && last(strings.TrimSpace(rest))
	}
}

// sole parses arguments that are one word that ok accepts.
func sole(ok func(word string) bool) func(args string) bool {
	return func(args string) bool { return ok(strings.TrimSpace(args)) }
}

// optional accepts an empty word, or one that ok accepts.
func optional(ok func(word string) bool) func(word string) bool {
	return func(w string) bool { return w == "" || ok(w) }
}

// number accepts a positive decimal number, "#" in front allowed ("#12").
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

// oneOf accepts one of words, in any case.
func oneOf(words ...string) func(word string) bool {
	return func(w string) bool {
		for _, x := range words {
			if strings.EqualFold(w, x) {
				return true
			}
		}
		return false
	}
}

// helpTopic parses help's argument: nothing, or a command's name.
func helpTopic(args string) bool {
	t := helpTopicName(args)
	return t == "" || commandName(t)
}

// helpTopicName folds help's argument to the command name it asks about
// ("/clm Unlock" asks about unlock).
func helpTopicName(topic string) string {
	t := strings.TrimSpace(topic)
	if ct, ok := ParseCommandText(t); ok {
		if ct.Name == "help" && ct.Args == "" {
			return ""
		}
		return foldCommandName(strings.TrimSpace(ct.Name + " " + ct.Args))
	}
	return foldCommandName(strings.TrimLeft(t, "/\uff0f"))
}

// commandTable returns the commands in the order help lists them.
func commandTable() []*command {
	return []*command{
		{name: "help", usage: "[command]", summary: "list the commands, or explain one",
			parses: helpTopic, run: (*call).cmdHelp},
		{name: "new", usage: "<chat> [secret]", summary: "create a chat (no secret: I make a strong one)",
			help:          "Creates a chat and unlocks it. Without a secret I generate a strong one and show it to you once, privately; share it with the chat's members in person or by another safe way. A secret you choose must be at least 8 characters, and may only be typed in a private chat with me.",
			carriesSecret: afterFirstWord, run: (*call).cmdNew},
		{name: "unlock", usage: "<chat> <secret>", summary: "open one of your chats, or join one you were told about (private chat only)",
			help:          "Unlocks the chat for this session: its secret stays in my memory only, and is wiped after 30 minutes without use, 12 hours at most, or when you lock it. If you have no chat of that name, you join it: the name and secret are checked when its first pointer opens (/clm receive). You may have " + itoa(MaxUnconfirmedChats) + " joined chats waiting for that at a time. A secret you chose (new, rekey, or joining) counts as a guess until it opens a pointer someone else posted (its Receive button): a receive that leaves a pointer closed counts each such secret as a wrong one. Only in a private chat with me: a secret typed in a group is burned.",
			carriesSecret: afterFirstWord, mayHoldSecret: anyArgs, run: (*call).cmdUnlock},
		{name: "lock", usage: "[chat]", summary: "forget the secret of one chat, or of all, now",
			parses: chatFirst, run: (*call).cmdLock},
		{name: "chats", summary: "your chats: messages, and locked or not",
			parses: noArgs, run: (*call).cmdChats},
		{name: "send", usage: "[--split] <chat> <message>", summary: "make a pointer of your message (private chat)",
			help:   "Makes a tagged CLM pointer of your message in the chat, signed with your nickname, and saves it in your history. In a private chat with me you get the pointer to paste or forward where the chat's members read it. Typed in a group, your text would be public: I refuse. If the message is too long for one post I tell you the limit; with --split I send it as numbered parts. Chat names with spaces go in quotes: send \"Project Athena\" hello",
			parses: chatFirst, run: (*call).cmdSend},
		{name: "receive", usage: "[pointer text]", summary: "open pointers (pasted, or in the post you reply to) privately",
			help: "Opens every pointer in the text (or in the post you reply to, or behind a Receive button) with your unlocked chats, shows the text only to you, and saves it. If none of your chats opens it and we are in a private chat, I ask for the chat's secret: answer with it as your next message (as secret: <your secret> if it starts with a command's name) and I create the chat from the name inside the pointer. A pointer never replaces or changes a chat you have. Old untagged pointers (from 2.0.2 clients) are shown marked as unauthenticated: nothing proves their chat name, so they never rename a chat, and a chat made from one comes with a reminder to check its name. Tampered pointers are refused.",
			run:  (*call).cmdReceive},
		{name: "history", usage: "<chat> [page]", summary: "your messages of a chat, newest first",
			parses: chatThen(optional(number)), run: (*call).cmdHistory},
		{name: "search", usage: "<chat> <words>", summary: "find messages of a chat holding the words",
			parses: chatFirst, run: (*call).cmdSearch},
		{name: "trash", usage: "<chat>", summary: "list the chat's deleted messages",
			parses: chatFirst, run: (*call).cmdTrash},
		{name: "delete", usage: "<chat> <id>", summary: "move a message to the trash",
			parses: chatThen(number), run: (*call).cmdDelete},
		{name: "restore", usage: "<chat> <id>", summary: "take a message out of the trash",
			parses: chatThen(number), run: (*call).cmdRestore},
		{name: "purge", usage: "<chat> <id>", summary: "delete a message for good",
			parses: chatThen(number), run: (*call).cmdPurge},
		{name: "clear", usage: "<chat> [confirm]", summary: "delete every message of a chat (asks first)",
			parses: chatThen(optional(oneOf("confirm"))), run: (*call).cmdClear},
		{name: "forget", usage: "<chat> [confirm]", summary: "delete a chat and its messages from your store (asks first)",
			parses: chatThen(optional(oneOf("confirm"))), run: (*call).cmdForget},
		{name: "rekey", usage: "<chat> <new secret>", summary: "change a chat's secret (private chat only)",
			help:          "Changes the secret of an unlocked chat and re-seals your stored messages with it. Only in a private chat with me. Tell the chat's members the new secret out of band; each of them unlocks the chat with the old secret and runs rekey too. Pointers made with the old secret no longer open for you.",
			carriesSecret: afterFirstWord, mayHoldSecret: anyArgs, run: (*call).cmdRekey},
		{name: "export", usage: "<chat>", summary: "your history of a chat as a JSON file, privately",
			parses: chatFirst, run: (*call).cmdExport},
		{name: "name", usage: "[nickname]", summary: "show or change the nickname you sign messages with",
			run: (*call).cmdName},
		{name: "profile", usage: "[master phrase]", summary: "your nickname and chats; with a master phrase, your 2.0.2 public key",
			help:          "Shows your nickname, chats and settings. Given your CLM master phrase (private chat only), it also shows the public key a CLM 2.0.2 client would compute for your nickname; the phrase is not stored.",
			carriesSecret: anyArgs, run: (*call).cmdProfile},
		{name: "watch", usage: "[on|off]", summary: "open pointers of your unlocked chats posted where I see you, and send them to you privately",
			parses: sole(optional(oneOf("on", "off"))), run: (*call).cmdWatch},
		{name: "cancel", summary: "drop the question I asked you (a secret, or a confirmation)",
			parses: noArgs, run: (*call).cmdCancel},
		{name: "whoami", summary: "your id on this platform, shown only to you (an operator names theirs in CLM_ADMINS)",
			parses: noArgs, run: (*call).cmdWhoami},
		{name: "doctor", summary: "for the bot's operators: check the bot's setup and say what to fix",
			help:   "Checks the bridge's configuration, its store and each platform's settings, as `bridge doctor` does, and shows the findings and what to fix only to you, privately, wherever you ask. Only the bot's operators may run it (the members named in CLM_ADMINS).",
			parses: noArgs, run: (*call).cmdDoctor},
	}
}

// runCommand applies the policy and runs one command. name is the word
// the member typed as the command, which may be a secret typed in the
// wrong place: it is never shown back or logged unless it is a command's
// name.
func (c *call) runCommand(name, args string) {
	cmd := c.b.cmds[name]
	private := c.req.InputIsPrivate()
	if cmd == nil {
		if !private {
			c.maybeSecret("I don't know that command")
			return
		}
		c.outcome = "unknown"
		c.private("I don't know that command."+c.didYouMean(name), c.shortHelp())
		return
	}
	secret := cmd.carriesSecret != nil && cmd.carriesSecret(args)
	maybe := cmd.mayHoldSecret != nil && cmd.mayHoldSecret(args)
	if !private {
		switch {
		case secret:
			c.burned(name)
			return
		case maybe:
			// "unlock <secret>" with the chat name forgotten, or
			// `unlock "Work s3cret"` with the quote misplaced.
			c.maybeSecret("/clm " + name + " works only in a private chat with me")
			return
		case cmd.parses != nil && !cmd.parses(args):
			c.maybeSecret("I could not read that command")
			return
		}
	}
	if secret || maybe {
		// Private: remove the secret from the conversation where the
		// platform allows it.
		c.deleteRequest()
	}
	cmd.run(c, args)
}

// didYouMean names the command closest to word, when word looks like a
// typo of it, so the member is helped without word being shown back.
func (c *call) didYouMean(word string) string {
	best, bestD := "", 3
	for _, cmd := range c.b.order {
		if d := editDistance(word, cmd.name, bestD); d < bestD {
			best, bestD = cmd.name, d
		}
	}
	if best == "" {
		return ""
	}
	return " Did you mean /clm " + best + "?"
}

// editDistance is how many edits (a rune inserted, removed or changed, or
// two neighbours swapped: "sned" is one from "send") turn a into b, or
// limit when it is limit or more (a long word is not compared in full).
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra)-len(rb) >= limit || len(rb)-len(ra) >= limit {
		return limit
	}
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return min(d[len(ra)][len(rb)], limit)
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

// maybeSecret handles a /clm command in a public place that may hold a
// secret typed in the wrong place: an unknown command ("/clm <secret>",
// "/clm unlcok Work s3cret"), a secret-bearing command whose arguments
// are not the usual shape ("/clm unlock <secret>"), or arguments that do
// not parse. The message is removed and the member warned privately;
// nothing runs, and nothing the member typed is shown back. why is the
// first sentence of the warning.
func (c *call) maybeSecret(why string) {
	c.outcome = "refused"
	c.b.log.LogAttrs(c.ctx, slog.LevelWarn, "command that may hold a secret in a public place removed",
		slog.String("platform", c.req.Member.Platform))
	gone := "so I removed your message and did nothing with it."
	if !c.deleteRequest() {
		gone = "so I did nothing with it; but I could not remove your message: delete it yourself now."
	}
	c.private(
		fmt.Sprintf("⚠️ %s. What you typed in %s looked like it could hold a secret (such as /clm unlock <chat> <secret>), %s", why, placeName(c.req.Place), gone),
		"If it did hold a secret, others may have read it: change it. In a private chat with me, unlock the chat and run /clm rekey <chat> <new secret>, and give the new secret to the chat's members out of band. Secrets go only in a private chat with me.",
		c.shortHelp())
}

// privatePost handles a line the member wrote to the bot privately that
// is not a command: the answer to a question, a command without the /clm
// prefix, or pointers to receive.
//
// While "which secret?" is open, a command written as one ("/clm chats",
// "/chats") runs and the question stays open; "secret: <text>" answers
// with <text>; a line that only starts with a command's name ("name of
// the rose") is neither used nor run, since it may be the secret or a
// command, and the member is asked which; any other line is the secret.
func (c *call) privatePost(text string) string {
	name, args, explicit, isCmd := c.b.asCommand(text)
	answer, tagged := cutSecretAnswer(text)
	if explicit {
		c.st.lateUntil = time.Time{}
	} else if c.lateAnswer(text) {
		return "secret-answer"
	}
	if c.st.pend != nil {
		switch c.st.pend.kind {
		case pendSecret:
			switch {
			case explicit:
				// Not the secret; the question stays open unless the
				// command drops it (/clm cancel).
			case !tagged && isCmd:
				c.askWhichAnswerPrivately()
				return "secret-answer"
			default:
				if !tagged {
					answer = text
				}
				if p := c.takePending(pendSecret); p != nil {
					c.answerSecret(p, answer)
					return "secret-answer"
				}
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
	if isCmd {
		c.runCommand(name, args)
		return logName(c.b, name)
	}
	if tagged {
		// A secret with no question to answer: it may be a secret all the
		// same, so it is removed and not shown back.
		c.outcome = "no-question"
		c.deleteRequest()
		c.private("I asked you for no secret just now, so I removed that message and did nothing with it. To open a pointer, /clm receive it and answer my question.")
		return "post"
	}
	if len(clm.Extract(text)) > 0 {
		c.receiveText(text, c.source())
		return "receive"
	}
	c.private("I only understand commands here: /clm help lists them. (What you wrote was not stored or shown to anyone.)")
	return "post"
}

// askWhichAnswerPrivately handles a line that starts with a command's name
// while "which secret?" is open: it may be the secret ("name of the rose")
// or a command, so it is removed, neither used nor run (no guess is
// counted), and the member is told how to say which. The question stays
// open.
func (c *call) askWhichAnswerPrivately() {
	c.outcome = "ambiguous"
	c.deleteRequest()
	c.private("I am waiting for a pointer's secret, and your message starts with a command's name, so I removed it and neither used nor ran it. My question is still open:",
		"• if it is the secret, send it as  secret: <your secret>",
		"• to run a command, put /clm in front: /clm chats",
		"/clm cancel drops the question.")
}

// secretAnswerPrefix marks a private line as the answer to "which
// secret?" even when it starts with a command word.
const secretAnswerPrefix = "secret:"

// cutSecretAnswer returns what follows "secret:" (in any case, after any
// leading white space) and true, or "" and false when text does not start
// with it.
func cutSecretAnswer(text string) (string, bool) {
	t := strings.TrimLeftFunc(text, isCommandSpace)
	if len(t) < len(secretAnswerPrefix) || !strings.EqualFold(t[:len(secretAnswerPrefix)], secretAnswerPrefix) {
		return "", false
	}
	return t[len(secretAnswerPrefix):], true
}

// asCommand reads a private line as a command. explicit is true when it
// is written as one: "/clm …" in any form ParseCommandText accepts (even
// with a word that is no command: runCommand answers it without showing
// it back), or a slash and a command's name ("/chats"). A line that only
// starts with a command's name ("unlock Work …") is a command too, not
// explicit.
func (b *Bridge) asCommand(text string) (name, args string, explicit, ok bool) {
	if ct, found := ParseCommandText(text); found {
		return ct.Name, ct.Args, true, true
	}
	t := strings.TrimLeftFunc(text, isCommandSpace)
	slash := false
	if r, n := utf8.DecodeRuneInString(t); r == '/' || r == '\uff0f' {
		t, slash = t[n:], true
	}
	name, args = splitCommandWord(t)
	if _, known := b.cmds[name]; !known {
		return "", "", false, false
	}
	return name, args, slash, true
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
	topic = helpTopicName(topic)
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
		// The topic is not shown back: it may be a secret typed in the
		// wrong place ("/clm help <secret>").
		return fmt.Sprintf("There is no such command. Commands: %s.", strings.Join(b.commandNames(), ", "))
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
