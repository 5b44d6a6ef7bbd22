//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package trust

import (
	"errors"
	"os"
)

func openTTY() (in, out *os.File, err error) {
	return nil, nil, errors.New("not supported on this system")
}

func disableEcho(*os.File) (func(), error) {
	return nil, errors.New("not supported on this system")
}
