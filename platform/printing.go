package platform

import (
	"fmt"
	"io"
)

// FormatRedacted is the one way a type holding a secret (a token, or
// something that holds one) prints itself, for its Format method: s, its
// redacted String, under the verb and flags given (so %q quotes it and
// %-20s pads it), and gos, its redacted GoString, under %#v. Without a
// Format method, fmt prints a struct's fields under any verb it finds no
// method for (%d, %x), the secret among them.
func FormatRedacted(f fmt.State, verb rune, s, gos string) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, gos) // already Go syntax: not quoted again
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s)
}
