package vitplug

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
)

// checksumLen is the length of a SHA-256 digest in hexadecimal.
const checksumLen = 2 * sha256.Size

// buildChecksums returns the CHECKSUMS of files, keyed by path: one line per
// file, "<sha256 hex>  <path>\n", sorted by path. It is the summary that
// golang.org/x/mod/sumdb/dirhash.Hash1 hashes.
func buildChecksums(files map[string][]byte) []byte {
	var b bytes.Buffer
	for _, name := range sortedKeys(files) {
		sum := sha256.Sum256(files[name])
		b.WriteString(hex.EncodeToString(sum[:]))
		b.WriteString("  ")
		b.WriteString(name)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ContentID returns the content id of a package whose _vitte/CHECKSUMS
// holds checksums: "h1:" followed by the standard base64 encoding, padded,
// of the SHA-256 of those bytes. It is what
// golang.org/x/mod/sumdb/dirhash.Hash1 returns for the same files.
func ContentID(checksums []byte) string {
	sum := sha256.Sum256(checksums)
	return "h1:" + base64.StdEncoding.EncodeToString(sum[:])
}

// checksumLine is one parsed line of CHECKSUMS.
type checksumLine struct {
	path string
	sum  [sha256.Size]byte
}

// parseChecksums reads CHECKSUMS strictly: every line is exactly
// "<64 lower-case hex digits><two spaces><path>\n", the path a content file
// name under the entry-name policy, and the paths sorted, each once.
func parseChecksums(data []byte) ([]checksumLine, error) {
	bad := func(line int, format string, args ...any) error {
		return entryErr(ChecksumsName, ErrChecksums, "line %d: %s", line, fmt.Sprintf(format, args...))
	}
	if len(data) == 0 {
		return nil, entryErr(ChecksumsName, ErrChecksums, "empty")
	}
	if data[len(data)-1] != '\n' {
		return nil, entryErr(ChecksumsName, ErrChecksums, "last line does not end in a newline")
	}
	var lines []checksumLine
	for n, rest := 1, data; len(rest) > 0; n++ {
		i := bytes.IndexByte(rest, '\n')
		line := rest[:i]
		rest = rest[i+1:]
		if len(line) < checksumLen+2 {
			return nil, bad(n, "too short")
		}
		var l checksumLine
		for _, c := range line[:checksumLen] {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return nil, bad(n, "hash is not %d lower-case hexadecimal digits", checksumLen)
			}
		}
		hex.Decode(l.sum[:], line[:checksumLen])
		if string(line[checksumLen:checksumLen+2]) != "  " {
			return nil, bad(n, "hash not followed by two spaces")
		}
		l.path = string(line[checksumLen+2:])
		if why := checkName(l.path); why != "" {
			return nil, bad(n, "path %s: %s", quote(l.path), why)
		}
		if kind, _, _ := classify(l.path); kind != kindContent {
			return nil, bad(n, "path %s: not a content file", quote(l.path))
		}
		if len(lines) > 0 && l.path <= lines[len(lines)-1].path {
			return nil, bad(n, "path %s is not after %s: paths must be sorted, each once", quote(l.path), quote(lines[len(lines)-1].path))
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// matchChecksums checks that lines list exactly the content files, with
// their digests. The first difference in path order is reported, naming the
// file concerned.
func matchChecksums(lines []checksumLine, files map[string][]byte) error {
	names := sortedKeys(files)
	i, j := 0, 0
	for i < len(lines) || j < len(names) {
		switch {
		case j == len(names) || i < len(lines) && lines[i].path < names[j]:
			return entryErr(lines[i].path, ErrChecksums, "listed in %s but not in the package", ChecksumsName)
		case i == len(lines) || names[j] < lines[i].path:
			return entryErr(names[j], ErrChecksums, "not listed in %s", ChecksumsName)
		}
		if sha256.Sum256(files[names[j]]) != lines[i].sum {
			return entryErr(names[j], ErrChecksums, "SHA-256 differs from %s", ChecksumsName)
		}
		i++
		j++
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
