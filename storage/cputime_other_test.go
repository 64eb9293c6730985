//go:build !unix

package storage

import (
	"testing"
	"time"
)

// cpuTime is not measured here: the cpu-µs/op metric reads 0.
func cpuTime(*testing.B) time.Duration { return 0 }
