package discord

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/clmbridge/clmbridge/bridge"
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

// maxSecretField is the most a secret's form field takes; maxTextField is
// Discord's limit on a text input.
const (
	maxSecretField = 512
	maxTextField   = 4000
)

// subcommands lists /clm's subcommands in the order Discord shows them
// (at most 25): one per command of the core's schema, written from it.
func subcommands() []subSpec {
	specs := bridge.Schema()
	subs := make([]subSpec, len(specs))
	for i, c := range specs {
		subs[i] = subFor(c)
	}
	return subs
}

// subFor writes the subcommand of command c. A secret is always a field of
// a modal, never an option: a command with a secret opens its modal (or,
// when the secret is its only and optional argument, a switch does); a
// long text may be given as an option or, left out, typed in the modal.
// The other arguments are options, required ones first as Discord wants.
func subFor(c bridge.CommandSpec) subSpec {
	s := subSpec{name: c.Name, desc: capitalize(c.Summary)}
	var fields []fieldSpec
	var secret, long *bridge.Arg
	for k, a := range c.Args {
		f := fieldSpec{id: a.Key, label: capitalize(a.Name), required: !a.Optional, placeholder: a.Summary}
		switch a.Kind {
		case bridge.ArgChat:
			f.kind, f.maxLen, f.placeholder = optChat, bridge.MaxChatNameRunes, ""
		case bridge.ArgSecret:
			f.kind, f.secret, f.maxLen = optText, true, maxSecretField
			secret = &c.Args[k]
		case bridge.ArgText:
			f.kind, f.paragraph, f.maxLen = optText, a.Long, maxTextField
			if a.Long {
				long = &c.Args[k]
			}
		default:
			continue
		}
		fields = append(fields, f)
	}
	toggle := secret != nil && secret.Optional && len(fields) == 1
	always := secret != nil && !toggle
	if toggle {
		fields[0].required = true // the member switched the form on for it
	}
	if secret != nil || long != nil {
		s.modal, s.modalTitle = fields, "CLM: "+c.Name
		if secret == nil {
			s.modalUnless = long.Key
		}
	}
	var required, optional []optSpec
	for _, a := range c.Args {
		o := optSpec{name: a.Key, desc: a.Summary, required: !a.Optional && !always}
		switch a.Kind {
		case bridge.ArgSecret:
			if !toggle {
				continue
			}
			o = optSpec{name: strings.ReplaceAll(a.Name, " ", "_"), desc: a.Summary, kind: optBool}
			s.modalIf = o.name
		case bridge.ArgChat:
			o.kind = optChat
		case bridge.ArgText:
			o.kind = optText
			o.required = o.required && !a.Long
		case bridge.ArgNumber:
			o.kind = optInt
		case bridge.ArgFlag, bridge.ArgConfirm:
			o.kind, o.flag, o.leading = optFlag, a.Words[0], a.Kind == bridge.ArgFlag
		case bridge.ArgChoice:
			o.kind, o.choices = optChoice, a.Words
		case bridge.ArgCommand:
			o.kind, o.choices = optChoice, bridge.CommandNames()
		}
		if o.required {
			required = append(required, o)
		} else {
			optional = append(optional, o)
		}
	}
	s.opts = append(required, optional...)
	return s
}

// capitalize writes s with its first letter in upper case.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// subByName finds a subcommand.
func subByName(name string) (subSpec, bool) {
	c, ok := bridge.LookupCommand(name)
	if !ok || c.Name != name {
		return subSpec{}, false
	}
	return subFor(c), true
}

// applicationCommands is what the adapter registers: /clm and the message
// context-menu command.
func applicationCommands() []*discordgo.ApplicationCommand {
	var subs []*discordgo.ApplicationCommandOption
	for _, s := range subcommands() {
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
			return bridge.QuoteName(x), true
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
			v = bridge.QuoteName(v)
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
