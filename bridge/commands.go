package bridge

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/clm"
)

// handler runs one command for the request in c, with the arguments the
// member typed after its name. Each file holds the handlers of a group of
// commands (chatcmds.go, history.go, receive.go, send.go, admin.go); the
// policy (secrets, budgets) has run before a handler is called.
type handler func(c *call, args string)

// command is one of the bridge's commands: its schema and its handler.
type command struct {
	CommandSpec
	run handler
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

// handlers maps each command of the schema to the function that runs it.
func handlers() map[string]handler {
	return map[string]handler{
		"help": cmdHelp, "new": cmdNew, "unlock": cmdUnlock,
		"lock": cmdLock, "chats": cmdChats, "send": cmdSend,
		"receive": cmdReceive, "history": cmdHistory, "search": cmdSearch,
		"trash": cmdTrash, "delete": cmdDelete, "restore": cmdRestore,
		"purge": cmdPurge, "clear": cmdClear, "forget": cmdForget,
		"rekey": cmdRekey, "export": cmdExport, "name": cmdName,
		"profile": cmdProfile, "watch": cmdWatch, "cancel": cmdCancel,
		"whoami": cmdWhoami, "doctor": cmdDoctor,
	}
}

// commandTable returns the commands in the order help lists them: the
// schema, each with its handler.
func commandTable() []*command {
	run := handlers()
	specs := Schema()
	cmds := make([]*command, len(specs))
	for i, spec := range specs {
		cmds[i] = &command{CommandSpec: spec, run: run[spec.Name]}
	}
	return cmds
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
			c.refuseMaybeSecretAndTell("I don't know that command")
			return
		}
		c.outcome = OutcomeUnknown
		c.private("I don't know that command."+c.didYouMean(name), c.shortHelp())
		return
	}
	secret := cmd.carriesSecret(args)
	maybe := cmd.mayHoldSecret(args)
	if !private {
		switch {
		case secret:
			c.refuseBurnedSecretAndTell(name)
			return
		case maybe:
			// "unlock <secret>" with the chat name forgotten, or
			// `unlock "Work s3cret"` with the quote misplaced.
			c.refuseMaybeSecretAndTell("/clm " + name + " works only in a private chat with me")
			return
		case !cmd.parses(args):
			c.refuseMaybeSecretAndTell("I could not read that command")
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
		if d := editDistance(word, cmd.Name, bestD); d < bestD {
			best, bestD = cmd.Name, d
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

// refuseBurnedSecretAndTell handles a secret typed where others can read it: nothing is
// unlocked or changed, the message is deleted if possible, and the member
// is told the secret is public now.
func (c *call) refuseBurnedSecretAndTell(name string) {
	c.outcome = OutcomeRefused
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

// refuseMaybeSecretAndTell handles a /clm command in a public place that may hold a
// secret typed in the wrong place: an unknown command ("/clm <secret>",
// "/clm unlcok Work s3cret"), a secret-bearing command whose arguments
// are not the usual shape ("/clm unlock <secret>"), or arguments that do
// not parse. The message is removed and the member warned privately;
// nothing runs, and nothing the member typed is shown back. why is the
// first sentence of the warning.
func (c *call) refuseMaybeSecretAndTell(why string) {
	c.outcome = OutcomeRefused
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
	} else if c.dropLateAnswerAndTell(text) {
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
		return LogName(name)
	}
	if tagged {
		// A secret with no question to answer: it may be a secret all the
		// same, so it is removed and not shown back.
		c.outcome = OutcomeNoQuestion
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
	c.outcome = OutcomeAmbiguous
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
// it back), a slash and a command's name ("/chats"), or "clm" and a
// command's name, the slash left out ("clm chats"). A line that only
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
	} else if ct, found := ParseCommandText("/" + t); found && ct.Bot == "" {
		if _, known := b.cmds[ct.Name]; known {
			return ct.Name, ct.Args, true, true
		}
	}
	name, args = splitCommandWord(t)
	if _, known := b.cmds[name]; !known {
		return "", "", false, false
	}
	return name, args, slash, true
}

// commandName reports whether name is one of the bridge's commands.
func commandName(name string) bool {
	_, ok := LookupCommand(name)
	return ok
}

func isYes(text string) bool {
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "yes", "y", "confirm", "ok":
		return true
	}
	return false
}

func (c *call) shortHelp() string {
	return "Commands: " + strings.Join(CommandNames(), ", ") + ". /clm help <command> explains one."
}

// CommandNames returns the names of the schema's commands, in help order.
func CommandNames() []string {
	specs := Schema()
	names := make([]string, len(specs))
	for i, spec := range specs {
		names[i] = spec.Name
	}
	return names
}

// HelpText returns the help the core shows for topic ("" for the command
// list), written from the schema, so adapters can show the same text
// (Telegram /help).
func HelpText(topic string) string {
	topic = helpTopicName(topic)
	if topic == "" {
		lines := []string{"CLM Bridge keeps your messages as encrypted CLM pointers: only members who know a chat's secret can read them, and I show text only to you, privately.", "Commands (type /clm <command>):"}
		for _, cmd := range Schema() {
			lines = append(lines, "  "+strings.TrimSpace(cmd.Name+" "+cmd.Usage())+" — "+cmd.Summary)
		}
		lines = append(lines, "Chat names with spaces go in quotes: \"Project Athena\". Secrets only in a private chat with me.")
		return strings.Join(lines, "\n")
	}
	cmd, ok := LookupCommand(topic)
	if !ok {
		// The topic is not shown back: it may be a secret typed in the
		// wrong place ("/clm help <secret>").
		return fmt.Sprintf("There is no such command. Commands: %s.", strings.Join(CommandNames(), ", "))
	}
	text := "/clm " + strings.TrimSpace(cmd.Name+" "+cmd.Usage()) + " — " + cmd.Summary + "."
	if cmd.Help != "" {
		text += "\n" + cmd.Help
	}
	return text
}

// HelpText is the package's HelpText, for callers that hold a *Bridge.
func (b *Bridge) HelpText(topic string) string { return HelpText(topic) }

// Commands returns the command names, in help order (for adapters that
// register a command menu).
func (b *Bridge) Commands() []string { return CommandNames() }

func cmdHelp(c *call, args string) {
	c.private(c.b.HelpText(args))
}

func cmdCancel(c *call, _ string) {
	if c.st.pend == nil {
		c.private("There was no open question to cancel.")
		return
	}
	c.st.pend = nil
	c.private("Cancelled. Nothing was changed.")
}

// tellUsage tells the member how a command is written.
func (c *call) tellUsage(name string) {
	c.outcome = OutcomeUsage
	cmd := c.b.cmds[name]
	c.private("Usage: /clm " + strings.TrimSpace(cmd.Name+" "+cmd.Usage()) + " — " + cmd.Summary + ".")
}

// chatArgOrTell reads the chat name at the start of args and checks it. It
// answers the member and returns ok=false when it is missing or invalid.
func (c *call) chatArgOrTell(name, args string) (chat, rest string, ok bool) {
	chat, rest, err := nextWord(args)
	if err != nil {
		c.outcome = OutcomeUsage
		c.private("A quote is not closed. Chat names with spaces go in quotes: \"Project Athena\".")
		return "", "", false
	}
	if chat == "" {
		c.tellUsage(name)
		return "", "", false
	}
	if msg := checkName("chat name", chat, MaxChatNameRunes); msg != "" {
		c.outcome = OutcomeUsage
		c.private(msg)
		return "", "", false
	}
	return chat, rest, true
}

// soleChatArgOrTell reads args that hold only a chat name, for commands with no
// other argument: there the quotes may be left out ("lock Project Athena").
func (c *call) soleChatArgOrTell(name, args string) (string, bool) {
	t := strings.TrimSpace(args)
	if r, _ := utf8.DecodeRuneInString(t); closingQuote(r) == 0 && t != "" {
		if msg := checkName("chat name", t, MaxChatNameRunes); msg != "" {
			c.outcome = OutcomeUsage
			c.private(msg)
			return "", false
		}
		return t, true
	}
	chat, _, ok := c.chatArgOrTell(name, args)
	return chat, ok
}
