package console

import (
	"bytes"
	"errors"
	"io"
)

// initialLineBuffer is the line buffer's first size; it grows up to
// MaxLineBytes for longer lines.
const initialLineBuffer = 4 << 10

// lineReader reads lines into a buffer it owns and wipes, so that what a
// member typed (a secret, in "unlock Work <secret>") does not stay in a
// reader's buffer after its line was handled, as it would in a
// bufio.Scanner's. A line longer than max is skipped, not fatal.
type lineReader struct {
	r   io.Reader
	max int
	buf []byte
	// buf[start:end] is read and not yet returned.
	start, end int
	eof        bool
	err        error
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: r, max: max, buf: make([]byte, initialLineBuffer)}
}

// errLineTooLong is what next returns for a line longer than the maximum;
// the line is skipped and reading can go on.
var errLineTooLong = errors.New("line too long")

// next returns the next line without its "\n", in a new slice the caller
// owns (and should wipe once handled); the reader's copy is wiped. At the
// end of input it returns io.EOF (a last line without "\n" is returned
// first); for a line over the maximum, errLineTooLong.
func (lr *lineReader) next() ([]byte, error) {
	skipping := false
	for {
		if i := bytes.IndexByte(lr.buf[lr.start:lr.end], '\n'); i >= 0 {
			line := lr.take(i, 1)
			if skipping || len(line) > lr.max {
				clear(line)
				return nil, errLineTooLong
			}
			return line, nil
		}
		if lr.eof || lr.err != nil {
			if lr.start == lr.end {
				if lr.err != nil {
					return nil, lr.err
				}
				return nil, io.EOF
			}
			line := lr.take(lr.end-lr.start, 0)
			if skipping || len(line) > lr.max {
				clear(line)
				return nil, errLineTooLong
			}
			return line, nil
		}
		if lr.end-lr.start > lr.max {
			// Too long: drop what was read and skip to the next newline.
			clear(lr.buf[lr.start:lr.end])
			lr.start, lr.end = 0, 0
			skipping = true
		}
		lr.fill()
	}
}

// take returns a copy of the n bytes at start, wipes them and the sep
// bytes after them in the buffer, and moves start past them.
func (lr *lineReader) take(n, sep int) []byte {
	line := bytes.Clone(lr.buf[lr.start : lr.start+n])
	if line == nil {
		line = []byte{}
	}
	clear(lr.buf[lr.start : lr.start+n+sep])
	lr.start += n + sep
	if lr.start == lr.end {
		lr.start, lr.end = 0, 0
	}
	return line
}

// fill reads more input, first making room: unread bytes move to the
// front (their old place wiped), and the buffer doubles (the old one
// wiped) when it is full.
func (lr *lineReader) fill() {
	if lr.start > 0 {
		n := copy(lr.buf, lr.buf[lr.start:lr.end])
		clear(lr.buf[n:lr.end])
		lr.start, lr.end = 0, n
	}
	if lr.end == len(lr.buf) {
		bigger := make([]byte, min(2*len(lr.buf), lr.max+2))
		if len(bigger) <= len(lr.buf) {
			bigger = make([]byte, 2*len(lr.buf))
		}
		copy(bigger, lr.buf[:lr.end])
		clear(lr.buf)
		lr.buf = bigger
	}
	n, err := lr.r.Read(lr.buf[lr.end:])
	lr.end += n
	switch {
	case errors.Is(err, io.EOF):
		lr.eof = true
	case err != nil:
		lr.err = err
	}
}

// wipe clears the buffer, at the end of input.
func (lr *lineReader) wipe() {
	clear(lr.buf)
	lr.start, lr.end = 0, 0
}
