// Command clm makes and opens CLM 2.0.2 pointers offline, for members who
// would rather not give a secret to any bot, and for scripts.
//
// It has no network and no database. Secrets (a chat secret, or the master
// phrase for pubkey) come from the CLM_SECRET environment variable or from
// --secret-file PATH, never from the command line, where other users of the
// machine could read them in ps.
//
//	clm encode --chat NAME --user NAME [--epoch N] [--no-tag] < message
//	clm decode < text
//	clm keygen
//	clm pubkey --user NAME
//	clm hash --chat NAME
//
// Exit status: 0 on success; 1 when decode met a pointer it could not open
// (or none at all); 2 for a usage error or bad input.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // decode: a pointer did not open, or there was none
	exitUsage  = 2 // usage error or bad input
)

// Input limits, so a mistaken redirect cannot exhaust memory.
const (
	maxSecretFile = 64 << 10
	maxDecodeText = 64 << 20
	maxMessage    = clm.MaxDataLen / 2 // larger never makes a pointer anyway
)

const usage = `clm makes and opens CLM 2.0.2 pointers, offline.

Usage:
  clm encode --chat NAME --user NAME [--epoch N] [--no-tag]  < message
  clm decode                                                  < text
  clm keygen
  clm pubkey --user NAME
  clm hash --chat NAME
  clm version

Secrets (the chat secret, or your master phrase for pubkey) are read from
the CLM_SECRET environment variable or from --secret-file PATH, never from
the command line, where other users could see them in ps.

Run 'clm COMMAND --help' for the details of a command.
`

// secretNote ends the help of each command that takes a secret.
const secretNote = `
The secret is read from --secret-file PATH if given (a regular file; one
trailing newline is removed; a warning if other users may read it),
otherwise from the CLM_SECRET environment variable.
`

// command is one subcommand: its flags are declared by setup, and do runs
// once they parse.
type command struct {
	summary string // first help line
	usage   string // argument synopsis
	details string // after the flags
	secret  bool   // takes --secret-file
	setup   func(fs *flag.FlagSet) func(s *session) int
}

// session is one run of a command: its streams, environment and secret.
type session struct {
	name           string
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	secretFile     string
}

func commands() map[string]command {
	return map[string]command{
		"encode": {
			summary: "encode reads a message from stdin and prints its pointer on one line.",
			usage:   "clm encode --chat NAME --user NAME [--epoch N] [--no-tag] < message",
			details: `
One trailing newline is removed from the message. The pointer is the
bridge's extension v1, which 2.0.2 clients open like any other: its nonce
is keyed with the secret, so nobody can test guessed messages against it,
and its tag lets receivers detect tampering. --no-tag makes a plain 2.0.2
pointer, whose nonce lets anyone who knows the chat and the sender test
guesses offline: do not use it for short answers, numbers or PINs.
`,
			secret: true,
			setup:  setupEncode,
		},
		"decode": {
			summary: "decode opens every pointer found in the text on stdin.",
			usage:   "clm decode < text",
			details: `
The text may be anything: code fences, quotes, several pointers. Each
pointer found prints one JSON line, in order:
  {"chat":…,"username":…,"message":…,"authenticated":true|false}
or, for one that did not open,
  {"error":"malformed"|"wrong_secret"|"tampered"}
Text with no pointer prints {"error":"no_pointer"}. "authenticated": false
is a plain 2.0.2 pointer: its text matches its nonce, but it carries no tag
and anyone who knows the chat could have guessed its text from it.
"tampered" is a pointer changed on the way; its text is not printed.
The exit status is 0 when every pointer opened, 1 otherwise.
`,
			secret: true,
			setup:  setupDecode,
		},
		"keygen": {
			summary: "keygen prints a fresh random chat secret (150 bits, easy to type).",
			usage:   "clm keygen",
			setup:   setupKeygen,
		},
		"pubkey": {
			summary: "pubkey prints your 2.0.2 profile public key; the secret is your master phrase.",
			usage:   "clm pubkey --user NAME",
			secret:  true,
			setup:   setupPubkey,
		},
		"hash": {
			summary: "hash prints the 2.0.2 chat-secret check value, for import and export.",
			usage:   "clm hash --chat NAME",
			details: `
The value is unsalted and fast to guess from: keep it as private as the
secret itself.
`,
			secret: true,
			setup:  setupHash,
		},
	}
}

// run is the whole program, minus os.Exit, so tests can drive it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(stdout, version.Get())
		return exitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "clm: unknown command %q\nRun 'clm --help' for usage.\n", args[0])
		return exitUsage
	}
	s := &session{name: args[0], stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	fs := flag.NewFlagSet("clm "+s.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, never echoing values
	if cmd.secret {
		fs.StringVar(&s.secretFile, "secret-file", "", "read the secret from `PATH`")
	}
	do := cmd.setup(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout, cmd, fs)
			return exitOK
		}
		return s.usageError(flagError(fs, err))
	}
	if fs.NArg() > 0 {
		// Not echoed: a stray argument may be a secret typed by mistake.
		return s.usageError(fmt.Sprintf("%s takes no arguments (%d given); the input is read from stdin", s.name, fs.NArg()))
	}
	return do(s)
}

// flagError rewords a flag package error so that it never repeats what was
// typed, beyond a flag's name: a value may be a secret pasted in the wrong
// place (--epoch <secret>), and the flag package quotes values in its
// errors. A flag whose name suggests a secret gets a pointer to the safe
// ways of giving one.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "unknown flag --" + name
		lower := strings.ToLower(name)
		for _, hint := range []string{"secret", "pass", "phrase", "key", "master"} {
			if strings.Contains(lower, hint) {
				return msg + ": secrets are never taken from the command line (other users can see it in ps); set CLM_SECRET or use --secret-file PATH"
			}
		}
		return msg
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + name + " needs a value"
	}
	// "invalid value %q for flag -NAME: …" and "invalid boolean value %q
	// for -NAME: …": name the flag and say what it takes, from its usage.
	if name, ok := badValueFlag(msg); ok {
		if f := fs.Lookup(name); f != nil {
			arg, usage := flag.UnquoteUsage(f)
			if arg == "" {
				return fmt.Sprintf("--%s takes no value, or =true or =false; the value given is not shown", name)
			}
			return fmt.Sprintf("--%s wants %s: %s; the value given is not shown", name, arg, usage)
		}
	}
	return "cannot read the flags; values are not shown here, in case one was a secret"
}

// badValueFlag returns the flag named by the flag package's error for a
// value that does not parse, skipping over the quoted value.
func badValueFlag(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "invalid value ")
	if !ok {
		if rest, ok = strings.CutPrefix(msg, "invalid boolean value "); !ok {
			return "", false
		}
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return "", false
	}
	rest = rest[len(quoted):]
	if r, ok := strings.CutPrefix(rest, " for flag -"); ok {
		rest = r
	} else if rest, ok = strings.CutPrefix(rest, " for -"); !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, ":")
	return name, ok
}

func printHelp(w io.Writer, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n", cmd.summary, cmd.usage)
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nFlags:\n")
			first = false
		}
		arg, text := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  %s\n      %s\n", strings.TrimSpace("--"+f.Name+" "+arg), text)
	})
	fmt.Fprint(w, cmd.details)
	if cmd.secret {
		fmt.Fprint(w, secretNote)
	}
}

func (s *session) usageError(msg string) int {
	fmt.Fprintf(s.stderr, "clm %s: %s\nRun 'clm %s --help' for usage.\n", s.name, msg, s.name)
	return exitUsage
}

// inputError reports bad input (not a usage mistake) with exit status 2.
func (s *session) inputError(msg string) int {
	fmt.Fprintf(s.stderr, "clm %s: %s\n", s.name, msg)
	return exitUsage
}

// secret returns the secret from --secret-file or CLM_SECRET. Errors say
// where the secret was looked for, never what it holds, and do not repeat
// the path either: a secret typed as the path by mistake stays off screen.
// A secret file that other users may read is used, with a warning.
func (s *session) secret() ([]byte, error) {
	if s.secretFile != "" {
		b, shared, err := readSecretFile(s.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--secret-file: %w", err)
		}
		if shared {
			fmt.Fprintf(s.stderr, "clm %s: warning: --secret-file can be read by other users of this machine; make it private: chmod 600 FILE\n", s.name)
		}
		return b, nil
	}
	if v := s.getenv("CLM_SECRET"); v != "" {
		return []byte(v), nil
	}
	return nil, errors.New("no secret: set CLM_SECRET or use --secret-file PATH")
}

// readSecretFile reads the secret from a regular file, and reports whether
// the file's mode lets its group or others read it. The file is opened
// without blocking, so a FIFO (or a device) given by mistake is refused at
// once rather than waited on forever; the check is on the opened file, so
// the path cannot be swapped between a check and the read.
func readSecretFile(path string) (secret []byte, shared bool, err error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, false, fmt.Errorf("cannot open the file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, errors.New("cannot read the file")
	}
	if !fi.Mode().IsRegular() {
		return nil, false, errors.New("not a regular file: give the path of a file that holds the secret")
	}
	shared = runtime.GOOS != "windows" && fi.Mode().Perm()&0o044 != 0
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, false, errors.New("cannot read the file")
	}
	if len(b) > maxSecretFile {
		return nil, false, fmt.Errorf("the file is over %d KiB: is it the right file?", maxSecretFile>>10)
	}
	b = trimNewline(b)
	if len(b) == 0 {
		return nil, false, errors.New("the file is empty")
	}
	return b, shared, nil
}

// trimNewline removes one trailing "\n" or "\r\n".
func trimNewline(b []byte) []byte {
	b, _ = bytes.CutSuffix(b, []byte("\n"))
	b, _ = bytes.CutSuffix(b, []byte("\r"))
	return b
}

// readInput reads stdin, refusing more than limit bytes.
func (s *session) readInput(limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(s.stdin, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("the input is over %d bytes", limit)
	}
	return b, nil
}

func setupEncode(fs *flag.FlagSet) func(*session) int {
	chat := fs.String("chat", "", "the chat `NAME` (required)")
	user := fs.String("user", "", "your CLM user `NAME` (required)")
	epoch := fs.Int64("epoch", 0, "the pointer's time, Unix seconds `N` (default now)")
	noTag := fs.Bool("no-tag", false, "make a plain 2.0.2 pointer: no tag, and a nonce anyone can test guessed messages against")
	return func(s *session) int {
		if *chat == "" || *user == "" {
			return s.usageError("--chat and --user are required")
		}
		e := *epoch
		if !flagSet(fs, "epoch") {
			e = time.Now().Unix()
		}
		secret, err := s.secret()
		if err != nil {
			return s.usageError(err.Error())
		}
		text, err := s.readInput(maxMessage)
		if err != nil {
			return s.inputError(err.Error())
		}
		m := clm.Message{Chat: *chat, Username: *user, Text: string(trimNewline(text))}
		newPointer := clm.NewPointer
		if *noTag {
			newPointer = clm.NewLegacyPointer
		}
		p, err := newPointer(secret, m, e)
		if err != nil {
			return s.inputError(err.Error())
		}
		out := p.String()
		if _, err := fmt.Fprintln(s.stdout, out); err != nil {
			return s.inputError(err.Error())
		}
		for _, lim := range platformLimits() {
			if len(out) > lim.chars {
				fmt.Fprintf(s.stderr, "clm encode: note: the pointer is %d characters, over %s's %d: at most %d message bytes fit there\n",
					len(out), lim.name, lim.chars, clm.MaxMessageBytes(lim.chars, m.Chat, m.Username, !*noTag))
			}
		}
		return exitOK
	}
}

// flagSet reports whether the named flag was given.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// decoded is one line of decode's output.
type decoded struct {
	Chat          string `json:"chat"`
	Username      string `json:"username"`
	Message       string `json:"message"`
	Authenticated bool   `json:"authenticated"`
}

type decodeError struct {
	Error string `json:"error"`
}

func setupDecode(*flag.FlagSet) func(*session) int {
	return func(s *session) int {
		secret, err := s.secret()
		if err != nil {
			return s.usageError(err.Error())
		}
		text, err := s.readInput(maxDecodeText)
		if err != nil {
			return s.inputError(err.Error())
		}
		w := bufio.NewWriter(s.stdout)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		found := clm.Scan(string(text))
		status := exitOK
		if len(found) == 0 {
			enc.Encode(decodeError{"no_pointer"})
			status = exitFailed
		}
		for _, c := range found {
			err := c.Err
			var o clm.Opened
			if err == nil {
				o, err = c.Pointer.Open(secret)
			}
			if err != nil {
				enc.Encode(decodeError{errorName(err)})
				status = exitFailed
				continue
			}
			enc.Encode(decoded{Chat: o.Chat, Username: o.Username, Message: o.Text, Authenticated: o.Authenticated})
		}
		if err := w.Flush(); err != nil {
			return s.inputError(err.Error())
		}
		return status
	}
}

// errorName is decode's name for a failure.
func errorName(err error) string {
	switch {
	case errors.Is(err, clm.ErrWrongSecret):
		return "wrong_secret"
	case errors.Is(err, clm.ErrTampered):
		return "tampered"
	default:
		return "malformed"
	}
}

func setupKeygen(*flag.FlagSet) func(*session) int {
	return func(s *session) int {
		secret, err := clm.GenerateSecret()
		if err != nil {
			fmt.Fprintf(s.stderr, "clm keygen: %v\n", err)
			return exitFailed
		}
		fmt.Fprintln(s.stdout, secret)
		return exitOK
	}
}

func setupPubkey(fs *flag.FlagSet) func(*session) int {
	user := fs.String("user", "", "your CLM user `NAME` (required)")
	return func(s *session) int {
		if *user == "" {
			return s.usageError("--user is required")
		}
		master, err := s.secret()
		if err != nil {
			return s.usageError(err.Error())
		}
		fmt.Fprintln(s.stdout, clm.PublicKey(*user, master))
		return exitOK
	}
}

func setupHash(fs *flag.FlagSet) func(*session) int {
	chat := fs.String("chat", "", "the chat `NAME` (required)")
	return func(s *session) int {
		if *chat == "" {
			return s.usageError("--chat is required")
		}
		secret, err := s.secret()
		if err != nil {
			return s.usageError(err.Error())
		}
		fmt.Fprintln(s.stdout, clm.ChatHash(*chat, secret))
		return exitOK
	}
}

// platformLimit is the message limit of a platform the bridge serves.
type platformLimit struct {
	name  string
	chars int
}

// platformLimits are the message limits of the platforms the bridge
// serves, for encode's note on a pointer too long for one. The offline
// CLI links no adapter (package clm knows no platform): the numbers are
// the adapters' MessageLimit, and a test checks that they agree.
func platformLimits() []platformLimit {
	return []platformLimit{{"Telegram", 4096}, {"Discord", 2000}}
}
