package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests below run main (or disableCoreDumps) in a child process, the
// test binary itself, which they recognise by this variable: what they
// change cannot be undone in a process.
const childEnv = "CLM_TEST_COREDUMP_CHILD"

func TestCoreDumpsAreOffWhileTheBridgeRuns(t *testing.T) {
	if os.Getenv(childEnv) == "main" {
		os.Args = []string{"bridge"}
		main() // console mode until stdin ends; exits
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCoreDumpsAreOffWhileTheBridgeRuns$")
	cmd.Env = []string{childEnv + "=main", "CLM_DATA_DIR=" + t.TempDir(), "CLM_HTTP_ADDR=off", "PATH=" + os.Getenv("PATH")}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// A line first: an input that ends before its first byte means a
		// container started without a token, which exits 2.
		_, _ = stdin.Write([]byte("alice@dm: chats\n"))
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("the bridge ended with %v", err)
		}
	}()
	running := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			if !seen && strings.Contains(sc.Text(), "bridge running") {
				seen = true
				running <- true
			}
		}
		if !seen {
			running <- false
		}
	}()
	select {
	case ok := <-running:
		if !ok {
			t.Fatal("the bridge ended before it ran")
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the bridge did not start")
	}
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(limits), "\n") {
		if strings.HasPrefix(l, "Max core file size") {
			if f := strings.Fields(l); len(f) < 6 || f[4] != "0" || f[5] != "0" {
				t.Errorf("core file size limits (soft, hard) not 0: %q", l)
			}
			return
		}
	}
	t.Fatalf("no core size in %s", limits)
}

func TestDisableCoreDumpsMakesTheProcessUndumpable(t *testing.T) {
	if os.Getenv(childEnv) == "disable" {
		if err := disableCoreDumps(); err != nil {
			fmt.Println("error:", err)
			return
		}
		d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		var rl unix.Rlimit
		err2 := unix.Getrlimit(unix.RLIMIT_CORE, &rl)
		fmt.Printf("dumpable=%d %v core=%d/%d %v\n", d, err, rl.Cur, rl.Max, err2)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDisableCoreDumpsMakesTheProcessUndumpable$")
	cmd.Env = []string{childEnv + "=disable"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(string(out), "dumpable=0 <nil> core=0/0 <nil>") {
		t.Fatalf("child: %s", out)
	}
}
