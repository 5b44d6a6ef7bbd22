//go:build unix

package boundedfile

import "syscall"

// nonBlock opens a named pipe without waiting for a writer; it changes
// nothing for a regular file.
const nonBlock = syscall.O_NONBLOCK
