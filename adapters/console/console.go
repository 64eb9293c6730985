// Package console is a local, multi-member simulation of a chat platform on
// standard input and output, for trying CLM Bridge without any bot token
// and for scripts and end-to-end tests. It only translates lines to
// [bridge.Request]s and answers to lines; the bridge core decides.
//
// The format is a contract (README "Console mode"):
//
//	input:  <member>@dm: <text>          a private chat with the bot
//	        <member>@#<channel>: <text>  a post in a public channel
//	output: -> <member> (private): <text>
//	        -> #<channel> (public): <text>
//
// Member and channel names are letters, digits, '_' and '-'. Every line of
// every answer is printed with its prefix; diagnostics go to the diagnostic
// writer (stderr). Empty lines and lines starting with '#' are skipped.
//
// In a channel, "/clm <command> …" is a command and anything else is a
// post (a post holding pointers is seen like any platform's channel
// message). In a DM the "/clm " prefix is optional: the core reads a line
// that starts with a command name as that command, and any other line as a
// post (the answer to a question it asked). "/clm receive" with nothing
// after it in a channel receives the last post there that held pointers
// (the console's stand-in for replying to a post), and "/clm receive <ref>"
// presses the Receive button the console printed with that ref. End of
// input ends Run (a graceful shutdown).
package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
)

// Name is the platform's name: the Member.Platform of console members.
const Name = "console"

// DefaultMaxPointerChars is the pointer size the console allows by
// default: the largest message limit of the platforms served (Telegram's
// 4096), so the console never refuses what some platform would take.
const DefaultMaxPointerChars = 4096

// MaxLineBytes is the longest input line read.
const MaxLineBytes = 1 << 20

// maxRefs bounds the Receive buttons the console remembers.
const maxRefs = 4096

// Options configure the console adapter. The zero value is fine.
type Options struct {
	// MaxPointerChars is the pointer size allowed per post (default 4096).
	MaxPointerChars int
	// Logger receives diagnostics besides the diagnostic writer (optional).
	Logger *slog.Logger
}

// Adapter is the console adapter. Create it with New.
type Adapter struct {
	core bridge.Core
	in   io.Reader
	out  io.Writer
	diag io.Writer
	caps bridge.Capabilities
	log  *slog.Logger

	mu       sync.Mutex        // guards out, diag and the maps
	lastPost map[string]string // channel → last post that held pointers
	refs     map[string]bool   // Receive buttons printed
	refOrder []string
}

// New returns a console adapter reading in and writing answers to out and
// diagnostics to diag.
func New(core bridge.Core, in io.Reader, out, diag io.Writer, opts Options) *Adapter {
	if opts.MaxPointerChars <= 0 {
		opts.MaxPointerChars = DefaultMaxPointerChars
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Adapter{
		core: core, in: in, out: out, diag: diag, log: logger,
		caps:     bridge.Capabilities{MaxPointerChars: opts.MaxPointerChars, CanDelete: true, Buttons: true},
		lastPost: make(map[string]string),
		refs:     make(map[string]bool),
	}
}

// Name returns "console".
func (a *Adapter) Name() string { return Name }

// Run reads lines until end of input (returns nil) or until ctx is done
// (returns nil: a shutdown). Lines are handled one at a time, in order.
// A read blocked on an input that never ends (a terminal) is abandoned
// when ctx is done.
func (a *Adapter) Run(ctx context.Context) error {
	a.core.RegisterNotifier(Name, a)
	lines := make(chan inputLine)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		lr := newLineReader(a.in, MaxLineBytes)
		defer lr.wipe()
		for n := 1; ; n++ {
			text, err := lr.next()
			switch {
			case errors.Is(err, errLineTooLong):
				a.diagf("console: line %d is longer than %d bytes: skipped (split it)", n, MaxLineBytes)
				continue
			case errors.Is(err, io.EOF):
				err = nil
				fallthrough
			case err != nil:
				readErr <- err
				close(lines)
				return
			}
			select {
			case lines <- inputLine{n: n, text: text}:
			case <-stop:
				clear(text)
				return
			}
		}
	}()
	a.diagf("console: ready; type lines like `alice@dm: help` or `alice@#general: hello` (end of input quits)")
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				if err := <-readErr; err != nil {
					return fmt.Errorf("console: reading input: %w", err)
				}
				return nil
			}
			a.line(ctx, line.n, line.text)
			clear(line.text)
		}
	}
}

// inputLine is line n of the input, without its newline.
type inputLine struct {
	n    int
	text []byte
}

// parseLine reads the input contract: `<member>@dm: <text>` or
// `<member>@#<channel>: <text>`. where is "dm" or "#<channel>"; one space
// after the colon is dropped. text is a part of line, not a copy, so that
// wiping line wipes it.
func parseLine(line []byte) (who, where string, text []byte, ok bool) {
	w, rest, found := bytes.Cut(line, []byte("@"))
	if !found || !validName(string(w)) {
		return "", "", nil, false
	}
	p, text, found := bytes.Cut(rest, []byte(":"))
	where = string(p)
	if !found || (where != "dm" && !(strings.HasPrefix(where, "#") && validName(where[1:]))) {
		return "", "", nil, false
	}
	return string(w), where, bytes.TrimPrefix(text, []byte(" ")), true
}

// validName reports whether s is a member or channel name: letters,
// digits, '_' and '-'.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// line handles input line n.
func (a *Adapter) line(ctx context.Context, n int, line []byte) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	if t := bytes.TrimSpace(line); len(t) == 0 || t[0] == '#' {
		return
	}
	who, where, raw, ok := parseLine(line)
	if !ok {
		a.diagf("console: line %d: expected `<member>@dm: <text>` or `<member>@#<channel>: <text>` (names: letters, digits, _ and -)", n)
		return
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		a.diagf("console: line %d: nothing after the colon", n)
		return
	}
	// The Request carries strings: this is the one copy of the text the
	// console makes (the Go runtime frees it but does not wipe it).
	text := string(raw)
	req := bridge.Request{
		Member:    bridge.Member{Platform: Name, ID: who, DisplayName: who},
		MessageID: strconv.Itoa(n),
		Caps:      a.caps,
	}
	if where == "dm" {
		req.Place = bridge.Place{Kind: bridge.Private, ID: "dm:" + who}
	} else {
		req.Place = bridge.Place{Kind: bridge.Public, ID: where, Name: where}
	}
	req.Reply = &responder{a: a, member: who, place: req.Place, line: n}

	if ct, ok := bridge.ParseCommandText(text); ok {
		// Any way of writing /clm (/CLM, a no-break space after it…) is
		// a command, so the core's policy for secrets applies to it.
		req.Command, req.Args = ct.Name, ct.Args
		if ct.Name == "receive" {
			a.resolveReceive(&req)
		}
	} else {
		req.Post = text
		if req.Place.Kind == bridge.Public && len(clm.Extract(text)) > 0 {
			a.mu.Lock()
			a.lastPost[where] = text
			a.mu.Unlock()
		}
	}
	if err := a.core.Handle(ctx, req); err != nil {
		a.diagf("console: line %d: %v", n, err)
	}
}

// resolveReceive turns "/clm receive <ref>" into a button press and a bare
// "/clm receive" in a channel into a reply to the channel's last pointer.
func (a *Adapter) resolveReceive(req *bridge.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	arg := strings.TrimSpace(req.Args)
	switch {
	case arg != "" && a.refs[arg]:
		req.ReceiveRef, req.Args = arg, ""
	case arg == "" && req.Place.Kind == bridge.Public:
		req.Quoted = a.lastPost[req.Place.ID]
	}
}

func (a *Adapter) rememberRef(ref string) {
	if a.refs[ref] {
		return
	}
	a.refs[ref] = true
	a.refOrder = append(a.refOrder, ref)
	if len(a.refOrder) > maxRefs {
		delete(a.refs, a.refOrder[0])
		a.refOrder = a.refOrder[1:]
	}
}

// print writes text with prefix before each of its lines.
func (a *Adapter) print(prefix, text string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		b.WriteString(prefix)
		writeEscaped(&b, strings.TrimSuffix(l, "\r"))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(a.out, b.String())
	return err
}

// writeEscaped writes line to b with every character that could end the
// printed line or disguise it written as an escape: control characters
// (C0 but tab, DEL, C1 such as NEL), the Unicode line and paragraph
// separators, bidirectional overrides and isolates, and invalid UTF-8.
// Whatever a member types, one answer line is one output line starting
// with its true prefix: nobody can print "-> #general (public): …".
func writeEscaped(b *strings.Builder, line string) {
	for i, r := range line {
		switch {
		case r == utf8.RuneError && len(line[i:]) > 0 && !strings.HasPrefix(line[i:], "\uFFFD"):
			fmt.Fprintf(b, "\\x%02x", line[i])
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r), r == '\u2028', r == '\u2029',
			r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			if r < 0x100 {
				fmt.Fprintf(b, "\\x%02x", r)
			} else {
				fmt.Fprintf(b, "\\u%04x", r)
			}
		default:
			b.WriteRune(r)
		}
	}
}

func (a *Adapter) diagf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.diag, format+"\n", args...)
}

// NotifyPrivately prints a message to a member's private conversation (a
// watch delivery).
func (a *Adapter) NotifyPrivately(_ context.Context, m bridge.Member, text string) error {
	return a.print("-> "+m.ID+" (private): ", text)
}

// responder answers one input line.
type responder struct {
	a      *Adapter
	member string
	place  bridge.Place
	line   int
}

func (r *responder) Private(_ context.Context, text string) error {
	return r.a.print("-> "+r.member+" (private): ", text)
}

func (r *responder) PrivateFile(_ context.Context, f bridge.File) error {
	text := fmt.Sprintf("📎 %s (%d bytes):\n%s", f.Name, len(f.Content), strings.TrimRight(string(f.Content), "\n"))
	return r.a.print("-> "+r.member+" (private): ", text)
}

func (r *responder) Public(_ context.Context, p bridge.PublicPost) error {
	if r.place.Kind != bridge.Public {
		// There is no public place behind a DM; show it to the member.
		return r.Private(context.Background(), p.Text)
	}
	text := p.Text
	if p.ReceiveRef != "" {
		r.a.mu.Lock()
		r.a.rememberRef(p.ReceiveRef)
		r.a.mu.Unlock()
		text += "\n[🔓 Receive] /clm receive " + p.ReceiveRef
	}
	return r.a.print("-> "+r.place.ID+" (public): ", text)
}

// DeleteRequest "deletes" the input line: the console cannot unprint it,
// so it notes on the diagnostic writer that the line is gone from the
// simulated conversation.
func (r *responder) DeleteRequest(context.Context) error {
	r.a.diagf("console: line %d (%s in %s) deleted", r.line, r.member, placeLabel(r.place))
	return nil
}

func placeLabel(p bridge.Place) string {
	if p.Kind == bridge.Private {
		return "dm"
	}
	return p.ID
}
