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
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
)

// Platform is the Member.Platform of console members.
const Platform = "console"

// DefaultMaxPointerChars is the pointer size the console allows by
// default: Telegram's message limit, so what works here fits there.
const DefaultMaxPointerChars = clm.TelegramLimit

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
func (a *Adapter) Name() string { return Platform }

// Run reads lines until end of input (returns nil) or until ctx is done
// (returns nil: a shutdown). Lines are handled one at a time, in order.
// A read blocked on an input that never ends (a terminal) is abandoned
// when ctx is done.
func (a *Adapter) Run(ctx context.Context) error {
	a.core.RegisterNotifier(Platform, a)
	lines := make(chan string)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		sc := bufio.NewScanner(a.in)
		sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
		readErr <- sc.Err()
		close(lines)
	}()
	a.diagf("console: ready; type lines like `alice@dm: help` or `alice@#general: hello` (end of input quits)")
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				if err := <-readErr; err != nil {
					if errors.Is(err, bufio.ErrTooLong) {
						return fmt.Errorf("console: line %d is longer than %d bytes: split it", n, MaxLineBytes)
					}
					return fmt.Errorf("console: reading input: %w", err)
				}
				return nil
			}
			a.line(ctx, n, line)
		}
	}
}

// parseLine reads the input contract: `<member>@dm: <text>` or
// `<member>@#<channel>: <text>`. where is "dm" or "#<channel>"; one space
// after the colon is dropped.
func parseLine(line string) (who, where, text string, ok bool) {
	who, rest, found := strings.Cut(line, "@")
	if !found || !validName(who) {
		return "", "", "", false
	}
	where, text, found = strings.Cut(rest, ":")
	if !found || (where != "dm" && !(strings.HasPrefix(where, "#") && validName(where[1:]))) {
		return "", "", "", false
	}
	return who, where, strings.TrimPrefix(text, " "), true
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
func (a *Adapter) line(ctx context.Context, n int, line string) {
	line = strings.TrimSuffix(line, "\r")
	if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
		return
	}
	who, where, text, ok := parseLine(line)
	if !ok {
		a.diagf("console: line %d: expected `<member>@dm: <text>` or `<member>@#<channel>: <text>` (names: letters, digits, _ and -)", n)
		return
	}
	if strings.TrimSpace(text) == "" {
		a.diagf("console: line %d: nothing after the colon", n)
		return
	}
	req := bridge.Request{
		Member:    bridge.Member{Platform: Platform, ID: who, DisplayName: who},
		MessageID: strconv.Itoa(n),
		Caps:      a.caps,
	}
	if where == "dm" {
		req.Place = bridge.Place{Kind: bridge.Private, ID: "dm:" + who}
	} else {
		req.Place = bridge.Place{Kind: bridge.Public, ID: where, Name: where}
	}
	req.Reply = &responder{a: a, member: who, place: req.Place, line: n}

	if cmd, args, ok := splitCommand(text); ok {
		req.Command, req.Args = cmd, args
		if cmd == "receive" {
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

// splitCommand reads "/clm <command> <args…>".
func splitCommand(text string) (cmd, args string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimLeftFunc(text, unicode.IsSpace), "/clm")
	if !found || (rest != "" && !unicode.IsSpace(rune(rest[0]))) {
		return "", "", false
	}
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	if rest == "" {
		return "help", "", true
	}
	end := strings.IndexFunc(rest, unicode.IsSpace)
	if end < 0 {
		return strings.ToLower(rest), "", true
	}
	return strings.ToLower(rest[:end]), strings.TrimLeftFunc(rest[end:], unicode.IsSpace), true
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
		b.WriteString(strings.TrimSuffix(l, "\r"))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(a.out, b.String())
	return err
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
