package vitplug

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Reserved names of package-v1.md.
const (
	// ManifestName is the name of the manifest entry, the first of every
	// package.
	ManifestName = "plugin.toml"
	// ChecksumsName is the name of the content index, the signed payload.
	ChecksumsName = "_vitte/CHECKSUMS"
	// SignaturesDir is the folder of embedded signatures, each named
	// <KEYID>.minisig.
	SignaturesDir = "_vitte/signatures/"
	// FilesDir is the folder of extra files, read-only to the guest, that
	// Pack takes from the plugin folder.
	FilesDir = "files/"

	reservedDir    = "_vitte/"
	signatureExt   = ".minisig"
	keyIDLen       = 16
	reservedDetail = "only CHECKSUMS and signatures/<KEYID>.minisig may be under _vitte/"
)

// checkName checks an entry name against the entry-name policy (see "Entry
// names" in the package documentation). A folder's name ends in "/". It
// returns why the name is refused, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return "empty name"
	case len(name) > MaxNameLength:
		return fmt.Sprintf("name longer than %d bytes", MaxNameLength)
	case name[0] == '/':
		return "absolute path"
	case len(name) >= 2 && name[1] == ':' && isLetter(name[0]):
		return "drive letter"
	case strings.IndexByte(name, '\\') >= 0:
		return "backslash in name"
	}
	for seg := range strings.SplitSeq(strings.TrimSuffix(name, "/"), "/") {
		switch seg {
		case "":
			return "empty path segment"
		case ".":
			return `"." segment`
		case "..":
			return `".." segment`
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if c >= utf8.RuneSelf {
				return "non-ASCII name"
			}
			if !isNameChar(c) {
				return fmt.Sprintf("character %q not allowed", c)
			}
		}
		if seg[len(seg)-1] == '.' {
			return fmt.Sprintf("segment %q ends with a dot", seg)
		}
		if isWindowsDevice(seg) {
			return fmt.Sprintf("segment %q is a device name on Windows", seg)
		}
	}
	return ""
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isNameChar reports whether c may appear in a segment of an entry name.
func isNameChar(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || strings.IndexByte("._-+@", c) >= 0
}

// isWindowsDevice reports whether seg, up to its first dot, is a device name
// that Windows would open instead of a file (CON, NUL.txt, com1.wasm...).
func isWindowsDevice(seg string) bool {
	base, _, _ := strings.Cut(seg, ".")
	switch len(base) {
	case 3:
		for _, d := range []string{"CON", "PRN", "AUX", "NUL"} {
			if strings.EqualFold(base, d) {
				return true
			}
		}
	case 4:
		prefix := base[:3]
		return (strings.EqualFold(prefix, "COM") || strings.EqualFold(prefix, "LPT")) && '0' <= base[3] && base[3] <= '9'
	}
	return false
}

// isKeyID reports whether s is a minisign key id as this format writes it
// in file names: the 8-byte id as 16 upper-case hexadecimal digits.
func isKeyID(s string) bool {
	if len(s) != keyIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// entryKind is the role of an entry.
type entryKind int

const (
	kindContent   entryKind = iota // a file listed in CHECKSUMS
	kindFolder                     // a folder entry, content or reserved
	kindChecksums                  // _vitte/CHECKSUMS
	kindSignature                  // _vitte/signatures/<KEYID>.minisig
)

// classify returns the role of an entry whose name passed checkName, or why
// a name under _vitte/ is refused. For a signature, it also returns the key
// id.
func classify(name string) (kind entryKind, keyID, refused string) {
	isDir := strings.HasSuffix(name, "/")
	folded := strings.ToLower(name)
	if folded != "_vitte" && !strings.HasPrefix(folded, reservedDir) {
		if isDir {
			return kindFolder, "", ""
		}
		return kindContent, "", ""
	}
	switch {
	case name == reservedDir || name == SignaturesDir:
		return kindFolder, "", ""
	case name == ChecksumsName:
		return kindChecksums, "", ""
	case !isDir && strings.HasPrefix(name, SignaturesDir) && strings.HasSuffix(name, signatureExt):
		id := strings.TrimSuffix(strings.TrimPrefix(name, SignaturesDir), signatureExt)
		if !isKeyID(id) {
			return 0, "", fmt.Sprintf("signature key id %s is not %d upper-case hexadecimal digits", quote(id), keyIDLen)
		}
		return kindSignature, id, ""
	}
	return 0, "", reservedDetail
}

// nameSet finds names that collide once folded to lower case, and names
// used both as a file and as a folder. Names must have passed checkName, so
// they are ASCII and folding is exact.
type nameSet struct {
	files map[string]string // folded file name → name
	dirs  map[string]string // folded folder name, without "/" → a name that made it a folder
	named map[string]string // folded folder name, without "/" → its own entry
}

func newNameSet() *nameSet {
	return &nameSet{files: map[string]string{}, dirs: map[string]string{}, named: map[string]string{}}
}

// add records name, a file, or a folder when it ends in "/". It returns why
// the name collides with one added before, or "".
func (s *nameSet) add(name string) string {
	isDir := strings.HasSuffix(name, "/")
	key := strings.ToLower(strings.TrimSuffix(name, "/"))
	if prev, ok := s.files[key]; ok {
		if isDir {
			return fmt.Sprintf("a folder, but %s is a file", quote(prev))
		}
		return sameAs(name, prev)
	}
	if isDir {
		if prev, ok := s.named[key]; ok {
			return sameAs(name, prev)
		}
	} else if prev, ok := s.dirs[key]; ok {
		return fmt.Sprintf("a file, but %s makes it a folder", quote(prev))
	}
	for i := len(key) - 1; i > 0; i-- {
		if key[i] != '/' {
			continue
		}
		parent := key[:i]
		if prev, ok := s.files[parent]; ok {
			return fmt.Sprintf("inside %s, which is a file", quote(prev))
		}
		if _, ok := s.dirs[parent]; ok {
			break // its own parents were recorded with it
		}
		s.dirs[parent] = name
	}
	if isDir {
		if _, ok := s.dirs[key]; !ok {
			s.dirs[key] = name
		}
		s.named[key] = name
	} else {
		s.files[key] = name
	}
	return ""
}

func sameAs(name, prev string) string {
	if name == prev {
		return "appears twice"
	}
	return fmt.Sprintf("same name as %s once case is folded", quote(prev))
}
