package oci

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Scheme is the prefix of every reference: "oci://".
const Scheme = "oci://"

// maxNameLen is the distribution spec's limit on REGISTRY/REPOSITORY.
const maxNameLen = 255

// Reference names a repository, and optionally one version of a plugin in
// it, in a registry:
//
//	oci://REGISTRY/REPOSITORY[:TAG][@sha256:HEX]
//
// REGISTRY is a host name or address with an optional port ("ghcr.io",
// "127.0.0.1:5000", "[::1]:5000"). REPOSITORY is one or more
// '/'-separated components of lower-case letters and digits, separated by
// ".", "_", "__" or dashes. TAG, for a plugin, is the package's version. A
// digest pins the manifest: when there is one, it is what is fetched, and a
// tag given with it is checked against the manifest's version.
type Reference struct {
	Registry   string // host[:port], as written
	Repository string // path in the registry
	Tag        string // "" when absent
	Digest     string // "sha256:<64 hex>", "" when absent
}

// ParseReference parses s, which must start with "oci://". Errors wrap
// [ErrReference] and say what is wrong where.
func ParseReference(s string) (Reference, error) {
	fail := func(format string, a ...any) (Reference, error) {
		return Reference{}, fmt.Errorf("%w %s: %s", ErrReference, quote(s), fmt.Sprintf(format, a...))
	}
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return fail("want %sREGISTRY/REPOSITORY[:VERSION|@sha256:DIGEST]", Scheme)
	}
	var r Reference
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.Digest = rest[i+1:]
		rest = rest[:i]
		if err := checkDigest(r.Digest); err != nil {
			return fail("digest: %v", err)
		}
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return fail("no repository after the registry")
	}
	r.Registry, rest = rest[:slash], rest[slash+1:]
	if err := checkRegistry(r.Registry); err != nil {
		return fail("registry %s: %v", quote(r.Registry), err)
	}
	// A tag follows the last ':' of the path part (the registry's port is
	// before the first '/').
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		r.Tag = rest[i+1:]
		rest = rest[:i]
		if err := checkTag(r.Tag); err != nil {
			return fail("tag %s: %v", quote(r.Tag), err)
		}
	}
	r.Repository = rest
	if err := checkRepository(r.Repository); err != nil {
		return fail("repository %s: %v", quote(r.Repository), err)
	}
	if n := len(r.Registry) + 1 + len(r.Repository); n > maxNameLen {
		return fail("REGISTRY/REPOSITORY is %d bytes long, more than %d", n, maxNameLen)
	}
	return r, nil
}

// String returns the reference as ParseReference reads it.
func (r Reference) String() string {
	s := Scheme + r.Registry + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Repo returns the reference without tag and digest.
func (r Reference) Repo() Reference {
	return Reference{Registry: r.Registry, Repository: r.Repository}
}

// WithTag returns r with the tag tag and no digest.
func (r Reference) WithTag(tag string) Reference {
	return Reference{Registry: r.Registry, Repository: r.Repository, Tag: tag}
}

// WithDigest returns r with the digest d (keeping the tag).
func (r Reference) WithDigest(d string) Reference {
	r.Digest = d
	return r
}

// orasRepo is the repository in oras-go's syntax: REGISTRY/REPOSITORY.
func (r Reference) orasRepo() string { return r.Registry + "/" + r.Repository }

// target is the tag or digest to resolve: the digest when there is one.
func (r Reference) target() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Tag
}

// IsLoopback reports whether the registry is on this machine: localhost, or
// a loopback address (127.0.0.0/8, ::1). Plain HTTP is used for these only,
// unless [Options.PlainHTTP].
func (r Reference) IsLoopback() bool {
	host := r.Registry
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func checkDigest(d string) error {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok {
		return fmt.Errorf("want sha256:<64 lower-case hex digits>")
	}
	if len(hex) != 64 {
		return fmt.Errorf("want 64 hex digits after sha256:, got %d bytes", len(hex))
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("want lower-case hex digits after sha256:")
		}
	}
	return nil
}

// checkRegistry checks host[:port]: a DNS name, an IPv4 address or a
// bracketed IPv6 address, and a decimal port 1-65535.
func checkRegistry(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return fmt.Errorf("unclosed '['")
		}
		host, port = s[1:end], s[end+1:]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return fmt.Errorf("want an IPv6 address between '[' and ']'")
		}
		if port != "" {
			p, ok := strings.CutPrefix(port, ":")
			if !ok {
				return fmt.Errorf("want ':' and a port after ']'")
			}
			port = p
			if err := checkPort(port); err != nil {
				return err
			}
		}
		return nil
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if err := checkPort(port); err != nil {
			return err
		}
	}
	if len(host) > 253 {
		return fmt.Errorf("host name longer than 253 bytes")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("want a host name of dot-separated labels of 1 to 63 letters, digits or '-'")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			case c == '-' && i > 0 && i < len(label)-1:
			default:
				return fmt.Errorf("want a host name of dot-separated labels of 1 to 63 letters, digits or '-' (not first or last)")
			}
		}
	}
	return nil
}

func checkPort(p string) error {
	if p == "" || len(p) > 5 {
		return fmt.Errorf("want a port of 1 to 5 digits")
	}
	n := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return fmt.Errorf("want a port of 1 to 5 digits")
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 || n > 65535 {
		return fmt.Errorf("port %d out of range 1-65535", n)
	}
	return nil
}

// checkRepository checks the distribution spec's path grammar:
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
func checkRepository(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	for _, comp := range strings.Split(s, "/") {
		if comp == "" {
			return fmt.Errorf("empty path component")
		}
		if !isAlnum(comp[0]) || !isAlnum(comp[len(comp)-1]) {
			return fmt.Errorf("component %s: want it to start and end with a-z or 0-9", quote(comp))
		}
		for i := 0; i < len(comp); {
			c := comp[i]
			if isAlnum(c) {
				i++
				continue
			}
			// A separator: ".", "_", "__" or one or more "-".
			j := i
			for j < len(comp) && !isAlnum(comp[j]) {
				j++
			}
			sep := comp[i:j]
			if sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
				return fmt.Errorf("component %s: want only a-z, 0-9 and the separators '.', '_', '__', '-'", quote(comp))
			}
			i = j
		}
	}
	return nil
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// checkTag checks the distribution spec's tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func checkTag(t string) error {
	if t == "" {
		return fmt.Errorf("empty")
	}
	if len(t) > 128 {
		return fmt.Errorf("longer than 128 bytes")
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || i > 0 && (c == '.' || c == '-')
		if !ok {
			return fmt.Errorf("want letters, digits, '_', '.' and '-' (not first)")
		}
	}
	return nil
}

// quote quotes untrusted text for an error message, cut when long.
func quote(s string) string {
	const max = 200
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
