package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// disableCoreDumps keeps secrets in memory (unlocked sessions, what a
// member is typing) out of any core file: the core size limit goes to 0,
// soft and hard, so no core file is written even on a crash, and the
// process is marked not dumpable, which also stops other processes of the
// same user from reading its memory through /proc or ptrace.
func disableCoreDumps() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("setting RLIMIT_CORE to 0: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_DUMPABLE 0: %w", err)
	}
	return nil
}
