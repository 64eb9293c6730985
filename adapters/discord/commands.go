package discord

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Names of what the adapter registers (internal/doctor checks them).
const (
	// CommandName is the slash command: /clm <subcommand>.
	CommandName = "clm"
	// ContextMenuName is the message context-menu command that opens the
	// pointers in a message.
	ContextMenuName = "Receive CLM pointer"
)

// receiveLabel is the label of the Receive button.
const receiveLabel = "🔓 Receive"

// Custom ids of the adapter's components and modals. A Receive button
// carries the core's ReceiveRef (at most 32 bytes) after the prefix, well
// inside Discord's 100-character limit. A confirmation button carries the
// command its press runs (`forget Work confirm`, `cancel`).
const (
	receivePrefix = "clm:recv:"
	modalPrefix   = "clm:modal:"
	commandPrefix = "clm:cmd:"
)

// Labels of the confirmation buttons, and Discord's limit on a custom id.
const (
	confirmLabel = "Confirm"
	cancelLabel  = "Cancel"
	maxCustomID  = 100
)

// optKind is how an option's value becomes part of the core's Args.
type optKind int

const (
	optChat   optKind = iota // a chat name, autocompleted, quoted when it holds spaces
	optText                  // free text, passed verbatim (always the last)
	optInt                   // an integer
	optChoice                // one of the listed choices
	optBool                  // a yes/no switch; it never reaches Args (see subSpec.modalIf)
	optFlag                  // a yes/no switch that adds the word flag to Args when true
)

// optSpec is one option of a subcommand.
type optSpec struct {
	name, desc string
	kind       optKind
	required   bool
	choices    []string
	// flag is the word an optFlag adds; leading puts it before the other
	// arguments ("send --split Work …") rather than after ("clear Work confirm").
	flag    string
	leading bool
}

// fieldSpec is one text input of a modal; the value becomes part of Args
// like an option of the same kind. secret fields are never prefilled.
type fieldSpec struct {
	id, label   string
	kind        optKind // optChat or optText
	secret      bool
	paragraph   bool
	required    bool
	placeholder string
	maxLen      int
}

// subSpec is one /clm subcommand: the core command of the same name.
type subSpec struct {
	name, desc string
	opts       []optSpec
	// modal, when set, is shown instead of calling the core: secrets (and
	// long texts) are typed there, never in an option.
	modal      []fieldSpec
	modalTitle string
	// modalUnless names an option that, when given, makes the modal
	// unnecessary (send with a text option).
	modalUnless string
	// modalIf names a bool option that must be true for the modal to open
	// (profile with public_key:true); without it the core is called directly.
	modalIf string
}

func chatOpt(required bool, desc string) optSpec {
	return optSpec{name: "chat", desc: desc, kind: optChat, required: required}
}

func chatField() fieldSpec {
	return fieldSpec{id: "chat", label: "Chat name", kind: optChat, required: true, maxLen: 64}
}

// subcommands lists /clm's subcommands in the order Discord shows them.
// Discord allows at most 25.
var subcommands = []subSpec{
	{name: "help", desc: "What the bot does and how to use it"},
	{name: "new", desc: "Create a chat (you type or get its secret in a private form)",
		opts:       []optSpec{{name: "chat", desc: "Name of the new chat", kind: optText}},
		modalTitle: "New CLM chat",
		modal: []fieldSpec{chatField(),
			{id: "secret", label: "Secret (empty: generate a strong one)", kind: optText, secret: true, maxLen: 512,
				placeholder: "Shared out of band with the chat's members"}}},
	{name: "unlock", desc: "Unlock a chat with its secret (typed in a private form)",
		opts:       []optSpec{chatOpt(false, "The chat to unlock")},
		modalTitle: "Unlock a CLM chat",
		modal: []fieldSpec{chatField(),
			{id: "secret", label: "Secret", kind: optText, secret: true, required: true, maxLen: 512}}},
	{name: "lock", desc: "Forget a chat's secret now (or every chat's)", opts: []optSpec{chatOpt(false, "The chat to lock (empty: all)")}},
	{name: "chats", desc: "Your chats: names, message counts, locked or not"},
	{name: "send", desc: "Post a message as a CLM pointer in this channel",
		opts: []optSpec{chatOpt(true, "The chat to send in"),
			{name: "text", desc: "The message (empty: type it in a form)", kind: optText},
			{name: "split", desc: "Too long for one pointer? Send it in numbered parts", kind: optFlag, flag: "--split", leading: true}},
		modalTitle: "Send a CLM message", modalUnless: "text",
		modal: []fieldSpec{chatField(),
			{id: "text", label: "Message", kind: optText, paragraph: true, required: true, maxLen: 4000}}},
	{name: "receive", desc: "Open the pointers in a text (only you see the result)",
		opts: []optSpec{{name: "text", desc: "Text holding one or more pointers", kind: optText, required: true}}},
	{name: "history", desc: "Messages of a chat, newest first",
		opts: []optSpec{chatOpt(true, "The chat"), {name: "page", desc: "Page number", kind: optInt}}},
	{name: "search", desc: "Search a chat's messages",
		opts: []optSpec{chatOpt(true, "The chat"), {name: "words", desc: "Words to find", kind: optText, required: true}}},
	{name: "trash", desc: "Deleted messages of a chat", opts: []optSpec{chatOpt(true, "The chat")}},
	{name: "delete", desc: "Move a message to the trash", opts: []optSpec{chatOpt(true, "The chat"), {name: "id", desc: "Message number", kind: optInt, required: true}}},
	{name: "restore", desc: "Bring a message back from the trash", opts: []optSpec{chatOpt(true, "The chat"), {name: "id", desc: "Message number", kind: optInt, required: true}}},
	{name: "purge", desc: "Delete a trashed message for good", opts: []optSpec{chatOpt(true, "The chat"), {name: "id", desc: "Message number", kind: optInt, required: true}}},
	{name: "clear", desc: "Delete every message of a chat (asks first)", opts: []optSpec{chatOpt(true, "The chat"), confirmOpt}},
	{name: "forget", desc: "Delete a chat and its messages (asks first)", opts: []optSpec{chatOpt(true, "The chat"), confirmOpt}},
	{name: "rekey", desc: "Change a chat's secret (typed in a private form)",
		opts:       []optSpec{chatOpt(true, "The chat")},
		modalTitle: "Change a chat's secret",
		modal: []fieldSpec{chatField(),
			{id: "secret", label: "New secret", kind: optText, secret: true, required: true, maxLen: 512}}},
	{name: "export", desc: "A chat's history as a JSON file, only for you", opts: []optSpec{chatOpt(true, "The chat")}},
	{name: "name", desc: "Set the nickname you sign messages with",
		opts: []optSpec{{name: "nickname", desc: "Your CLM nickname", kind: optText, required: true}}},
	{name: "profile", desc: "Your nickname and chats (and 2.0.2 public key)",
		opts:       []optSpec{{name: "public_key", desc: "Also show the 2.0.2 public key (asks your master phrase privately)", kind: optBool}},
		modalTitle: "Your 2.0.2 public key", modalIf: "public_key",
		modal: []fieldSpec{{id: "secret", label: "Master phrase (not stored)", kind: optText, secret: true, required: true, maxLen: 512}}},
	{name: "watch", desc: "Open pointers in channels for you automatically",
		opts: []optSpec{{name: "state", desc: "on or off (empty: show the setting)", kind: optChoice, choices: []string{"on", "off"}}}},
	{name: "cancel", desc: "Drop the question I asked you (a secret, or a confirmation)"},
	{name: "whoami", desc: "Your Discord user id, only for you (what the bot's operator puts in CLM_ADMINS)"},
	{name: "doctor", desc: "For the bot's operators: check the bridge's setup (the answer is only for you)"},
}

// confirmOpt is the "yes, really" switch of clear and forget.
var confirmOpt = optSpec{name: "confirm", desc: "Go ahead without asking again", kind: optFlag, flag: "confirm"}

// subByName finds a subcommand.
func subByName(name string) (subSpec, bool) {
	for _, s := range subcommands {
		if s.name == name {
			return s, true
		}
	}
	return subSpec{}, false
}

// applicationCommands is what the adapter registers: /clm and the message
// context-menu command.
func applicationCommands() []*discordgo.ApplicationCommand {
	var subs []*discordgo.ApplicationCommandOption
	for _, s := range subcommands {
		sub := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: s.name, Description: s.desc}
		for _, o := range s.opts {
			opt := &discordgo.ApplicationCommandOption{Name: o.name, Description: o.desc, Required: o.required}
			switch o.kind {
			case optChat:
				opt.Type, opt.Autocomplete = discordgo.ApplicationCommandOptionString, true
			case optText:
				opt.Type = discordgo.ApplicationCommandOptionString
			case optInt:
				opt.Type = discordgo.ApplicationCommandOptionInteger
			case optBool, optFlag:
				opt.Type = discordgo.ApplicationCommandOptionBoolean
			case optChoice:
				opt.Type = discordgo.ApplicationCommandOptionString
				for _, c := range o.choices {
					opt.Choices = append(opt.Choices, &discordgo.ApplicationCommandOptionChoice{Name: c, Value: c})
				}
			}
			sub.Options = append(sub.Options, opt)
		}
		subs = append(subs, sub)
	}
	return []*discordgo.ApplicationCommand{
		{Name: CommandName, Type: discordgo.ChatApplicationCommand, Description: "Chrono-Library Messenger: encrypted messages as public pointers", Options: subs},
		{Name: ContextMenuName, Type: discordgo.MessageApplicationCommand},
	}
}

// quoteName writes a chat name as the core's argument parser reads it back:
// quoted (with \" and \\ escapes) when it holds white space or starts with a
// quote character.
func quoteName(name string) string {
	if name == "" {
		return `""`
	}
	needs := strings.IndexFunc(name, unicode.IsSpace) >= 0
	switch r, _ := utf8.DecodeRuneInString(name); r {
	case '"', '\u201c', '\u201e', '\u00ab':
		needs = true
	}
	if !needs {
		return name
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}

// optionValues maps a subcommand interaction's options by name.
func optionValues(opts []*discordgo.ApplicationCommandInteractionDataOption) map[string]*discordgo.ApplicationCommandInteractionDataOption {
	m := make(map[string]*discordgo.ApplicationCommandInteractionDataOption, len(opts))
	for _, o := range opts {
		m[o.Name] = o
	}
	return m
}

// formatValue renders one option or field value for Args; ok is false
// when it is empty.
func formatValue(kind optKind, v any) (string, bool) {
	switch x := v.(type) {
	case string:
		switch kind {
		case optChat:
			x = strings.TrimSpace(x)
			if x == "" {
				return "", false
			}
			return quoteName(x), true
		case optInt:
			x = strings.TrimSpace(x)
		}
		return x, x != ""
	case float64: // JSON numbers
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case bool:
		return "", false
	}
	return "", false
}

// joinArgs joins rendered values with single spaces.
func joinArgs(parts []string) string { return strings.Join(parts, " ") }

// argsFromOptions renders a subcommand's options, in the spec's order, as
// the core's Args ("Work hello there", `"Project Athena" 2`).
func argsFromOptions(s subSpec, opts []*discordgo.ApplicationCommandInteractionDataOption) string {
	vals := optionValues(opts)
	lead, parts, trail := flagWords(s, vals)
	for _, o := range s.opts {
		if o.kind == optBool || o.kind == optFlag {
			continue
		}
		if v, ok := vals[o.name]; ok {
			if str, ok := formatValue(o.kind, v.Value); ok {
				parts = append(parts, str)
			}
		}
	}
	return joinArgs(append(append(lead, parts...), trail...))
}

// flagWords returns the words of the flags switched on, those that go
// before the arguments and those that go after.
func flagWords(s subSpec, vals map[string]*discordgo.ApplicationCommandInteractionDataOption) (lead, none, trail []string) {
	for _, o := range s.opts {
		if o.kind != optFlag {
			continue
		}
		if v, ok := vals[o.name]; ok {
			if b, _ := v.Value.(bool); b {
				if o.leading {
					lead = append(lead, o.flag)
				} else {
					trail = append(trail, o.flag)
				}
			}
		}
	}
	return lead, nil, trail
}

// wantsModal reports whether the subcommand, with these options, is
// answered with a modal rather than sent to the core.
func wantsModal(s subSpec, opts []*discordgo.ApplicationCommandInteractionDataOption) bool {
	if s.modal == nil {
		return false
	}
	vals := optionValues(opts)
	if s.modalUnless != "" {
		if v, ok := vals[s.modalUnless]; ok {
			if str, _ := v.Value.(string); strings.TrimSpace(str) != "" {
				return false
			}
		}
	}
	if s.modalIf != "" {
		v, ok := vals[s.modalIf]
		if !ok {
			return false
		}
		b, _ := v.Value.(bool)
		return b
	}
	return true
}

// buildModal is the modal for subcommand s, prefilled from the options the
// member already gave (never a secret: no option carries one).
func buildModal(s subSpec, opts []*discordgo.ApplicationCommandInteractionDataOption) *discordgo.InteractionResponseData {
	vals := optionValues(opts)
	var rows []discordgo.MessageComponent
	for _, f := range s.modal {
		in := discordgo.TextInput{CustomID: f.id, Label: f.label, Style: discordgo.TextInputShort,
			Required: f.required, MaxLength: f.maxLen, Placeholder: f.placeholder}
		if f.paragraph {
			in.Style = discordgo.TextInputParagraph
		}
		if !f.secret {
			if v, ok := vals[f.id]; ok {
				if str, ok := v.Value.(string); ok {
					in.Value = strings.TrimSpace(str)
				}
			}
		}
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{in}})
	}
	id := modalPrefix + s.name
	lead, _, trail := flagWords(s, vals)
	for _, f := range append(lead, trail...) {
		id += ":" + f
	}
	return &discordgo.InteractionResponseData{CustomID: id, Title: s.modalTitle, Components: rows}
}

// parseModalID reads a modal's custom id back: the subcommand and the flags
// switched on when it was opened (only flags the subcommand declares).
func parseModalID(id string) (s subSpec, lead, trail []string, ok bool) {
	rest, ok := strings.CutPrefix(id, modalPrefix)
	if !ok {
		return subSpec{}, nil, nil, false
	}
	words := strings.Split(rest, ":")
	s, ok = subByName(words[0])
	if !ok || s.modal == nil {
		return subSpec{}, nil, nil, false
	}
	for _, w := range words[1:] {
		found := false
		for _, o := range s.opts {
			if o.kind == optFlag && o.flag == w {
				found = true
				if o.leading {
					lead = append(lead, w)
				} else {
					trail = append(trail, w)
				}
			}
		}
		if !found {
			return subSpec{}, nil, nil, false
		}
	}
	return s, lead, trail, true
}

// modalValues collects the text inputs of a submitted modal by custom id.
func modalValues(comps []discordgo.MessageComponent) map[string]string {
	out := map[string]string{}
	var walk func([]discordgo.MessageComponent)
	walk = func(cs []discordgo.MessageComponent) {
		for _, c := range cs {
			switch x := c.(type) {
			case *discordgo.ActionsRow:
				walk(x.Components)
			case discordgo.ActionsRow:
				walk(x.Components)
			case *discordgo.TextInput:
				out[x.CustomID] = x.Value
			case discordgo.TextInput:
				out[x.CustomID] = x.Value
			}
		}
	}
	walk(comps)
	return out
}

// argsFromModal renders a submitted modal's fields, in the spec's order,
// as the core's Args. Secrets are trimmed of surrounding white space (a
// phone keyboard's trailing space is not part of a secret).
func argsFromModal(s subSpec, lead, trail []string, values map[string]string) (string, error) {
	parts := append([]string(nil), lead...)
	for _, f := range s.modal {
		v := values[f.id]
		if f.kind == optChat || f.secret {
			v = strings.TrimSpace(v)
		}
		if v == "" {
			if f.required {
				return "", fmt.Errorf("the %q field is empty", f.label)
			}
			continue
		}
		if f.kind == optChat {
			v = quoteName(v)
		}
		parts = append(parts, v)
	}
	return joinArgs(append(parts, trail...)), nil
}

// receiveButton is the row holding a "🔓 Receive" button for ref.
func receiveButton(ref string) []discordgo.MessageComponent {
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: receiveLabel, Style: discordgo.PrimaryButton, CustomID: receivePrefix + ref},
	}}}
}

// confirmButtons is the row holding Confirm and Cancel buttons whose
// presses run yes and no; ok is false when a command does not fit in a
// custom id.
func confirmButtons(yes, no string) (row []discordgo.MessageComponent, ok bool) {
	for _, c := range []string{yes, no} {
		if utf8.RuneCountInString(commandPrefix+c) > maxCustomID {
			return nil, false
		}
	}
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: confirmLabel, Style: discordgo.DangerButton, CustomID: commandPrefix + yes},
		discordgo.Button{Label: cancelLabel, Style: discordgo.SecondaryButton, CustomID: commandPrefix + no},
	}}}, true
}
