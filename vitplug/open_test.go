package vitplug_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// sentinels are all the outcomes Open may report.
var sentinels = []error{
	vitplug.ErrCorrupt, vitplug.ErrUnsafePath, vitplug.ErrDuplicate, vitplug.ErrNotRegular,
	vitplug.ErrCompression, vitplug.ErrEncrypted, vitplug.ErrTooLarge, vitplug.ErrRatio,
	vitplug.ErrChecksums, vitplug.ErrManifest, vitplug.ErrModule, vitplug.ErrReserved,
}

// checkOpenError checks that err wraps exactly one sentinel, want, and
// names entry, or no entry when archive is set.
func checkOpenError(t *testing.T, err error, want error, entry string, archive bool) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	for _, s := range sentinels {
		if s != want {
			require.NotErrorIs(t, err, s)
		}
	}
	var ee *vitplug.EntryError
	if archive {
		require.False(t, errors.As(err, &ee), "%v names an entry", err)
		return
	}
	require.True(t, errors.As(err, &ee), "%v names no entry", err)
	require.Equal(t, entry, ee.Entry)
	quoted := strconv.Quote(entry)
	if len(entry) > 128 {
		quoted = strconv.Quote(entry[:128])
		quoted = quoted[:len(quoted)-1]
	}
	require.Contains(t, err.Error(), "entry "+quoted)
	require.NotContains(t, err.Error(), "\x00")
}

func TestOpen(t *testing.T) {
	for _, tc := range archiveCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			z := tc.zip(t)
			p, err := vitplug.Open(bytes.NewReader(z), int64(len(z)), tc.lim)
			if tc.err != nil {
				checkOpenError(t, err, tc.err, tc.entry, tc.archive)
				require.Nil(t, p)
				return
			}
			require.NoError(t, err)
			checkPackage(t, p)
		})
	}
}

// checkPackage checks the invariants of an opened package, and that it
// writes back to the same content.
func checkPackage(t testing.TB, p *vitplug.Package) {
	m := p.Manifest()
	require.NoError(t, m.Validate())
	mod, ok := p.File(m.Plugin.Module)
	require.True(t, ok)
	require.Equal(t, mod, p.Module())
	files := p.Files()
	require.Contains(t, files, manifest.FileName)
	require.True(t, strings.HasPrefix(p.ContentID(), "h1:"))
	require.Equal(t, vitplug.ContentID(p.Checksums()), p.ContentID())
	var sums strings.Builder
	for _, f := range files {
		data, ok := p.File(f)
		require.True(t, ok)
		sums.WriteString(checksums([]zent{{name: f, data: data}}))
	}
	require.Equal(t, sums.String(), string(p.Checksums()))

	var b1, b2 bytes.Buffer
	n, err := p.WriteTo(&b1)
	require.NoError(t, err)
	require.Equal(t, int64(b1.Len()), n)
	_, err = p.WriteTo(&b2)
	require.NoError(t, err)
	require.Equal(t, b1.Bytes(), b2.Bytes(), "WriteTo is not reproducible")
	q, err := vitplug.Open(bytes.NewReader(b1.Bytes()), int64(b1.Len()), vitplug.Limits{})
	require.NoError(t, err)
	require.Equal(t, p.ContentID(), q.ContentID())
	require.Equal(t, p.Files(), q.Files())
	require.Equal(t, p.Signatures(), q.Signatures())
	require.Equal(t, p.Checksums(), q.Checksums())
}

func TestOpen_manifestError(t *testing.T) {
	for _, tc := range archiveCases() {
		if tc.name != "manifest-invalid" {
			continue
		}
		z := tc.zip(t)
		_, err := vitplug.Open(bytes.NewReader(z), int64(len(z)), vitplug.Limits{})
		var merr *manifest.Error
		require.ErrorAs(t, err, &merr)
		require.Len(t, merr.Problems, 2)
		require.Equal(t, `entry "plugin.toml": invalid manifest: plugin.toml:2:11: plugin.name: invalid plugin name "Hello": want a lower-case letter, then up to 63 lower-case letters, digits or '-'
plugin.toml:6:1: plugin.unknown: unknown key`, err.Error())
	}
}

// failingReaderAt fails every read that reaches past ok bytes.
type failingReaderAt struct {
	data []byte
	ok   int64
}

var errDisk = errors.New("disk on fire")

func (r failingReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > r.ok {
		return 0, errDisk
	}
	return copy(b, r.data[off:]), nil
}

// TestOpen_readErrors checks that a failure to read the archive is reported
// as such, not as a fault of the archive.
func TestOpen_readErrors(t *testing.T) {
	z := validZip(t)
	for _, ok := range []int64{0, 10, 100, 200, int64(len(z)) - 100} {
		_, err := vitplug.Open(failingReaderAt{data: z, ok: ok}, int64(len(z)), vitplug.Limits{})
		require.ErrorIs(t, err, errDisk, "ok=%d", ok)
		for _, s := range sentinels {
			require.NotErrorIs(t, err, s)
		}
		require.Contains(t, err.Error(), "read archive: ")
	}
	_, err := vitplug.Open(bytes.NewReader(z), -1, vitplug.Limits{})
	require.ErrorIs(t, err, vitplug.ErrCorrupt)
}
