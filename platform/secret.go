package platform

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// MaxSecretFile is the most bytes read from a token or secret file: a
// larger file is not a token (a wrong path, such as a log or a binary).
const MaxSecretFile = 4096

// ReadSecret is the one rule for a secret setting of every platform (a bot
// token, a webhook secret): it is given either in the environment variable
// name or in a file named by name_FILE, never both (which one would win is
// a surprise). It returns value, or the content of file, with white space
// around it trimmed; "" when neither is set. Errors name the variable to
// fix, may name the file, and never hold the secret.
func ReadSecret(name, value, file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(value), nil
	}
	if value != "" {
		return "", fmt.Errorf("set %s or %s_FILE, not both", name, name)
	}
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("cannot read %s_FILE %s: %w", name, file, pathCause(err))
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, MaxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s_FILE %s: %w", name, file, pathCause(err))
	}
	if len(data) > MaxSecretFile {
		return "", fmt.Errorf("%s_FILE is larger than %d bytes: is it the right file?", name, MaxSecretFile)
	}
	return strings.TrimSpace(string(data)), nil
}

// pathCause returns the reason of a file error without repeating the path
// (the caller names it once).
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
