//go:build unix

package vitplug_test

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// TestOpenFile_NamedPipe: a named pipe given as a package is refused at
// once, not waited on for a writer.
func TestOpenFile_NamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "hello.vitplug")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	done := make(chan error, 1)
	go func() {
		_, err := vitplug.OpenFile(fifo, vitplug.Limits{})
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, vitplug.ErrNotRegular)
		require.ErrorContains(t, err, "open package "+fifo)
	case <-time.After(10 * time.Second):
		t.Fatal("opening a named pipe blocks")
	}
}
