//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package registry

import (
	"context"
	"fmt"
	"runtime"
)

// lockFile fails: this system has no flock(2) the registry relies on
// (see "Locking" in the package documentation).
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	return nil, fmt.Errorf("lock %s: %w: no flock on %s", path, ErrUnsupported, runtime.GOOS)
}

func syncDir(dir string) error { return nil }
