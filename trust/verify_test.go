package trust_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// keys of the verify tests: alice and bob trusted, carol known but only
// for another scope, dave revoked, erin expired, frank not yet valid,
// mallory unknown.
type fixture struct {
	alice, bob, carol, dave, erin, frank, mallory testKey
}

func newFixture(t *testing.T) fixture {
	return fixture{newKey(t), newKey(t), newKey(t), newKey(t), newKey(t), newKey(t), newKey(t)}
}

// policy returns a trust.toml naming the fixture's keys, with rules.
func (f fixture) policy(rules string) string {
	return fmt.Sprintf(`[keys.alice]
minisign = %q
[keys.bob]
minisign = %q
[keys.carol]
minisign = %q
[keys.dave]
minisign = %q
revoked = true
[keys.erin]
minisign = %q
not_after = 2026-01-01
[keys.frank]
minisign = %q
not_before = 2026-06-01T00:00:00Z
`, f.alice.pub.String(), f.bob.pub.String(), f.carol.pub.String(), f.dave.pub.String(), f.erin.pub.String(), f.frank.pub.String()) + rules
}

const (
	srcFile  = "file:///srv/plugins/hello-c-0.1.0.vitplug"
	oneOf    = "[[policy]]\nscopes = [\"file:///srv/plugins/*\"]\nkeys = [\"alice\", \"bob\", \"dave\", \"erin\", \"frank\"]\n"
	twoOf    = "[[policy]]\nscopes = [\"file:///srv/plugins/*\"]\nkeys = [\"alice\", \"bob\"]\nthreshold = 2\n"
	carolFor = "[[policy]]\nscopes = [\"oci://registry.example/carol/*\"]\nkeys = [\"carol\"]\n"
)

func TestVerify(t *testing.T) {
	f := newFixture(t)
	base := hello(t)
	other := helloVariant(t, map[string]string{"files/extra.txt": "another package\n"})
	renamed := helloVariant(t, map[string]string{"plugin.toml": strings.Replace(readFile(t, helloC+"/plugin.toml"), `"hello-c"`, `"hello-x"`, 1)})
	require.Equal(t, "hello-x", renamed.Manifest().Plugin.Name)

	legacy := minisign.SignWithComments(f.alice.priv, base.Checksums(), trust.Statement{Name: "hello-c", Version: "0.1.0", ContentID: base.ContentID(), Time: now}.String(), "legacy")

	withSig := func(p *vitplug.Package, id string, sig []byte) *vitplug.Package {
		q, err := p.WithSignature(id, sig)
		require.NoError(t, err)
		return q
	}
	tests := []struct {
		name     string
		pkg      *vitplug.Package
		detached [][]byte
		policy   string // "" for no trust file
		source   string
		unsigned bool     // WithInsecureAllowUnsigned
		errs     []error  // sentinels the error wraps; none: passes
		checks   []string // lines expected among the checks, as Check.String prints them, prefixes
		insecure bool
	}{
		{
			name: "signed by a trusted key", pkg: f.alice.embed(t, base), policy: f.policy(oneOf), source: srcFile,
			checks: []string{"ok   integrity: ", "ok   signature by alice (" + f.alice.pub.String()[:12] + "…): hello-c 0.1.0, signed 2026-03-01T11:00:00Z", "ok   threshold: 1 of 1 distinct trusted keys required: alice"},
		},
		{
			name: "detached signature", pkg: base, detached: [][]byte{f.alice.sign(t, base)}, policy: f.policy(oneOf), source: srcFile,
			checks: []string{"ok   detached signature by alice"},
		},
		{
			name: "two of two", pkg: f.bob.embed(t, f.alice.embed(t, base)), policy: f.policy(twoOf), source: srcFile,
			checks: []string{"ok   threshold: 2 of 2 distinct trusted keys required: alice, bob"},
		},
		{
			name: "unsigned", pkg: base, policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrUnsigned}, checks: []string{"FAIL signed: unsigned package: the package has no signature"},
		},
		{
			name: "unsigned without trust file", pkg: base, source: srcFile,
			errs: []error{trust.ErrUnsigned},
		},
		{
			name: "unsigned without trust file, override", pkg: base, source: srcFile, unsigned: true, insecure: true,
			checks: []string{"warn signed: unsigned package: the package has no signature, embedded or detached (ignored)"},
		},
		{
			name: "signed without trust file", pkg: f.alice.embed(t, base), source: srcFile,
			errs: []error{trust.ErrUntrusted, trust.ErrThreshold}, checks: []string{"FAIL signature by unknown key " + f.alice.id() + ": untrusted key: no trust file: no key is trusted"},
		},
		{
			name: "signed without trust file, override", pkg: f.alice.embed(t, base), source: srcFile, unsigned: true, insecure: true,
			checks: []string{"warn signature by unknown key " + f.alice.id() + ": untrusted key: no trust file: no key is trusted (ignored)", "warn threshold"},
		},
		{
			name: "untrusted key", pkg: f.mallory.embed(t, base), policy: f.policy(oneOf), source: srcFile,
			errs:   []error{trust.ErrUntrusted, trust.ErrThreshold},
			checks: []string{"FAIL signature by unknown key " + f.mallory.id() + ": untrusted key: key " + f.mallory.id() + " is not in trust.toml", "FAIL threshold: not enough trusted signatures: 0 of 1"},
		},
		{
			name: "key known but not trusted for this scope", pkg: f.carol.embed(t, base), policy: f.policy(oneOf + carolFor), source: srcFile,
			errs:   []error{trust.ErrUntrusted, trust.ErrThreshold},
			checks: []string{"FAIL signature by carol (" + f.carol.pub.String()[:12] + "…): untrusted key: carol is not in the keys of policy[0] (scope \"file:///srv/plugins/*\", level strict, 1 of alice, bob, dave, erin, frank)"},
		},
		{
			name: "key trusted elsewhere, no scope matches", pkg: f.carol.embed(t, base), policy: f.policy(carolFor), source: srcFile,
			errs:   []error{trust.ErrUntrusted, trust.ErrThreshold},
			checks: []string{"FAIL signature by carol (" + f.carol.pub.String()[:12] + "…): untrusted key: carol is not trusted for this package: no policy covers it"},
		},
		{
			name: "signature moved from another package", pkg: withSig(base, f.alice.id(), f.alice.sign(t, other)), policy: f.policy(oneOf), source: srcFile,
			errs:   []error{trust.ErrMismatch, trust.ErrThreshold},
			checks: []string{"FAIL signature by alice (" + f.alice.pub.String()[:12] + "…): signature for another package: it was made for hello-c 0.1.0 (content " + other.ContentID() + "), not for this package"},
		},
		{
			name: "file changed after signing, repacked with the signature", pkg: withSig(other, f.alice.id(), f.alice.sign(t, base)), policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrMismatch, trust.ErrThreshold},
		},
		{
			name: "manifest name differs from the signed name", pkg: withSig(renamed, f.alice.id(), f.alice.signComment(t, renamed, trust.Statement{Name: "hello-c", Version: "0.1.0", ContentID: renamed.ContentID(), Time: now}.String())),
			policy: f.policy(oneOf), source: srcFile,
			errs:   []error{trust.ErrMismatch, trust.ErrThreshold},
			checks: []string{`FAIL signature by alice (` + f.alice.pub.String()[:12] + `…): signature for another package: the signature is for name "hello-c", the manifest says "hello-x"`},
		},
		{
			name: "signed version differs", pkg: withSig(base, f.alice.id(), f.alice.signComment(t, base, trust.Statement{Name: "hello-c", Version: "0.2.0", ContentID: base.ContentID(), Time: now}.String())),
			policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrMismatch, trust.ErrThreshold}, checks: []string{`version "0.2.0", the manifest says "0.1.0"`},
		},
		{
			name: "trusted comment not a statement", pkg: withSig(base, f.alice.id(), f.alice.signComment(t, base, "timestamp:1767225600")),
			policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrMismatch, trust.ErrThreshold}, checks: []string{`is not a vitte-plugin v1 statement`},
		},
		{
			name: "revoked key", pkg: f.dave.embed(t, base), policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrRevoked, trust.ErrThreshold}, checks: []string{"FAIL signature by dave (" + f.dave.pub.String()[:12] + "…): revoked key: dave is revoked in trust.toml"},
		},
		{
			name: "expired key", pkg: f.erin.embed(t, base), policy: f.policy(oneOf), source: srcFile,
			errs:   []error{trust.ErrExpired, trust.ErrThreshold},
			checks: []string{"FAIL signature by erin (" + f.erin.pub.String()[:12] + "…): key not valid at this time: now is 2026-03-01T12:00:00Z, at or after the key's not_after 2026-01-01T00:00:00Z"},
		},
		{
			name: "key not yet valid", pkg: f.frank.embed(t, base), policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrExpired, trust.ErrThreshold}, checks: []string{"now is 2026-03-01T12:00:00Z, before the key's not_before 2026-06-01T00:00:00Z"},
		},
		{
			name: "threshold not met by two signatures of the same key", pkg: f.alice.embed(t, base), detached: [][]byte{f.alice.sign(t, base)}, policy: f.policy(twoOf), source: srcFile,
			errs:   []error{trust.ErrThreshold},
			checks: []string{"ok   detached signature by alice (" + f.alice.pub.String()[:12] + "…): hello-c 0.1.0, signed 2026-03-01T11:00:00Z (same key as another signature: counted once)", "FAIL threshold: not enough trusted signatures: 1 of 2 distinct trusted keys required (alice)"},
		},
		{
			name: "tampered signature", pkg: withSig(base, f.alice.id(), bytes.Replace(f.alice.sign(t, base), []byte("ts="), []byte("ts=1"), 1)), policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrBadSignature, trust.ErrThreshold}, checks: []string{"does not verify"},
		},
		{
			name: "legacy signature", pkg: base, detached: [][]byte{legacy}, policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrBadSignature, trust.ErrThreshold}, checks: []string{"FAIL detached signature by unknown key " + f.alice.id() + ": bad signature: legacy minisign signature (Ed): only the prehashed variant (ED) is accepted"},
		},
		{
			name: "signature filed under another key id", pkg: withSig(base, f.bob.id(), f.alice.sign(t, base)), policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrBadSignature, trust.ErrThreshold}, checks: []string{"filed as _vitte/signatures/" + f.bob.id() + ".minisig but made by key " + f.alice.id()},
		},
		{
			name: "garbage signature", pkg: withSig(base, f.bob.id(), []byte("not a signature")), policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrBadSignature, trust.ErrThreshold}, checks: []string{"FAIL signature _vitte/signatures/" + f.bob.id() + ".minisig: bad signature: not a minisign signature"},
		},
		{
			name: "huge detached signature", pkg: base, detached: [][]byte{make([]byte, vitplug.MaxSignatureSize+1)}, policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrBadSignature, trust.ErrThreshold},
		},
		{
			name: "strict: an extra untrusted signature fails", pkg: f.mallory.embed(t, f.alice.embed(t, base)), policy: f.policy(oneOf), source: srcFile,
			errs: []error{trust.ErrUntrusted},
		},
		{
			name: "permissive: an extra untrusted signature is ignored", pkg: f.mallory.embed(t, f.alice.embed(t, base)), policy: f.policy(strings.Replace(oneOf, "keys", "level = \"permissive\"\nkeys", 1)), source: srcFile,
			checks: []string{"warn signature by unknown key " + f.mallory.id() + ": untrusted key: key " + f.mallory.id() + " is not in trust.toml (ignored)", "ok   threshold"},
		},
		{
			name: "permissive: a bad extra signature is ignored", pkg: f.alice.embed(t, base), detached: [][]byte{f.bob.sign(t, other)}, policy: f.policy(strings.Replace(oneOf, "keys", "level = \"permissive\"\nkeys", 1)), source: srcFile,
			checks: []string{"warn detached signature by bob"},
		},
		{
			name: "permissive: a revoked key fails", pkg: f.dave.embed(t, f.alice.embed(t, base)), policy: f.policy(strings.Replace(oneOf, "keys", "level = \"permissive\"\nkeys", 1)), source: srcFile,
			errs: []error{trust.ErrRevoked},
		},
		{
			name: "permissive: threshold counts", pkg: f.mallory.embed(t, base), policy: f.policy(strings.Replace(oneOf, "keys", "level = \"permissive\"\nkeys", 1)), source: srcFile,
			errs: []error{trust.ErrThreshold},
		},
		{
			name: "audit: never fails, reports", pkg: f.dave.embed(t, base), detached: [][]byte{f.mallory.sign(t, base)}, policy: f.policy(strings.Replace(oneOf, "keys", "level = \"audit\"\nkeys", 1)), source: srcFile,
			checks: []string{"warn signature by dave", "warn detached signature by unknown key", "warn threshold"},
		},
		{
			name: "skip: nothing checked", pkg: f.mallory.embed(t, base), policy: f.policy(strings.Replace(oneOf, "keys", "level = \"skip\"\nkeys", 1)), source: srcFile,
			checks: []string{"ok   integrity", "ok   signatures: not checked: level skip"},
		},
		{
			name: "override: untrusted signature and threshold ignored", pkg: f.mallory.embed(t, base), policy: f.policy(oneOf), source: srcFile, unsigned: true, insecure: true,
			checks: []string{"warn signature by unknown key", "warn threshold"},
		},
		{
			name: "override: a bad signature still fails", pkg: withSig(base, f.alice.id(), f.alice.sign(t, other)), policy: f.policy(oneOf), source: srcFile, unsigned: true,
			errs: []error{trust.ErrMismatch}, checks: []string{"warn threshold"},
		},
		{
			name: "override: a revoked key still fails", pkg: f.dave.embed(t, base), policy: f.policy(oneOf), source: srcFile, unsigned: true,
			errs: []error{trust.ErrRevoked},
		},
		{
			name: "name scope", pkg: f.carol.embed(t, base), policy: f.policy("[[policy]]\nscopes = [\"name:hello-*\"]\nkeys = [\"carol\"]\n"), source: srcFile,
			checks: []string{"ok   signature by carol"},
		},
		{
			name: "location scope wins over name scope", pkg: f.carol.embed(t, base), policy: f.policy(oneOf + "[[policy]]\nscopes = [\"name:hello-c\"]\nkeys = [\"carol\"]\n"), source: srcFile,
			errs: []error{trust.ErrUntrusted, trust.ErrThreshold},
		},
		{
			name: "unknown source: name scope", pkg: f.carol.embed(t, base), policy: f.policy(oneOf + "[[policy]]\nscopes = [\"name:hello-c\"]\nkeys = [\"carol\"]\n"), source: "",
			checks: []string{"ok   signature by carol"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pol *trust.Policy
			if tc.policy != "" {
				pol = parse(t, tc.policy)
			}
			if tc.unsigned {
				pol = pol.WithInsecureAllowUnsigned()
			}
			v, err := trust.Verify(tc.pkg, tc.source, tc.detached, pol, now)
			require.NotNil(t, v)
			var lines []string
			for _, c := range v.Checks {
				lines = append(lines, c.String())
			}
			all := strings.Join(lines, "\n")
			for _, want := range tc.checks {
				require.Contains(t, all, want)
			}
			require.Equal(t, tc.insecure, v.Insecure, all)
			if len(tc.errs) == 0 {
				require.NoError(t, err, all)
				require.True(t, v.OK())
				return
			}
			require.Error(t, err, all)
			require.False(t, v.OK())
			for _, s := range tc.errs {
				require.ErrorIs(t, err, s)
			}
			var ve *trust.VerifyError
			require.True(t, errors.As(err, &ve))
			require.Equal(t, tc.pkg.Manifest().Plugin.Name, ve.Name)
			require.Len(t, ve.Problems, len(tc.errs), all)
			require.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("verify %s %s from %s: ", ve.Name, ve.Version, tc.source)), err.Error())
		})
	}
}

func TestVerify_Verdict(t *testing.T) {
	f := newFixture(t)
	p := f.bob.embed(t, f.alice.embed(t, hello(t)))
	pol := parse(t, f.policy(twoOf+"[policy.max_capabilities]\nnet = [\"api.example.com\"]\n"))
	v, err := trust.Verify(p, srcFile, nil, pol, now)
	require.NoError(t, err)
	require.Equal(t, "hello-c", v.Name)
	require.Equal(t, "0.1.0", v.Version)
	require.Equal(t, p.ContentID(), v.ContentID)
	require.Equal(t, 0, v.RuleIndex)
	require.Equal(t, "file:///srv/plugins/*", v.Scope)
	require.Equal(t, `policy[0] (scope "file:///srv/plugins/*", level strict, 2 of alice, bob)`, v.Policy())
	require.Len(t, v.Signers, 2)
	require.Equal(t, "alice", v.Signers[0].Key.Name)
	require.Equal(t, "bob", v.Signers[1].Key.Name)
	require.Equal(t, now.Add(-time.Hour), v.Signers[0].Statement.Time)
	require.Equal(t, []string{"api.example.com"}, v.MaxCapabilities().Net)
	require.Empty(t, v.Problems())
	v.MaxCapabilities().Net[0] = "changed"
	require.Equal(t, []string{"api.example.com"}, v.MaxCapabilities().Net)
}

func TestVerify_Errors(t *testing.T) {
	p := hello(t)
	_, err := trust.Verify(nil, "", nil, nil, now)
	require.ErrorContains(t, err, "nil package")
	for _, src := range []string{"file://relative/x.vitplug", "file:///srv/plugins/../../tmp/x.vitplug", "file:///srv//x", "https://example.com/x", "oci://", "file:///a b", "file:///a\x00"} {
		v, err := trust.Verify(p, src, nil, nil, now)
		require.Nil(t, v, src)
		require.ErrorContains(t, err, "verify: source", src)
	}
}

// A changed file makes the package fail to open: Verify never sees it.
func TestVerify_changedFile(t *testing.T) {
	f := newFixture(t)
	p := f.alice.embed(t, hello(t))
	var b bytes.Buffer
	_, err := p.WriteTo(&b)
	require.NoError(t, err)
	z := b.Bytes()
	// plugin.toml is stored first and deflated or not: change a byte of a
	// stored entry's data, or of the compressed stream, and Open refuses.
	i := bytes.Index(z, []byte("hello-c.wasm"))
	require.Positive(t, i)
	z[i+len("hello-c.wasm")+40] ^= 1
	_, err = vitplug.Open(bytes.NewReader(z), int64(len(z)), vitplug.Limits{})
	require.Error(t, err)
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}
