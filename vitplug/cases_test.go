package vitplug_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// archiveCase is a package, valid or not, and what Open must make of it.
// The cases with default limits and small archives are also the spec
// vectors of testdata/spec/package-v1 (see TestGenerateVectors).
type archiveCase struct {
	name string
	zip  func(t testing.TB) []byte
	// lim is the limits to open with; the zero value means the defaults.
	lim vitplug.Limits
	// err is the sentinel the error wraps, nil for a valid package.
	err error
	// entry is the entry the error names.
	entry string
	// archive is set for an error about the whole archive, naming no entry.
	archive bool
	// notVector keeps the case out of the spec vectors.
	notVector bool
}

// with returns a builder of a valid package plus the extra entries.
func with(extra ...zent) func(testing.TB) []byte {
	return func(t testing.TB) []byte { return validZip(t, extra...) }
}

// lazy returns a builder of a valid package plus the extra entries that
// extra makes, when called.
func lazy(extra func() []zent) func(testing.TB) []byte {
	return func(t testing.TB) []byte { return validZip(t, extra()...) }
}

// entries returns a builder of exactly these entries.
func entries(es ...zent) func(testing.TB) []byte {
	return func(t testing.TB) []byte { return buildZip(t, es...) }
}

// withHeader returns e with its header edited by edit.
func withHeader(e zent, edit func(*zip.FileHeader)) zent {
	e.header = edit
	return e
}

// withChecksums returns a builder of plugin.toml, hello.wasm, the extra
// entries, and a CHECKSUMS of the given text.
func withChecksums(sums string, extra ...zent) func(testing.TB) []byte {
	return func(t testing.TB) []byte {
		es := append([]zent{file("plugin.toml", minimalManifest), {name: "hello.wasm", data: wasmHeader}}, extra...)
		return buildZip(t, append(es, file("_vitte/CHECKSUMS", sums))...)
	}
}

func mode(m fs.FileMode) func(*zip.FileHeader) {
	return func(fh *zip.FileHeader) { fh.SetMode(m) }
}

const (
	keyID1 = "E7620F1842B4E81F"
	keyID2 = "0123456789ABCDEF"
	// sig1 has the shape of a minisign signature file; its content is not
	// checked by this package.
	sig1 = "untrusted comment: signature from minisign secret key\n" +
		"RUTnYg8YQrToH0ZNzpCYsTQjiAFmYtnpmgdN8D+CNFfUbA0UVaERpAg1Rw9a4WrcnzXrDwd2hoYjX6GYwCJ3YpmXqC1CFgpkbwE=\n" +
		"trusted comment: vitte-plugin v1 name=hello version=0.1.0 content=h1:x ts=0\n" +
		"Zk9KbjlwVjB3d1dvZ3hBRGVwT2d3dE1aZ2xXWVpEdTNyb0p5ZGt0c0F2eG9nc3F4bE9YeFlSN1JTdFNYQ0E=\n"
)

// line is the CHECKSUMS line of data at path.
func line(data []byte, path string) string {
	return fmt.Sprintf("%x  %s\n", sha256.Sum256(data), path)
}

func archiveCases() []archiveCase {
	manifestLine := line([]byte(minimalManifest), "plugin.toml")
	wasmLine := line(wasmHeader, "hello.wasm")
	goodSums := wasmLine + manifestLine
	zeros := func(n int) []byte { return make([]byte, n) }

	return []archiveCase{
		// Valid packages.
		{name: "valid-minimal", zip: with()},
		{name: "valid-files", zip: with(file("files/a.txt", "a\n"), file("files/sub/b.json", "{}\n"), file("files/.hidden", ""))},
		{name: "valid-signed", zip: with(file("_vitte/signatures/"+keyID1+".minisig", sig1), file("_vitte/signatures/"+keyID2+".minisig", sig1))},
		{name: "valid-folder-entries", zip: with(zent{name: "_vitte/"}, zent{name: "_vitte/signatures/"}, zent{name: "files/"}, file("files/a.txt", "a\n"), zent{name: "files/empty/"})},
		{name: "valid-stored", zip: func(t testing.TB) []byte {
			es := pkgEntries(file("files/a.txt", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
			for i := range es {
				es[i].store = true
			}
			return buildZip(t, es...)
		}},
		{name: "valid-ratio-at-threshold", zip: lazy(func() []zent { return []zent{{name: "files/zeros", data: zeros(vitplug.RatioThreshold)}} })},
		{name: "valid-archive-comment", zip: func(t testing.TB) []byte {
			z := validZip(t)
			return patchEnd(t, append(z, "a comment"...), func(e []byte) { put16(e[20:], 9) })
		}},
		{name: "valid-foreign-writer", zip: foreignWriter},
		{name: "valid-other-root-files", zip: with(file("LICENSE", "MIT\n"), file("README.md", "# hello\n"))},
		{name: "valid-names", zip: with(file("files/a-b_c.d+e@f", "x"), file("files/A1/.x.y", "y"), file("files/icon/x", "z"))},

		// Unsafe names.
		{name: "unsafe-absolute", zip: with(file("/etc/passwd", "x")), err: vitplug.ErrUnsafePath, entry: "/etc/passwd"},
		{name: "unsafe-dotdot", zip: with(file("files/../../evil", "x")), err: vitplug.ErrUnsafePath, entry: "files/../../evil"},
		{name: "unsafe-dotdot-leading", zip: with(file("../evil", "x")), err: vitplug.ErrUnsafePath, entry: "../evil"},
		{name: "unsafe-dotdot-folder", zip: with(zent{name: "../"}), err: vitplug.ErrUnsafePath, entry: "../"},
		{name: "unsafe-backslash", zip: with(file(`files\..\..\evil`, "x")), err: vitplug.ErrUnsafePath, entry: `files\..\..\evil`},
		{name: "unsafe-drive-letter", zip: with(file("C:/Windows/evil", "x")), err: vitplug.ErrUnsafePath, entry: "C:/Windows/evil"},
		{name: "unsafe-drive-relative", zip: with(file("c:evil", "x")), err: vitplug.ErrUnsafePath, entry: "c:evil"},
		{name: "unsafe-empty", zip: with(file("", "x")), err: vitplug.ErrUnsafePath, entry: ""},
		{name: "unsafe-empty-segment", zip: with(file("files//a", "x")), err: vitplug.ErrUnsafePath, entry: "files//a"},
		{name: "unsafe-dot-segment", zip: with(file("files/./a", "x")), err: vitplug.ErrUnsafePath, entry: "files/./a"},
		{name: "unsafe-non-ascii", zip: with(file("files/caf\u00e9", "x")), err: vitplug.ErrUnsafePath, entry: "files/caf\u00e9"},
		{name: "unsafe-nfd", zip: with(file("files/cafe\u0301", "x")), err: vitplug.ErrUnsafePath, entry: "files/cafe\u0301"},
		{name: "unsafe-invalid-utf8", zip: with(file("files/\xff", "x")), err: vitplug.ErrUnsafePath, entry: "files/\xff"},
		{name: "unsafe-control", zip: with(file("files/a\nb", "x")), err: vitplug.ErrUnsafePath, entry: "files/a\nb"},
		{name: "unsafe-nul", zip: with(file("files/a\x00.txt", "x")), err: vitplug.ErrUnsafePath, entry: "files/a\x00.txt"},
		{name: "unsafe-space", zip: with(file("files/a b", "x")), err: vitplug.ErrUnsafePath, entry: "files/a b"},
		{name: "unsafe-colon", zip: with(file("files/a:stream", "x")), err: vitplug.ErrUnsafePath, entry: "files/a:stream"},
		{name: "unsafe-trailing-dot", zip: with(file("files/a.", "x")), err: vitplug.ErrUnsafePath, entry: "files/a."},
		{name: "unsafe-windows-device", zip: with(file("files/NUL.txt", "x")), err: vitplug.ErrUnsafePath, entry: "files/NUL.txt"},
		{name: "unsafe-windows-device-com", zip: with(file("files/com1", "x")), err: vitplug.ErrUnsafePath, entry: "files/com1"},
		{name: "unsafe-long", zip: with(file("files/"+strings.Repeat("a", 1100), "x")), err: vitplug.ErrUnsafePath, entry: "files/" + strings.Repeat("a", 1100)},

		// Duplicates.
		{name: "duplicate-exact", zip: entries(file("plugin.toml", minimalManifest), zent{name: "hello.wasm", data: wasmHeader}, zent{name: "hello.wasm", data: []byte("other")}, file("_vitte/CHECKSUMS", goodSums)),
			err: vitplug.ErrDuplicate, entry: "hello.wasm"},
		{name: "duplicate-manifest", zip: entries(file("plugin.toml", minimalManifest), zent{name: "hello.wasm", data: wasmHeader}, file("plugin.toml", "[plugin]\n"), file("_vitte/CHECKSUMS", goodSums)),
			err: vitplug.ErrDuplicate, entry: "plugin.toml"},
		{name: "duplicate-case", zip: with(file("files/readme", "a"), file("files/README", "b")), err: vitplug.ErrDuplicate, entry: "files/README"},
		{name: "duplicate-case-manifest", zip: with(file("Plugin.toml", "[plugin]\n")), err: vitplug.ErrDuplicate, entry: "Plugin.toml"},
		{name: "duplicate-file-then-folder", zip: with(file("files/a", "a"), file("files/a/b", "b")), err: vitplug.ErrDuplicate, entry: "files/a/b"},
		{name: "duplicate-folder-then-file", zip: with(zent{name: "files/a/"}, file("files/a", "a")), err: vitplug.ErrDuplicate, entry: "files/a"},
		{name: "duplicate-folder", zip: with(zent{name: "files/"}, zent{name: "files/"}), err: vitplug.ErrDuplicate, entry: "files/"},

		// Not regular.
		{name: "symlink", zip: with(withHeader(file("files/link", "/etc/passwd"), mode(fs.ModeSymlink|0o777))), err: vitplug.ErrNotRegular, entry: "files/link"},
		{name: "symlink-module", zip: entries(file("plugin.toml", minimalManifest), withHeader(file("hello.wasm", "../../../etc/passwd"), mode(fs.ModeSymlink|0o777))),
			err: vitplug.ErrNotRegular, entry: "hello.wasm"},
		{name: "named-pipe", zip: with(withHeader(file("files/fifo", ""), mode(fs.ModeNamedPipe|0o644))), err: vitplug.ErrNotRegular, entry: "files/fifo"},
		{name: "device", zip: with(withHeader(file("files/sda", ""), mode(fs.ModeDevice|0o644))), err: vitplug.ErrNotRegular, entry: "files/sda"},
		{name: "char-device", zip: with(withHeader(file("files/tty", ""), mode(fs.ModeDevice|fs.ModeCharDevice|0o644))), err: vitplug.ErrNotRegular, entry: "files/tty"},
		{name: "socket", zip: with(withHeader(file("files/sock", ""), mode(fs.ModeSocket|0o644))), err: vitplug.ErrNotRegular, entry: "files/sock"},
		{name: "unix-folder-mode-on-file-name", zip: with(withHeader(file("files/x", ""), mode(fs.ModeDir|0o755))), err: vitplug.ErrNotRegular, entry: "files/x"},
		{name: "unix-file-mode-on-folder-name", zip: with(withHeader(zent{name: "files/x/"}, mode(0o644))), err: vitplug.ErrNotRegular, entry: "files/x/"},
		{name: "dos-folder-attribute-on-file-name", zip: with(withHeader(file("files/x", ""), func(fh *zip.FileHeader) { fh.CreatorVersion = 20; fh.ExternalAttrs = 0x10 })),
			err: vitplug.ErrNotRegular, entry: "files/x"},
		{name: "ntfs-reparse-point", zip: with(withHeader(file("files/x", "target"), func(fh *zip.FileHeader) { fh.CreatorVersion = 11<<8 | 20; fh.ExternalAttrs = 0x420 })),
			err: vitplug.ErrNotRegular, entry: "files/x"},
		{name: "unix-unknown-type", zip: with(withHeader(file("files/x", ""), func(fh *zip.FileHeader) { fh.ExternalAttrs = 0o160644 << 16 })),
			err: vitplug.ErrNotRegular, entry: "files/x"},

		// Compression and encryption.
		{name: "method-bzip2", zip: with(withHeader(file("files/x", "x"), func(fh *zip.FileHeader) { fh.Method = 12 })), err: vitplug.ErrCompression, entry: "files/x"},
		{name: "method-zstd-module", zip: entries(file("plugin.toml", minimalManifest), withHeader(zent{name: "hello.wasm", data: wasmHeader}, func(fh *zip.FileHeader) { fh.Method = 93 })),
			err: vitplug.ErrCompression, entry: "hello.wasm"},
		{name: "encrypted", zip: with(withHeader(file("files/x", "x"), func(fh *zip.FileHeader) { fh.Flags |= 1 })), err: vitplug.ErrEncrypted, entry: "files/x"},
		{name: "encrypted-aes", zip: with(withHeader(file("files/x", "x"), func(fh *zip.FileHeader) { fh.Flags |= 1; fh.Method = 99 })), err: vitplug.ErrEncrypted, entry: "files/x"},
		{name: "encrypted-strong", zip: with(withHeader(file("files/x", "x"), func(fh *zip.FileHeader) { fh.Flags |= 0x41 })), err: vitplug.ErrEncrypted, entry: "files/x"},
		{name: "encrypted-central-directory", zip: with(withHeader(file("files/x", "x"), func(fh *zip.FileHeader) { fh.Flags |= 0x2000 })), err: vitplug.ErrEncrypted, entry: "files/x"},

		// Sizes and limits.
		{name: "inflates-past-declared-size", zip: entries(file("plugin.toml", minimalManifest), withHeader(zent{name: "hello.wasm", data: wasmHeader}, func(fh *zip.FileHeader) { fh.UncompressedSize64 = 4 })),
			err: vitplug.ErrTooLarge, entry: "hello.wasm"},
		{name: "inflates-past-declared-size-zero", zip: with(withHeader(file("files/x", strings.Repeat("bomb", 1000)), func(fh *zip.FileHeader) { fh.UncompressedSize64 = 0 })),
			err: vitplug.ErrTooLarge, entry: "files/x"},
		{name: "limit-entries", zip: with(), lim: vitplug.Limits{MaxEntries: 2}, err: vitplug.ErrTooLarge, entry: "_vitte/CHECKSUMS"},
		{name: "limit-entries-default", zip: func(t testing.TB) []byte {
			es := make([]zent, vitplug.DefaultMaxEntries-2)
			for i := range es {
				es[i] = zent{name: "files/" + itoa(i)}
			}
			return validZip(t, es...)
		}, err: vitplug.ErrTooLarge, entry: "_vitte/CHECKSUMS", notVector: true},
		{name: "limit-size", zip: with(file("files/a", "0123456789")), lim: vitplug.Limits{MaxSize: int64(len(minimalManifest) + len(wasmHeader) + 5)},
			err: vitplug.ErrTooLarge, entry: "files/a"},
		{name: "limit-size-declared", zip: with(withHeader(zent{name: "files/a", data: []byte("x"), store: true}, func(fh *zip.FileHeader) {
			fh.UncompressedSize64, fh.CompressedSize64 = uint64(vitplug.DefaultMaxSize), uint64(vitplug.DefaultMaxSize)
		})), err: vitplug.ErrTooLarge, entry: "files/a"},
		{name: "manifest-too-large", zip: entries(zent{name: "plugin.toml", data: append([]byte(minimalManifest), bytes.Repeat([]byte("#"), 1<<20)...), store: true}),
			err: vitplug.ErrTooLarge, entry: "plugin.toml", notVector: true},
		{name: "signature-too-large", zip: with(zent{name: "_vitte/signatures/" + keyID1 + ".minisig", data: bytes.Repeat([]byte("s"), vitplug.MaxSignatureSize+1), store: true}),
			err: vitplug.ErrTooLarge, entry: "_vitte/signatures/" + keyID1 + ".minisig"},
		{name: "extra-fields-too-large", zip: with(withHeader(file("files/x", "x"), func(fh *zip.FileHeader) { fh.Extra = make([]byte, 5000) })),
			err: vitplug.ErrTooLarge, entry: "files/x"},

		// Compression ratio.
		{name: "ratio-bomb", zip: lazy(func() []zent { return []zent{{name: "files/bomb", data: zeros(50 << 20)}} }), err: vitplug.ErrRatio, entry: "files/bomb", notVector: true},
		{name: "ratio-small-bomb", zip: lazy(func() []zent { return []zent{{name: "files/bomb", data: zeros(2 << 20)}} }), err: vitplug.ErrRatio, entry: "files/bomb"},
		{name: "ratio-declared", zip: with(withHeader(file("files/x", strings.Repeat("x", 1000)), func(fh *zip.FileHeader) { fh.UncompressedSize64 = 64 << 20 })),
			err: vitplug.ErrRatio, entry: "files/x"},

		// plugin.toml.
		{name: "manifest-missing", zip: entries(zent{name: "hello.wasm", data: wasmHeader}, file("_vitte/CHECKSUMS", wasmLine)), err: vitplug.ErrManifest, entry: "plugin.toml"},
		{name: "manifest-not-first", zip: entries(zent{name: "hello.wasm", data: wasmHeader}, file("plugin.toml", minimalManifest), file("_vitte/CHECKSUMS", goodSums)),
			err: vitplug.ErrManifest, entry: "plugin.toml"},
		{name: "manifest-after-folder", zip: entries(zent{name: "files/"}, file("plugin.toml", minimalManifest), zent{name: "hello.wasm", data: wasmHeader}, file("_vitte/CHECKSUMS", goodSums)),
			err: vitplug.ErrManifest, entry: "plugin.toml"},
		{name: "manifest-not-first-in-data", zip: manifestNotFirstInData, err: vitplug.ErrManifest, entry: "plugin.toml"},
		{name: "manifest-invalid", zip: func(t testing.TB) []byte {
			m := strings.Replace(minimalManifest, `"hello"`, `"Hello"`, 1) + "unknown = 1\n"
			es := []zent{file("plugin.toml", m), {name: "hello.wasm", data: wasmHeader}}
			return buildZip(t, append(es, file("_vitte/CHECKSUMS", checksums(es)))...)
		}, err: vitplug.ErrManifest, entry: "plugin.toml"},
		{name: "manifest-folder", zip: entries(zent{name: "plugin.toml/"}, zent{name: "hello.wasm", data: wasmHeader}), err: vitplug.ErrManifest, entry: "plugin.toml"},

		// The module.
		{name: "module-missing", zip: func(t testing.TB) []byte {
			es := []zent{file("plugin.toml", strings.Replace(minimalManifest, "hello.wasm", "bin/other.wasm", 1)), {name: "hello.wasm", data: wasmHeader}}
			return buildZip(t, append(es, file("_vitte/CHECKSUMS", checksums(es)))...)
		}, err: vitplug.ErrModule, entry: "bin/other.wasm"},
		{name: "module-case", zip: func(t testing.TB) []byte {
			es := []zent{file("plugin.toml", minimalManifest), {name: "HELLO.wasm", data: wasmHeader}}
			return buildZip(t, append(es, file("_vitte/CHECKSUMS", checksums(es)))...)
		}, err: vitplug.ErrModule, entry: "hello.wasm"},
		{name: "module-folder", zip: entries(file("plugin.toml", minimalManifest), zent{name: "hello.wasm/"}, file("_vitte/CHECKSUMS", manifestLine)),
			err: vitplug.ErrModule, entry: "hello.wasm"},

		// _vitte/CHECKSUMS.
		{name: "checksums-missing", zip: entries(file("plugin.toml", minimalManifest), zent{name: "hello.wasm", data: wasmHeader}), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-file-missing", zip: withChecksums(line([]byte("x"), "files/gone") + goodSums), err: vitplug.ErrChecksums, entry: "files/gone"},
		{name: "checksums-file-not-listed", zip: withChecksums(goodSums, file("files/extra", "x")), err: vitplug.ErrChecksums, entry: "files/extra"},
		{name: "checksums-hash-differs", zip: withChecksums(line([]byte("other"), "hello.wasm") + manifestLine), err: vitplug.ErrChecksums, entry: "hello.wasm"},
		{name: "checksums-folder-listed", zip: withChecksums(line(nil, "files/a")+goodSums, zent{name: "files/a/"}), err: vitplug.ErrChecksums, entry: "files/a"},
		{name: "checksums-empty", zip: withChecksums(""), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-upper-case-hex", zip: withChecksums(strings.ToUpper(wasmLine[:64]) + wasmLine[64:] + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-bad-hex", zip: withChecksums("g" + wasmLine[1:] + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-short-hash", zip: withChecksums(wasmLine[2:] + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-one-space", zip: withChecksums(wasmLine[:65] + wasmLine[66:] + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-three-spaces", zip: withChecksums(wasmLine[:64] + " " + wasmLine[64:] + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-tab", zip: withChecksums(wasmLine[:64] + "\t" + wasmLine[66:] + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-star", zip: withChecksums(wasmLine[:65] + "*" + wasmLine[66:] + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-unsorted", zip: withChecksums(manifestLine + wasmLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-duplicate-line", zip: withChecksums(wasmLine + wasmLine + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-no-final-newline", zip: withChecksums(strings.TrimSuffix(goodSums, "\n")), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-crlf", zip: withChecksums(strings.ReplaceAll(goodSums, "\n", "\r\n")), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-blank-line", zip: withChecksums(wasmLine + "\n" + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-trailing-junk", zip: withChecksums(goodSums + "junk\n"), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-bom", zip: withChecksums("\ufeff" + goodSums), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-unsafe-path", zip: withChecksums(line(nil, "../x") + goodSums), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-dot-slash-path", zip: withChecksums(line(wasmHeader, "./hello.wasm") + manifestLine), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-lists-itself", zip: withChecksums(line(nil, "_vitte/CHECKSUMS") + goodSums), err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},
		{name: "checksums-lists-signature", zip: withChecksums(goodSums+line([]byte(sig1), "_vitte/signatures/"+keyID1+".minisig"), file("_vitte/signatures/"+keyID1+".minisig", sig1)),
			err: vitplug.ErrChecksums, entry: "_vitte/CHECKSUMS"},

		// _vitte/ is reserved.
		{name: "reserved-other-file", zip: with(file("_vitte/evil", "x")), err: vitplug.ErrReserved, entry: "_vitte/evil"},
		{name: "reserved-other-folder", zip: with(zent{name: "_vitte/other/"}), err: vitplug.ErrReserved, entry: "_vitte/other/"},
		{name: "reserved-upper-case", zip: with(file("_VITTE/CHECKSUMS", "x")), err: vitplug.ErrReserved, entry: "_VITTE/CHECKSUMS"},
		{name: "reserved-checksums-case", zip: with(file("_vitte/checksums", "x")), err: vitplug.ErrReserved, entry: "_vitte/checksums"},
		{name: "reserved-file", zip: with(file("_vitte", "x")), err: vitplug.ErrReserved, entry: "_vitte"},
		{name: "reserved-checksums-folder", zip: with(zent{name: "_vitte/CHECKSUMS/"}), err: vitplug.ErrReserved, entry: "_vitte/CHECKSUMS/"},
		{name: "reserved-key-id-lower-case", zip: with(file("_vitte/signatures/e7620f1842b4e81f.minisig", sig1)), err: vitplug.ErrReserved, entry: "_vitte/signatures/e7620f1842b4e81f.minisig"},
		{name: "reserved-key-id-short", zip: with(file("_vitte/signatures/E7620F18.minisig", sig1)), err: vitplug.ErrReserved, entry: "_vitte/signatures/E7620F18.minisig"},
		{name: "reserved-key-id-not-hex", zip: with(file("_vitte/signatures/E7620F1842B4E81G.minisig", sig1)), err: vitplug.ErrReserved, entry: "_vitte/signatures/E7620F1842B4E81G.minisig"},
		{name: "reserved-signature-extension", zip: with(file("_vitte/signatures/"+keyID1+".sig", sig1)), err: vitplug.ErrReserved, entry: "_vitte/signatures/" + keyID1 + ".sig"},
		{name: "reserved-signature-nested", zip: with(file("_vitte/signatures/x/"+keyID1+".minisig", sig1)), err: vitplug.ErrReserved, entry: "_vitte/signatures/x/" + keyID1 + ".minisig"},

		// The ZIP profile.
		{name: "zip-empty-file", zip: func(testing.TB) []byte { return nil }, err: vitplug.ErrCorrupt, archive: true},
		{name: "zip-not-a-zip", zip: func(testing.TB) []byte { return []byte(minimalManifest) }, err: vitplug.ErrCorrupt, archive: true},
		{name: "zip-no-entries", zip: entries(), err: vitplug.ErrManifest, entry: "plugin.toml"},
		{name: "zip-truncated", zip: func(t testing.TB) []byte { z := validZip(t); return z[:len(z)-30] }, err: vitplug.ErrCorrupt, archive: true},
		{name: "zip-data-after-end", zip: func(t testing.TB) []byte { return append(validZip(t), "junk"...) }, err: vitplug.ErrCorrupt, archive: true},
		{name: "zip-data-before-start", zip: func(t testing.TB) []byte { return append([]byte("#!/bin/sh\n"), validZip(t)...) }, err: vitplug.ErrCorrupt, archive: true},
		{name: "zip-zip64", zip: func(t testing.TB) []byte {
			return patchEnd(t, validZip(t), func(e []byte) { put16(e[8:], 0xffff); put16(e[10:], 0xffff) })
		}, err: vitplug.ErrCorrupt, archive: true},
		{name: "zip-zip64-sizes", zip: with(withHeader(file("files/x", "x"), func(fh *zip.FileHeader) {
			fh.CompressedSize64, fh.UncompressedSize64 = 1<<32, 1<<32
		})), err: vitplug.ErrCorrupt, entry: "files/x"},
		{name: "zip-multi-disk", zip: func(t testing.TB) []byte { return patchEnd(t, validZip(t), func(e []byte) { put16(e[4:], 1) }) }, err: vitplug.ErrCorrupt, archive: true},
		{name: "zip-entry-count-differs", zip: func(t testing.TB) []byte {
			return patchEnd(t, validZip(t), func(e []byte) { put16(e[8:], 2); put16(e[10:], 2) })
		}, err: vitplug.ErrCorrupt, archive: true},
		{name: "zip-local-name-differs", zip: func(t testing.TB) []byte {
			return patchLocal(t, validZip(t), "hello.wasm", func(h []byte) { copy(h[30:], "evil!.wasm") })
		}, err: vitplug.ErrCorrupt, entry: "hello.wasm"},
		{name: "zip-local-method-differs", zip: func(t testing.TB) []byte {
			return patchLocal(t, validZip(t), "hello.wasm", func(h []byte) { put16(h[8:], 0) })
		}, err: vitplug.ErrCorrupt, entry: "hello.wasm"},
		{name: "zip-local-encrypted", zip: func(t testing.TB) []byte {
			return patchLocal(t, validZip(t), "hello.wasm", func(h []byte) { h[6] |= 1 })
		}, err: vitplug.ErrCorrupt, entry: "hello.wasm"},
		{name: "zip-local-size-differs", zip: func(t testing.TB) []byte {
			return patchLocal(t, validZip(t), "hello.wasm", func(h []byte) { put32(h[22:], 1<<20) })
		}, err: vitplug.ErrCorrupt, entry: "hello.wasm"},
		{name: "zip-central-offset-wrong", zip: func(t testing.TB) []byte {
			return patchCentral(t, validZip(t), "hello.wasm", func(h []byte) { put32(h[42:], 0) })
		}, err: vitplug.ErrCorrupt, entry: "hello.wasm"},
		{name: "zip-overlap", zip: overlapping, err: vitplug.ErrCorrupt, entry: "files/inner"},
		{name: "zip-hidden-data", zip: with(zent{name: "files/x", data: []byte("x"), header: func(fh *zip.FileHeader) { fh.CompressedSize64 -= 4 }, body: append(deflateOf("x"), "GAP!"...)}),
			err: vitplug.ErrCorrupt, entry: "_vitte/CHECKSUMS"},
		{name: "zip-descriptor-differs", zip: func(t testing.TB) []byte {
			z := foreignWriter(t)
			i := bytes.Index(z, []byte("PK\x07\x08"))
			require.GreaterOrEqual(t, i, 0)
			z[i+4] ^= 1
			return z
		}, err: vitplug.ErrCorrupt, entry: "plugin.toml"},
		{name: "zip-crc-mismatch", zip: with(withHeader(file("files/x", "x"), func(fh *zip.FileHeader) { fh.CRC32++ })), err: vitplug.ErrCorrupt, entry: "files/x"},
		{name: "zip-stored-sizes-differ", zip: with(zent{name: "files/x", data: []byte("xx"), store: true, header: func(fh *zip.FileHeader) { fh.UncompressedSize64 = 1 }}),
			err: vitplug.ErrCorrupt, entry: "files/x"},
		{name: "zip-inflates-short", zip: with(withHeader(file("files/x", "xyz"), func(fh *zip.FileHeader) { fh.UncompressedSize64 = 100 })), err: vitplug.ErrCorrupt, entry: "files/x"},
		{name: "zip-bad-deflate", zip: with(zent{name: "files/x", data: []byte("x"), body: []byte{0xff, 0xff, 0xff}}), err: vitplug.ErrCorrupt, entry: "files/x"},
		{name: "zip-deflate-trailing-data", zip: with(zent{name: "files/x", data: []byte("x"), body: append(deflateOf("x"), "junk"...)}), err: vitplug.ErrCorrupt, entry: "files/x"},
		{name: "zip-folder-with-data", zip: func(t testing.TB) []byte {
			z := validZip(t, zent{name: "files_", data: []byte("data"), store: true, header: mode(fs.ModeDir | 0o755)})
			z = patchLocal(t, z, "files_", func(h []byte) { copy(h[30:], "files/") })
			return patchCentral(t, z, "files_", func(h []byte) { copy(h[46:], "files/") })
		}, err: vitplug.ErrCorrupt, entry: "files/"},
	}
}

func deflateOf(s string) []byte { return deflate(nil, []byte(s)) }

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// foreignWriter writes a valid package the way a general ZIP writer would:
// archive/zip's streaming Create, with data descriptors, folder entries,
// extended timestamps, and files in no particular order after plugin.toml.
func foreignWriter(t testing.TB) []byte {
	es := pkgEntries(file("files/b.txt", "b\n"), file("files/a.txt", "a\n"))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, e := range es {
		if i == 2 {
			_, err := zw.Create("files/")
			require.NoError(t, err)
		}
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
		w, err := zw.CreateHeader(fh)
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// manifestNotFirstInData lists plugin.toml first in the central directory
// but writes its data second.
func manifestNotFirstInData(t testing.TB) []byte {
	es := pkgEntries()
	es[0], es[1] = es[1], es[0]
	z := buildZip(t, es...)
	// Swap the first two central directory records.
	a := headerAt(t, z, 0x02014b50, 46, "hello.wasm")
	b := headerAt(t, z, 0x02014b50, 46, "plugin.toml")
	require.Less(t, a, b)
	la, lb := 46+len("hello.wasm"), 46+len("plugin.toml")
	out := bytes.Clone(z[:a])
	out = append(out, z[b:b+lb]...)
	out = append(out, z[a:a+la]...)
	return append(out, z[b+lb:]...)
}

// overlapping writes a stored entry whose data holds the whole of another
// entry, local header included, and lists both.
func overlapping(t testing.TB) []byte {
	inner := buildZip(t, zent{name: "files/inner", data: []byte("inner"), store: true})
	innerLocal := inner[:30+len("files/inner")+len("inner")]
	z := validZip(t, zent{name: "files/outer", data: innerLocal, store: true}, zent{name: "files/inner", data: []byte("inner"), store: true})
	outer := headerAt(t, z, 0x04034b50, 30, "files/outer")
	return patchCentral(t, z, "files/inner", func(h []byte) { put32(h[42:], uint32(outer+30+len("files/outer"))) })
}
