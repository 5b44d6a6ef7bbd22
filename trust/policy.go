package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"aead.dev/minisign"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// FileName is the name of the trust policy file.
const FileName = "trust.toml"

// MaxFileSize is the size of the largest trust.toml [Parse] accepts.
const MaxFileSize = 1 << 20

// Level says what a problem found by [Verify] does to a package. See
// docs/trust.md, "Levels".
type Level string

// The levels of a policy.
const (
	// Strict fails a package on any problem: every signature must be by a
	// trusted key, valid and for this package, and the threshold must be
	// met. The default.
	Strict Level = "strict"
	// Permissive fails a package when the threshold is not met or a
	// signature is by a revoked key; other bad signatures are reported and
	// ignored (they count for nothing).
	Permissive Level = "permissive"
	// Audit never fails a package; problems are reported as if the level
	// were strict.
	Audit Level = "audit"
	// Skip checks no signature. Integrity is still checked when the package
	// is opened.
	Skip Level = "skip"
)

var levels = []Level{Strict, Permissive, Audit, Skip}

func (l Level) valid() bool { return slices.Contains(levels, l) }

// Key is a named minisign public key of trust.toml, a [keys.<name>] table.
type Key struct {
	// Name is the key's name in trust.toml: letters, digits, "_" and "-",
	// starting with a letter or digit, at most 64 bytes.
	Name string
	// PublicKey is the minisign public key.
	PublicKey minisign.PublicKey
	// NotBefore and NotAfter bound when the key is trusted: from NotBefore,
	// included, to NotAfter, excluded. A zero time is no bound.
	NotBefore, NotAfter time.Time
	// Revoked marks a key that must not be trusted any more: a package it
	// signed fails, at every level but audit and skip.
	Revoked bool
}

// ID returns the key id, as [KeyID] writes it.
func (k Key) ID() string { return KeyID(k.PublicKey.ID()) }

// Short returns the public key cut to its first 12 characters and "…",
// enough to recognise it in a list.
func (k Key) Short() string { return shortKey(k.PublicKey) }

func shortKey(pub minisign.PublicKey) string { return pub.String()[:12] + "…" }

// checkTime returns an error wrapping [ErrExpired] if t is outside the
// key's period.
func (k Key) checkTime(what string, t time.Time) error {
	if !k.NotBefore.IsZero() && t.Before(k.NotBefore) {
		return fmt.Errorf("%w: %s is %s, before the key's not_before %s", ErrExpired, what, t.UTC().Format(time.RFC3339), k.NotBefore.UTC().Format(time.RFC3339))
	}
	if !k.NotAfter.IsZero() && !t.Before(k.NotAfter) {
		return fmt.Errorf("%w: %s is %s, at or after the key's not_after %s", ErrExpired, what, t.UTC().Format(time.RFC3339), k.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// Rule is a [[policy]] of trust.toml: which keys are trusted for the
// packages its scopes cover, how many must sign, and at which level.
type Rule struct {
	// Scopes are the sources the rule covers: "oci://registry.example/vitte/*",
	// "file:///srv/plugins/*", "name:acme-*", or "*" for every package. A
	// "*" may only end a pattern, and stands for any rest, "/" included.
	Scopes []string
	// Level is what a problem does to a package. Default [Strict].
	Level Level
	// Keys names the trusted keys, defined in [keys].
	Keys []string
	// Threshold is how many distinct trusted keys must have signed.
	// Default 1.
	Threshold int
	// MaxCapabilities, when not nil, caps what plugins under this rule may
	// be granted, whatever they request and the user grants. It has the
	// shape of plugin.toml's [capabilities].
	MaxCapabilities *manifest.Capabilities
}

func (r Rule) clone() Rule {
	r.Scopes = slices.Clone(r.Scopes)
	r.Keys = slices.Clone(r.Keys)
	if r.MaxCapabilities != nil {
		c := cloneCaps(*r.MaxCapabilities)
		r.MaxCapabilities = &c
	}
	return r
}

func cloneCaps(c manifest.Capabilities) manifest.Capabilities {
	return manifest.Capabilities{FS: slices.Clone(c.FS), Net: slices.Clone(c.Net), Host: slices.Clone(c.Host), Env: slices.Clone(c.Env)}
}

// defaultRule applies to a package no scope covers, and to every package
// when there is no trust file: strict, no trusted key. Only an unsigned
// package let through by [Policy.WithInsecureAllowUnsigned] passes it.
var defaultRule = Rule{Level: Strict, Threshold: 1}

// Policy is a parsed and valid trust.toml: named keys, and rules that say
// which keys are trusted for which packages. Get one from [Parse] or
// [LoadFile]; the nil *Policy is the policy of a missing trust file, which
// trusts nothing.
//
// A Policy never changes: the With methods return a changed copy. It is
// safe for concurrent use.
type Policy struct {
	file  string
	keys  []Key // sorted by name
	rules []Rule
	// allowUnsigned is --insecure-allow-unsigned.
	allowUnsigned bool
	// none marks the policy of a missing trust file, as the nil *Policy,
	// once WithInsecureAllowUnsigned made it not nil.
	none bool
}

func (p *Policy) clone() *Policy {
	q := &Policy{none: p == nil}
	if p != nil {
		q.file, q.allowUnsigned, q.none = p.file, p.allowUnsigned, p.none
		q.keys = slices.Clone(p.keys)
		for _, r := range p.rules {
			q.rules = append(q.rules, r.clone())
		}
	}
	return q
}

// File returns the file name the policy was parsed from, or "" for the nil
// policy.
func (p *Policy) File() string {
	if p == nil {
		return ""
	}
	return p.file
}

// Keys returns the keys, sorted by name.
func (p *Policy) Keys() []Key {
	if p == nil {
		return nil
	}
	return slices.Clone(p.keys)
}

// Key returns the key named name.
func (p *Policy) Key(name string) (Key, bool) {
	if p == nil {
		return Key{}, false
	}
	i, ok := slices.BinarySearchFunc(p.keys, name, func(k Key, n string) int { return strings.Compare(k.Name, n) })
	if !ok {
		return Key{}, false
	}
	return p.keys[i], true
}

// keyByID returns the key whose id is id.
func (p *Policy) keyByID(id uint64) (Key, bool) {
	if p == nil {
		return Key{}, false
	}
	for _, k := range p.keys {
		if k.PublicKey.ID() == id {
			return k, true
		}
	}
	return Key{}, false
}

// Rules returns copies of the rules, in file order.
func (p *Policy) Rules() []Rule {
	if p == nil {
		return nil
	}
	out := make([]Rule, len(p.rules))
	for i, r := range p.rules {
		out[i] = r.clone()
	}
	return out
}

// InsecureAllowUnsigned reports whether [Policy.WithInsecureAllowUnsigned]
// made p.
func (p *Policy) InsecureAllowUnsigned() bool { return p != nil && p.allowUnsigned }

// WithInsecureAllowUnsigned returns a copy of p under which [Verify] does
// not require signatures: the threshold becomes 0, and an unsigned package,
// or one signed only by keys the rule does not trust, passes. Signatures
// that are present are still checked: a bad one, one for another package or
// one by a revoked or expired key fails the package at levels strict and
// permissive as before. It works on the nil policy too.
//
// # Warning
//
// It is the command line's --insecure-allow-unsigned: anyone who can
// change the package can then change what it does. Tell the user, loudly.
func (p *Policy) WithInsecureAllowUnsigned() *Policy {
	q := p.clone()
	q.allowUnsigned = true
	return q
}

// Match returns the rule that applies to a package from source named
// name, and its index among [Policy.Rules], or the default rule (strict,
// no trusted key, threshold 1) and -1 when no scope covers it, and the
// scope that matched ("" for the default).
//
// The most specific scope wins. A location scope (file:, oci:) that covers
// source wins over a name: scope that covers name, which wins over "*":
// where the user got a package says more than what the package calls
// itself. Among scopes of one kind, an exact pattern wins over one ending
// with "*", then the longer literal prefix wins. No two rules may share a
// scope, so the winner is unique.
func (p *Policy) Match(source, name string) (rule Rule, index int, scope string) {
	if p == nil {
		return defaultRule.clone(), -1, ""
	}
	best, bestRank := -1, scopeRank{}
	for i, r := range p.rules {
		for _, s := range r.Scopes {
			sc, err := parseScope(s)
			if err != nil {
				continue // cannot happen: parsed before
			}
			if !sc.matches(source, name) {
				continue
			}
			if rk := sc.rank(); best < 0 || rk.better(bestRank) {
				best, bestRank, scope = i, rk, s
			}
		}
	}
	if best < 0 {
		return defaultRule.clone(), -1, ""
	}
	return p.rules[best].clone(), best, scope
}

// scopeKind orders the kinds of scope, the most specific last.
type scopeKind uint8

const (
	scopeAny      scopeKind = iota // "*"
	scopeName                      // name:...
	scopeLocation                  // file://..., oci://...
)

// scope is a parsed scope pattern.
type scope struct {
	kind    scopeKind
	literal string // the pattern without its final "*"
	prefix  bool   // the pattern ends with "*"
}

type scopeRank struct {
	kind  scopeKind
	exact bool
	n     int
}

func (a scopeRank) better(b scopeRank) bool {
	if a.kind != b.kind {
		return a.kind > b.kind
	}
	if a.exact != b.exact {
		return a.exact
	}
	return a.n > b.n
}

func (s scope) rank() scopeRank {
	return scopeRank{kind: s.kind, exact: !s.prefix, n: len(s.literal)}
}

func (s scope) matches(source, name string) bool {
	var subject string
	switch s.kind {
	case scopeAny:
		return true
	case scopeName:
		if name == "" {
			return false
		}
		subject = "name:" + name
	default:
		subject = source
	}
	if s.prefix {
		return strings.HasPrefix(subject, s.literal)
	}
	return subject == s.literal
}

// parseScope checks a scope pattern. See [Rule.Scopes].
func parseScope(pat string) (scope, error) {
	if pat == "*" {
		return scope{kind: scopeAny, prefix: true}, nil
	}
	if !utf8.ValidString(pat) {
		return scope{}, errors.New("invalid UTF-8")
	}
	if len(pat) > 4096 {
		return scope{}, errors.New("longer than 4096 bytes")
	}
	for _, r := range pat {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return scope{}, fmt.Errorf("%s: spaces and control characters are not allowed", quote(pat))
		}
	}
	lit, prefix := strings.CutSuffix(pat, "*")
	if strings.Contains(lit, "*") {
		return scope{}, fmt.Errorf("%s: \"*\" may only end a pattern", quote(pat))
	}
	s := scope{literal: lit, prefix: prefix}
	switch {
	case strings.HasPrefix(pat, "name:"):
		s.kind = scopeName
		n := strings.TrimPrefix(lit, "name:")
		for i := 0; i < len(n); i++ {
			c := n[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') || i == 0 && !('a' <= c && c <= 'z') {
				return scope{}, fmt.Errorf("%s: a plugin name starts with a-z and has only a-z, 0-9 and \"-\"", quote(pat))
			}
		}
		if n == "" && !prefix {
			return scope{}, fmt.Errorf("%s: empty name", quote(pat))
		}
	case strings.HasPrefix(pat, "file://"):
		s.kind = scopeLocation
		p := strings.TrimPrefix(lit, "file://")
		if p == "" && prefix {
			break // file://*: every file
		}
		if !strings.HasPrefix(p, "/") {
			return scope{}, fmt.Errorf("%s: want file:// and an absolute path, like file:///srv/plugins/*", quote(pat))
		}
		// The literal part must be a clean path, so that it means what it
		// says: sources are clean paths too.
		segs := strings.Split(p[1:], "/")
		for i, seg := range segs {
			last := i == len(segs)-1
			if seg == "." || seg == ".." || seg == "" && !last {
				return scope{}, fmt.Errorf("%s: the path is not clean (\".\", \"..\" or \"//\")", quote(pat))
			}
		}
	case strings.HasPrefix(pat, "oci://"):
		s.kind = scopeLocation
		if strings.TrimPrefix(lit, "oci://") == "" && !prefix {
			return scope{}, fmt.Errorf("%s: empty reference", quote(pat))
		}
	default:
		return scope{}, fmt.Errorf("%s: want oci://..., file:///..., name:... or \"*\"", quote(pat))
	}
	return s, nil
}

// checkSource checks a source given to Verify and returns it as matched:
// "file://" and an absolute clean path, "oci://" and a reference, or "" for
// a package of unknown origin.
func checkSource(source string) error {
	switch {
	case source == "":
		return nil
	case strings.HasPrefix(source, "file://"):
		p := strings.TrimPrefix(source, "file://")
		if !strings.HasPrefix(p, "/") || cleanSlash(p) != p {
			return fmt.Errorf("source %s: want file:// and an absolute, clean path", quote(source))
		}
	case strings.HasPrefix(source, "oci://"):
		if len(source) == len("oci://") {
			return fmt.Errorf("source %s: empty reference", quote(source))
		}
	default:
		return fmt.Errorf("source %s: want file:///..., oci://... or \"\"", quote(source))
	}
	for _, r := range source {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError {
			return fmt.Errorf("source %s: spaces, control characters and invalid UTF-8 are not allowed", quote(source))
		}
	}
	return nil
}

// cleanSlash is path.Clean for the slash-separated path p.
func cleanSlash(p string) string {
	segs := strings.Split(p, "/")
	var out []string
	for _, s := range segs[1:] {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// checkKeyName accepts key names that are bare TOML keys.
func checkKeyName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("key name %s: want 1 to 64 letters, digits, \"_\" or \"-\"", quote(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-') {
			return fmt.Errorf("key name %s: want 1 to 64 letters, digits, \"_\" or \"-\", starting with a letter or digit", quote(name))
		}
	}
	return nil
}

// DefaultPath returns the user's trust file:
// $XDG_CONFIG_HOME/vitte/trust.toml on Linux, as [os.UserConfigDir] says on
// other systems.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("trust file: %w", err)
	}
	return filepath.Join(dir, "vitte", FileName), nil
}

// LoadFile reads and parses the trust file at path. A missing file is an
// error wrapping [fs.ErrNotExist]: whether that means "no policy" is the
// caller's choice.
func LoadFile(path string) (*Policy, error) {
	data, err := boundedfile.Read(path, MaxFileSize)
	var tooLarge *boundedfile.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return nil, fileTooLarge(path, tooLarge.Size)
	case err != nil:
		return nil, fmt.Errorf("read trust policy: %w", err)
	}
	return Parse(path, data)
}

// WriteFile writes p to path as [Policy.Marshal] does, atomically: through
// a temporary file in the same folder, then renamed, so that path is always
// a whole, valid trust file. It creates the folder (mode 0700) if needed.
// An existing file keeps its mode; a new one gets 0644.
func WriteFile(path string, p *Policy) error {
	data := p.Marshal()
	if _, err := Parse(path, data); err != nil {
		return fmt.Errorf("write trust policy %s: %w", path, err) // a bug: Marshal wrote something Parse refuses
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write trust policy: %w", err)
	}
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	if err := writeFileAtomic(path, data, perm, true); err != nil {
		return fmt.Errorf("write trust policy: %w", err)
	}
	return nil
}

// WithKey returns a copy of p with the key pub named name, trusted for
// scopes: each scope already in a rule gets the key added to that rule;
// the other scopes get one new rule, at level (default [Strict]), with
// threshold 1. No scopes means "*". A level that is not empty also becomes
// the level of the existing rules the key is added to.
//
// Adding a key that is there under the same name is not an error: the key
// is only added to the rules. The same public key under another name, or
// another key under the same name, is.
func (p *Policy) WithKey(name string, pub minisign.PublicKey, scopes []string, level Level) (*Policy, error) {
	if err := checkKeyName(name); err != nil {
		return nil, fmt.Errorf("add key: %w", err)
	}
	if level != "" && !level.valid() {
		return nil, fmt.Errorf("add key %s: unknown level %s: want strict, permissive, audit or skip", name, quote(string(level)))
	}
	if pub.Equal(minisign.PublicKey{}) {
		return nil, fmt.Errorf("add key %s: zero public key", name)
	}
	q := p.clone()
	if k, ok := q.Key(name); ok && !k.PublicKey.Equal(pub) {
		return nil, fmt.Errorf("add key %s: a different key is already named %s (%s): remove it first", name, name, k.Short())
	}
	for _, k := range q.keys {
		if k.Name != name && k.PublicKey.ID() == pub.ID() {
			return nil, fmt.Errorf("add key %s: the key %s is already in the trust file as %s", name, shortKey(pub), k.Name)
		}
	}
	if _, ok := q.Key(name); !ok {
		q.keys = append(q.keys, Key{Name: name, PublicKey: pub})
		sort.Slice(q.keys, func(i, j int) bool { return q.keys[i].Name < q.keys[j].Name })
	}
	if len(scopes) == 0 {
		scopes = []string{"*"}
	}
	var fresh []string
	for _, s := range scopes {
		if _, err := parseScope(s); err != nil {
			return nil, fmt.Errorf("add key %s: scope %w", name, err)
		}
		found := false
		for i := range q.rules {
			r := &q.rules[i]
			if !slices.Contains(r.Scopes, s) {
				continue
			}
			found = true
			if !slices.Contains(r.Keys, name) {
				r.Keys = append(r.Keys, name)
			}
			if level != "" {
				r.Level = level
			}
		}
		if !found && !slices.Contains(fresh, s) {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) > 0 {
		l := level
		if l == "" {
			l = Strict
		}
		q.rules = append(q.rules, Rule{Scopes: fresh, Level: l, Keys: []string{name}, Threshold: 1})
	}
	return q.revalidate("add key " + name)
}

// WithoutKey returns a copy of p without the key named name. The key leaves
// every rule; a strict or permissive rule left with no key goes too, so
// that its scopes fall back to a less specific rule or the default, which
// trusts nothing. A rule whose threshold would be more than its remaining
// keys is an error: lower the threshold in the file, or mark the key
// revoked = true instead.
//
// To distrust a key that signed packages in the wild, revoke it rather than
// remove it: a package signed by an unknown key is only untrusted, one
// signed by a revoked key fails even under a permissive rule.
func (p *Policy) WithoutKey(name string) (*Policy, error) {
	if _, ok := p.Key(name); !ok {
		return nil, fmt.Errorf("remove key %s: no key named %s in the trust file: %w", name, name, fs.ErrNotExist)
	}
	q := p.clone()
	q.keys = slices.DeleteFunc(q.keys, func(k Key) bool { return k.Name == name })
	var rules []Rule
	for i, r := range q.rules {
		if !slices.Contains(r.Keys, name) {
			rules = append(rules, r)
			continue
		}
		r.Keys = slices.DeleteFunc(r.Keys, func(k string) bool { return k == name })
		if len(r.Keys) == 0 && (r.Level == Strict || r.Level == Permissive) {
			continue
		}
		if len(r.Keys) > 0 && r.Threshold > len(r.Keys) {
			return nil, fmt.Errorf("remove key %s: policy[%d] needs %d distinct keys and would have %d left: lower its threshold first, or revoke the key (revoked = true)",
				name, i, r.Threshold, len(r.Keys))
		}
		if len(r.Keys) == 0 {
			r.Threshold = 1
		}
		rules = append(rules, r)
	}
	q.rules = rules
	return q.revalidate("remove key " + name)
}

// revalidate checks q as Parse would check the file Marshal writes.
func (q *Policy) revalidate(what string) (*Policy, error) {
	r, err := Parse(q.file, q.Marshal())
	if err != nil {
		return nil, fmt.Errorf("%s: the result would not be valid: %w", what, err)
	}
	r.allowUnsigned = q.allowUnsigned
	return r, nil
}

// Marshal returns p as a trust.toml, in a canonical form: keys sorted by
// name, then the rules in order. Comments of the file p was parsed from
// are not kept. [Parse] reads it back to the same policy.
func (p *Policy) Marshal() []byte {
	var b strings.Builder
	b.WriteString("# Trust policy for vitte plugin packages: see docs/trust.md.\n")
	b.WriteString("# Written by 'vitte plugin trust': comments are not kept.\n")
	for _, k := range p.Keys() {
		fmt.Fprintf(&b, "\n[keys.%s]\nminisign = %s\n", k.Name, tomlString(k.PublicKey.String()))
		if !k.NotBefore.IsZero() {
			fmt.Fprintf(&b, "not_before = %s\n", k.NotBefore.UTC().Format(time.RFC3339Nano))
		}
		if !k.NotAfter.IsZero() {
			fmt.Fprintf(&b, "not_after = %s\n", k.NotAfter.UTC().Format(time.RFC3339Nano))
		}
		if k.Revoked {
			b.WriteString("revoked = true\n")
		}
	}
	for _, r := range p.Rules() {
		fmt.Fprintf(&b, "\n[[policy]]\nscopes = %s\nlevel = %s\nkeys = %s\nthreshold = %d\n",
			tomlStrings(r.Scopes), tomlString(string(r.Level)), tomlStrings(r.Keys), r.Threshold)
		if c := r.MaxCapabilities; c != nil {
			b.WriteString("\n[policy.max_capabilities]\n")
			if len(c.FS) > 0 {
				b.WriteString("fs = [")
				for i, f := range c.FS {
					if i > 0 {
						b.WriteString(", ")
					}
					fmt.Fprintf(&b, "{ path = %s, mode = %s }", tomlString(f.Path), tomlString(string(f.Mode)))
				}
				b.WriteString("]\n")
			}
			for _, l := range []struct {
				key  string
				list []string
			}{{"net", c.Net}, {"host", c.Host}, {"env", c.Env}} {
				if len(l.list) > 0 {
					fmt.Fprintf(&b, "%s = %s\n", l.key, tomlStrings(l.list))
				}
			}
		}
	}
	return []byte(b.String())
}

// tomlString writes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func tomlStrings(l []string) string {
	parts := make([]string, len(l))
	for i, s := range l {
		parts[i] = tomlString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// String returns the level's name.
func (l Level) String() string { return string(l) }

// formatThreshold writes "2 of alice, bob".
func formatThreshold(r Rule) string {
	if len(r.Keys) == 0 {
		return "no key"
	}
	return strconv.Itoa(r.Threshold) + " of " + strings.Join(r.Keys, ", ")
}
