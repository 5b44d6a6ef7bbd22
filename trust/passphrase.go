package trust

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNoTerminal is returned by [ReadPassphrase] when the process has no
// terminal to read a passphrase from.
var ErrNoTerminal = errors.New("no terminal to read the passphrase from")

// ReadPassphrase writes prompt to the process's controlling terminal and
// reads a line from it with echo turned off: the passphrase of a secret
// key. It reads the terminal itself, not stdin, so that stdin and stdout
// stay free for data. The line is returned without its line ending.
//
// It is for command lines: a program that is not run by a person should
// get the passphrase some other way (vitte reads VITTE_KEY_PASSWORD), or
// use an unencrypted key. Without a terminal, the error wraps
// [ErrNoTerminal].
func ReadPassphrase(prompt string) ([]byte, error) {
	in, out, err := openTTY()
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w: %v", ErrNoTerminal, err)
	}
	defer in.Close()
	if out != in {
		defer out.Close()
	}
	restore, err := disableEcho(in)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w: %v", ErrNoTerminal, err)
	}
	fmt.Fprint(out, prompt)
	line, rerr := readLine(in)
	restore()
	fmt.Fprintln(out)
	if rerr != nil {
		return nil, fmt.Errorf("read passphrase: %w", rerr)
	}
	return line, nil
}

// readLine reads up to a newline, byte by byte so that nothing past it is
// consumed, at most 4 KiB.
func readLine(r io.Reader) ([]byte, error) {
	br := bufio.NewReaderSize(r, 16)
	var line []byte
	for len(line) <= 4096 {
		b, err := br.ReadByte()
		if err == io.EOF && len(line) > 0 {
			break
		}
		if err != nil {
			return nil, err
		}
		if b == '\n' {
			break
		}
		line = append(line, b)
	}
	if len(line) > 4096 {
		return nil, errors.New("passphrase longer than 4096 bytes")
	}
	return []byte(strings.TrimSuffix(string(line), "\r")), nil
}
