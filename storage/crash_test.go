package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The crash test re-runs this test binary as a child process (selected by
// crashChildEnv) that saves messages as fast as it can, printing one line
// per acknowledged save, and rekeys now and then. The parent SIGKILLs it
// at a random moment and checks what survived.
const (
	crashChildEnv  = "STORAGE_CRASH_CHILD_DB"
	crashSecretEnv = "STORAGE_CRASH_CHILD_SECRET"
	crashRoundEnv  = "STORAGE_CRASH_CHILD_ROUND"
	crashRounds    = 24
	crashChat      = "Crash"
	crashRekeyEach = 60
)

// crashPointer is the pointer (and, reversed, the text) of save i in round r.
func crashPointer(round, i int) string { return fmt.Sprintf("round-%d-save-%d", round, i) }

func crashText(pointer string) string { return "text of " + pointer }

// TestCrashChildProcess is the child side; it does nothing in a normal run.
func TestCrashChildProcess(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("only runs as the child of TestCrashSafety")
	}
	round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
	secret := os.Getenv(crashSecretEnv)
	ctx := context.Background()
	say := func(format string, args ...any) {
		// One write per line, so a kill never leaves half a line that
		// looks whole.
		_, _ = os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n")
	}
	fail := func(err error) {
		say("ERR %v", err)
		os.Exit(3)
	}
	s, err := Open(ctx, path, cheapOptions())
	if err != nil {
		fail(err)
	}
	m, err := s.EnsureMember(ctx, MemberRef{"test", "crash"}, "crasher")
	if err != nil {
		fail(err)
	}
	k, err := s.UnlockChat(ctx, m.ID, crashChat, []byte(secret))
	if errors.Is(err, ErrNotFound) {
		k, err = s.CreateChat(ctx, m.ID, crashChat, []byte(secret))
	}
	if err != nil {
		fail(err)
	}
	say("READY")
	// Bounded: the parent kills us long before this ends.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		p := crashPointer(round, i)
		nm := NewMessage{Direction: Sent, Epoch: int64(i), Nonce: "n", Pointer: p, Username: "crasher", Text: crashText(p)}
		id, _, err := s.SaveMessage(ctx, k, nm)
		if err != nil {
			fail(err)
		}
		say("ACK %d %s", id, p)
		if i%crashRekeyEach == crashRekeyEach-1 {
			next := fmt.Sprintf("secret-r%d-i%d", round, i)
			say("REKEYING %s", next)
			if k, _, err = s.Rekey(ctx, k, []byte(next)); err != nil {
				fail(err)
			}
			say("REKEYED %s", next)
		}
	}
	say("TIMEOUT")
	os.Exit(4)
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crash.db")
	secret := "first-secret"
	acked := map[int64]string{} // id -> pointer
	roundsWithAcks, rekeys := 0, 0
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	for round := range crashRounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			crashChildEnv+"="+path, crashSecretEnv+"="+secret, crashRoundEnv+"="+strconv.Itoa(round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Even rounds: kill at a random moment from start, which may land
		// in Open, the migration or CreateChat. Odd rounds: a random moment
		// into the saving loop.
		delay := time.Duration(rng.IntN(60_000)) * time.Microsecond
		var timer *time.Timer
		kill := func() { _ = cmd.Process.Kill() } // SIGKILL
		if round%2 == 0 {
			timer = time.AfterFunc(delay, kill)
		}
		var (
			lines   []string
			pending string
		)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if line == "READY" && timer == nil {
				timer = time.AfterFunc(delay, kill)
			}
			lines = append(lines, line)
		}
		if timer != nil {
			timer.Stop()
		}
		kill()
		_ = cmd.Wait()

		n := 0
		for _, line := range lines {
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && f[0] == "ACK":
				id, err := strconv.ParseInt(f[1], 10, 64)
				if err != nil {
					t.Fatalf("round %d: bad line %q", round, line)
				}
				acked[id] = f[2]
				n++
			case len(f) == 2 && f[0] == "REKEYING":
				pending = f[1]
			case len(f) == 2 && f[0] == "REKEYED":
				secret, pending = f[1], ""
				rekeys++
			case len(f) > 0 && (f[0] == "ERR" || f[0] == "TIMEOUT"):
				t.Fatalf("round %d: child: %s", round, line)
			}
		}
		if n > 0 {
			roundsWithAcks++
		}
		secret = checkAfterCrash(t, ctx, path, round, secret, pending, acked)
	}
	t.Logf("%d rounds, %d with acknowledged saves, %d acknowledged saves, %d completed rekeys",
		crashRounds, roundsWithAcks, len(acked), rekeys)
	if roundsWithAcks < crashRounds/4 {
		t.Fatalf("only %d of %d rounds got as far as saving: the test proves too little", roundsWithAcks, crashRounds)
	}
}

// checkAfterCrash reopens the store after a kill: the file passes
// integrity_check, the chat unlocks with the last acknowledged secret (or
// the one a rekey was writing when killed: a rekey is all or nothing), and
// every acknowledged message is present and opens. It returns the secret
// now in force.
func checkAfterCrash(t *testing.T, ctx context.Context, path string, round int, secret, pending string, acked map[int64]string) string {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if len(acked) > 0 {
			t.Fatalf("round %d: database gone", round)
		}
		return secret
	}
	s, err := Open(ctx, path, cheapOptions())
	if err != nil {
		t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
	}
	defer s.Close()
	var check string
	if err := s.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("round %d: integrity_check = %q, %v", round, check, err)
	}
	m, err := s.EnsureMember(ctx, MemberRef{"test", "crash"}, "crasher")
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.UnlockChat(ctx, m.ID, crashChat, []byte(secret))
	if errors.Is(err, ErrWrongSecret) && pending != "" {
		k, err = s.UnlockChat(ctx, m.ID, crashChat, []byte(pending))
		secret = pending
	}
	if errors.Is(err, ErrNotFound) && len(acked) == 0 {
		return secret // killed before the chat was created
	}
	if err != nil {
		t.Fatalf("round %d: unlock after SIGKILL: %v", round, err)
	}
	found := map[int64]Message{}
	for page := 0; ; page++ {
		h, err := s.History(ctx, k, Page{Size: MaxPageSize, Page: page})
		if err != nil {
			t.Fatalf("round %d: history after SIGKILL: %v", round, err)
		}
		for _, msg := range h {
			found[msg.ID] = msg
		}
		if len(h) < MaxPageSize {
			break
		}
	}
	for id, p := range acked {
		msg, ok := found[id]
		if !ok {
			t.Fatalf("round %d: acknowledged message %d (%s) lost", round, id, p)
		}
		if msg.Pointer != p || msg.Text != crashText(p) {
			t.Fatalf("round %d: message %d = %q/%q, want pointer %q", round, id, msg.Pointer, msg.Text, p)
		}
	}
	return secret
}
