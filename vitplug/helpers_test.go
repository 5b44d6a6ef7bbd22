package vitplug_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// minimalManifest is the plugin.toml of the test packages.
const minimalManifest = `[plugin]
name    = "hello"
version = "0.1.0"
kind    = "wasm"
module  = "hello.wasm"
`

// wasmHeader is the smallest WebAssembly module: magic and version.
var wasmHeader = []byte("\x00asm\x01\x00\x00\x00")

// zent is one entry of a test archive, written with archive/zip's CreateRaw
// so that every header field can be set.
type zent struct {
	name string
	data []byte
	// store stores data instead of deflating it.
	store bool
	// header, when set, edits the header after the defaults are set: sizes,
	// CRC-32, method, flags, mode...
	header func(*zip.FileHeader)
	// body, when set, replaces the bytes written after the local header.
	body []byte
}

// file is a content entry.
func file(name, data string) zent { return zent{name: name, data: []byte(data)} }

// buildZip writes entries, in order, as a ZIP archive with the same fixed
// metadata as Pack, and any edits the entries ask for.
func buildZip(t testing.TB, entries ...zent) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		fh := &zip.FileHeader{
			Name:               e.name,
			CreatorVersion:     20,
			ReaderVersion:      20,
			ModifiedDate:       1<<5 | 1,
			CRC32:              crc32.ChecksumIEEE(e.data),
			UncompressedSize64: uint64(len(e.data)),
		}
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(e.name, "/") {
			mode = fs.ModeDir | 0o755
		}
		fh.SetMode(mode)
		body := e.data
		if !e.store && len(e.data) > 0 {
			fh.Method = zip.Deflate
			body = deflate(t, e.data)
		}
		if e.body != nil {
			body = e.body
		}
		fh.CompressedSize64 = uint64(len(body))
		if e.header != nil {
			e.header(fh)
		}
		w, err := zw.CreateRaw(fh)
		require.NoError(t, err)
		_, err = w.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func deflate(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, flate.BestCompression)
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	return b.Bytes()
}

// checksums returns the CHECKSUMS of the content entries among entries,
// written here from package-v1.md, independently of the package.
func checksums(entries []zent) string {
	var lines []string
	for _, e := range entries {
		if strings.HasSuffix(e.name, "/") || strings.HasPrefix(e.name, "_vitte/") {
			continue
		}
		lines = append(lines, fmt.Sprintf("%x  %s\n", sha256.Sum256(e.data), e.name))
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	return strings.Join(lines, "")
}

// pkgEntries returns the entries of a valid package: plugin.toml, the
// module, the extra entries, and a CHECKSUMS listing the content files.
func pkgEntries(extra ...zent) []zent {
	entries := append([]zent{file("plugin.toml", minimalManifest), {name: "hello.wasm", data: wasmHeader}}, extra...)
	return append(entries, file("_vitte/CHECKSUMS", checksums(entries)))
}

// validZip is a valid package with the extra entries.
func validZip(t testing.TB, extra ...zent) []byte {
	return buildZip(t, pkgEntries(extra...)...)
}

// headerAt returns the offset of the record with signature sig whose name,
// at nameAt, is name.
func headerAt(t testing.TB, z []byte, sig uint32, nameAt int, name string) int {
	t.Helper()
	var s [4]byte
	binary.LittleEndian.PutUint32(s[:], sig)
	for i := 0; ; i++ {
		j := bytes.Index(z[i:], s[:])
		require.GreaterOrEqual(t, j, 0, "no header for %q", name)
		i += j
		if i+nameAt+len(name) <= len(z) && string(z[i+nameAt:i+nameAt+len(name)]) == name {
			n := int(binary.LittleEndian.Uint16(z[i+nameAt-18:]))
			if sig == 0x04034b50 {
				n = int(binary.LittleEndian.Uint16(z[i+26:]))
			}
			if n == len(name) {
				return i
			}
		}
	}
}

// patchLocal lets edit change the local header of the entry name.
func patchLocal(t testing.TB, z []byte, name string, edit func(h []byte)) []byte {
	z = bytes.Clone(z)
	i := headerAt(t, z, 0x04034b50, 30, name)
	edit(z[i : i+30+len(name)])
	return z
}

// patchCentral lets edit change the central directory header of the entry
// name.
func patchCentral(t testing.TB, z []byte, name string, edit func(h []byte)) []byte {
	z = bytes.Clone(z)
	i := headerAt(t, z, 0x02014b50, 46, name)
	edit(z[i : i+46+len(name)])
	return z
}

// patchEnd lets edit change the end of central directory record.
func patchEnd(t testing.TB, z []byte, edit func(h []byte)) []byte {
	z = bytes.Clone(z)
	i := bytes.LastIndex(z, []byte("PK\x05\x06"))
	require.GreaterOrEqual(t, i, 0)
	edit(z[i:])
	return z
}

func put16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }
func put32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }

var time1 = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
