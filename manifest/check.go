package manifest

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"
)

// The checks of single values, shared by Parse and Manifest.Validate. Each
// returns an error whose text is the message of a Problem.

// Longest accepted strings, in bytes.
const (
	maxNameLen        = 64
	maxVersionLen     = 256
	maxPathLen        = 1024
	maxTextLen        = 4096 // description
	maxShortTextLen   = 256  // author, host pattern, env name, config key, export name
	maxURLLen         = 2048
	maxLicenseLen     = 1024
	maxConfigValueLen = 64 << 10
	maxConstraintLen  = 256
)

const wasmPage = 64 * KiB

// checkText checks that s is valid UTF-8 of at most max bytes, without
// control characters (but tabs and newlines if multiline) nor the
// bidirectional controls that make text display differently from what it is.
func checkText(s string, max int, multiline bool) error {
	if len(s) > max {
		return fmt.Errorf("too long (%d bytes, at most %d)", len(s), max)
	}
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case (r == '\t' || r == '\n') && multiline:
		case r < 0x20, r == 0x7f, 0x80 <= r && r < 0xa0:
			return fmt.Errorf("must not contain control character %U", r)
		case 0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return fmt.Errorf("must not contain bidirectional control character %U", r)
		}
	}
	return nil
}

// checkName checks a plugin name: ^[a-z][a-z0-9-]{0,63}$.
func checkName(s string) error {
	ok := s != "" && len(s) <= maxNameLen && 'a' <= s[0] && s[0] <= 'z'
	for i := 1; ok && i < len(s); i++ {
		c := s[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("invalid plugin name %s: want a lower-case letter, then up to 63 lower-case letters, digits or '-'", quote(s))
	}
	return nil
}

func checkVersion(s string) error {
	if len(s) <= maxVersionLen {
		if _, err := semver.StrictNewVersion(s); err == nil {
			return nil
		}
	}
	return fmt.Errorf("invalid version %s: want a semantic version 2.0.0 like \"1.2.3\" or \"1.0.0-rc.1\"", quote(s))
}

func checkKind(k Kind) error {
	if !k.valid() {
		return fmt.Errorf("unknown kind %s: want wasm, c, go, rust, vitte or python", quote(string(k)))
	}
	return nil
}

// checkModule checks the module path, and its extension if k is valid.
func checkModule(s string, k Kind) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if err := checkText(s, maxPathLen, false); err != nil {
		return err
	}
	if strings.Contains(s, `\`) {
		return fmt.Errorf("invalid path %s: use '/' as the separator, not '\\'", quote(s))
	}
	if s[0] == '/' {
		return fmt.Errorf("invalid path %s: must be relative to the plugin folder, without a leading '/'", quote(s))
	}
	if len(s) >= 2 && s[1] == ':' && ('a' <= s[0]|0x20 && s[0]|0x20 <= 'z') {
		return fmt.Errorf("invalid path %s: must be relative to the plugin folder, not a drive path", quote(s))
	}
	for _, seg := range strings.Split(s, "/") {
		switch seg {
		case "..":
			return fmt.Errorf("invalid path %s: \"..\" would leave the plugin folder", quote(s))
		case ".", "":
			return fmt.Errorf("invalid path %s: must be clean, without \".\" or empty segments", quote(s))
		}
	}
	switch {
	case k == KindPython && !strings.HasSuffix(s, ".py"):
		return fmt.Errorf("invalid path %s: the entry script of a python plugin must end in \".py\"", quote(s))
	case k.valid() && k != KindPython && !strings.HasSuffix(s, ".wasm"):
		return fmt.Errorf("invalid path %s: the module of a %s plugin must end in \".wasm\"", quote(s), k)
	}
	return nil
}

func checkAuthor(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("must not be empty")
	}
	return checkText(s, maxShortTextLen, false)
}

func checkHomepage(s string) error {
	if err := checkText(s, maxURLLen, false); err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" || strings.ContainsAny(s, " \t") {
		return fmt.Errorf("invalid URL %s: want an absolute http or https URL", quote(s))
	}
	if u.User != nil {
		return fmt.Errorf("invalid URL %s: must not contain a user name or password", quote(s))
	}
	return nil
}

func checkABI(s string) error {
	if s != ABI {
		return fmt.Errorf("unsupported ABI %s: only ABI major version 1 is supported", quote(s))
	}
	return nil
}

// checkGuestPath checks the path of an fs request.
func checkGuestPath(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if err := checkText(s, maxPathLen, false); err != nil {
		return err
	}
	if strings.Contains(s, `\`) {
		return fmt.Errorf("invalid guest path %s: use '/' as the separator, not '\\'", quote(s))
	}
	if s[0] != '/' {
		return fmt.Errorf("invalid guest path %s: must be absolute, like \"/data\"", quote(s))
	}
	if c := path.Clean(s); c != s {
		return fmt.Errorf("invalid guest path %s: must be clean: want %s", quote(s), quote(c))
	}
	if s == "/" {
		return errors.New(`a plugin cannot ask for the whole guest root "/": name a directory, like "/data"`)
	}
	return nil
}

func checkMode(m Mode) error {
	if m != ReadOnly && m != ReadWrite {
		return fmt.Errorf("invalid mode %s: want \"ro\" or \"rw\"", quote(string(m)))
	}
	return nil
}

// CheckHostPattern checks a host-call name pattern, as [capabilities].host
// and host-call grants are written: dotted lower-case segments of
// [a-z0-9_-], the last of which may be "*" (but not "*" alone).
func CheckHostPattern(s string) error { return checkHostPattern(s) }

// CheckHostCallName checks the name of a host call, as an application
// registers it and a plugin calls it: a host-call pattern without "*".
func CheckHostCallName(s string) error {
	if strings.Contains(s, "*") {
		return fmt.Errorf("invalid host-call name %s: \"*\" is for patterns, not names", quote(s))
	}
	if err := checkHostPattern(s); err != nil {
		if msg := err.Error(); strings.Contains(msg, "host-call pattern") {
			return errors.New(strings.Replace(msg, "host-call pattern", "host-call name", 1))
		}
		return fmt.Errorf("invalid host-call name %s: %w", quote(s), err)
	}
	return nil
}

// CheckEnvName checks the name of an environment variable, as
// [capabilities].env and env grants are written: [A-Za-z_][A-Za-z0-9_]*.
func CheckEnvName(s string) error { return checkEnvName(s) }

// checkHostPattern checks a host-call name pattern: dotted lower-case
// segments of [a-z0-9_-], the last of which may be "*".
func checkHostPattern(s string) error {
	if s == "" {
		return errors.New("empty host-call pattern")
	}
	if err := checkText(s, maxShortTextLen, false); err != nil {
		return err
	}
	if s == "*" {
		return errors.New(`"*" would allow every host call: name them, or a namespace like "studio.*"`)
	}
	segs := strings.Split(s, ".")
	for i, seg := range segs {
		if seg == "*" {
			if i != len(segs)-1 {
				return fmt.Errorf("invalid host-call pattern %s: \"*\" may only be the last segment", quote(s))
			}
			continue
		}
		if seg == "" {
			return fmt.Errorf("invalid host-call pattern %s: empty segment", quote(s))
		}
		for j := 0; j < len(seg); j++ {
			c := seg[j]
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '-':
			case 'A' <= c && c <= 'Z':
				return fmt.Errorf("invalid host-call pattern %s: must be lower-case", quote(s))
			case c == '*':
				return fmt.Errorf("invalid host-call pattern %s: \"*\" must be a whole segment, and the last one", quote(s))
			default:
				return fmt.Errorf("invalid host-call pattern %s: segments hold only a-z, 0-9, '_' and '-'", quote(s))
			}
		}
	}
	return nil
}

// checkEnvName checks an environment variable name: [A-Za-z_][A-Za-z0-9_]*.
func checkEnvName(s string) error {
	ok := s != "" && len(s) <= maxShortTextLen && (s[0] < '0' || s[0] > '9')
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
	}
	if !ok {
		return fmt.Errorf("invalid environment variable name %s: want letters, digits and '_', not starting with a digit", quote(s))
	}
	return nil
}

func checkNet(s string) error {
	_, err := ParseNetPattern(s)
	return err
}

func checkMemory(s Size) error {
	switch {
	case s < wasmPage:
		return fmt.Errorf("%s is less than 64KiB (one wasm page)", s)
	case s%wasmPage != 0:
		return fmt.Errorf("%s is not a whole number of 64KiB wasm pages", s)
	case s > 4*GiB:
		return fmt.Errorf("%s is more than 4GiB (the wasm32 address space)", s)
	}
	return nil
}

func checkOutput(s Size) error {
	if s == 0 {
		return errors.New("must be at least 1B")
	}
	return nil
}

func checkConfigKey(s string) error {
	if s == "" {
		return errors.New("empty key")
	}
	return checkText(s, maxShortTextLen, false)
}

func checkConfigValue(s string) error {
	return checkText(s, maxConfigValueLen, true)
}

// parseConstraint parses the version constraint of a dependency.
func parseConstraint(s string) (*semver.Constraints, error) {
	if s == "" {
		return nil, errors.New(`empty version constraint: write "*" to accept any version`)
	}
	if len(s) <= maxConstraintLen {
		if c, err := semver.NewConstraint(s); err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("invalid version constraint %s: want a semver constraint like \"^1.2.0\" or \">=1.0.0, <2.0.0\"", quote(s))
}

// checkExportName checks a handler name of [exports.<name>].
func checkExportName(s string) error {
	if s == "" {
		return errors.New("empty export name")
	}
	if err := checkText(s, maxShortTextLen, false); err != nil {
		return err
	}
	switch {
	case s == "on-load", s == "on-unload":
		return fmt.Errorf("%s is a lifecycle hook, not a handler", quote(s))
	case s == "memory", strings.HasPrefix(s, "cabi_"), strings.HasPrefix(s, "_"):
		return fmt.Errorf("%s is reserved for the module's internals, not a handler", quote(s))
	}
	return nil
}
