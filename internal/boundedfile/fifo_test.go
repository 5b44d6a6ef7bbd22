//go:build unix

package boundedfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRead_NamedPipe checks that a named pipe without a writer is refused
// at once: opening it for reading does not wait for a writer.
func TestRead_NamedPipe(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })

	for _, tc := range []struct {
		name    string
		read    func() ([]byte, error)
		wantErr string
	}{
		{name: "Read", read: func() ([]byte, error) { return Read(filepath.Join(dir, "fifo"), 100) },
			wantErr: filepath.Join(dir, "fifo") + " is not a regular file (named pipe)"},
		{name: "ReadIn", read: func() ([]byte, error) { return ReadIn(root, "fifo", 100) },
			wantErr: "fifo is not a regular file (named pipe)"},
		{name: "Open", read: func() ([]byte, error) {
			f, _, err := Open(filepath.Join(dir, "fifo"))
			if f != nil {
				f.Close()
			}
			return nil, err
		}, wantErr: filepath.Join(dir, "fifo") + " is not a regular file (named pipe)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := tc.read()
				done <- err
			}()
			select {
			case err := <-done:
				require.EqualError(t, err, tc.wantErr)
				require.ErrorIs(t, err, ErrNotRegular)
			case <-time.After(10 * time.Second):
				t.Fatal("reading a named pipe blocks")
			}
		})
	}
}

// TestRead_Device checks that a device, even one that never ends, is
// refused before any read.
func TestRead_Device(t *testing.T) {
	_, err := Read("/dev/zero", 100)
	require.EqualError(t, err, "/dev/zero is not a regular file (device)")
}
