package trust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"aead.dev/minisign"

	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// Verdict is what [Verify] found: every check with its result, the keys
// whose signatures count, and the rule that decided.
type Verdict struct {
	// Name, Version and ContentID are the package's.
	Name, Version, ContentID string
	// Source is where the package came from, as given to Verify.
	Source string
	// Rule is the rule that applied, RuleIndex its index among
	// [Policy.Rules] (-1 for the default rule, when no scope covers the
	// package or there is no trust file) and Scope the scope that matched.
	Rule      Rule
	RuleIndex int
	Scope     string
	// Checks are the checks made, in order: integrity, then each signature
	// (embedded ones by key id, then detached ones in the order given), then
	// the threshold.
	Checks []Check
	// Signers are the distinct trusted keys with a valid signature for this
	// package, sorted by name: those the threshold counts.
	Signers []Signer
	// Insecure is set when the package passed only thanks to
	// [Policy.WithInsecureAllowUnsigned].
	Insecure bool

	noPolicy      bool
	allowUnsigned bool
}

// Check is one check of [Verify] and its result.
type Check struct {
	// Name says what was checked: "integrity", "signed", "threshold", or
	// "signature by alice (RWQf6LRCGA9i…)".
	Name string
	// Detail says what was found when the check passed.
	Detail string
	// Err is nil when the check passed, or says why it failed, wrapping
	// one of the sentinel errors of this package.
	Err error
	// Ignored is set for a failed check that does not fail the package: the
	// level is audit, or permissive and the problem one it tolerates, or
	// the policy allows unsigned packages.
	Ignored bool
}

// OK reports whether the check passed.
func (c Check) OK() bool { return c.Err == nil }

// String returns the check as a line: "ok   " and the name and detail,
// "FAIL " and the name and error, or "warn " for an ignored failure.
func (c Check) String() string {
	switch {
	case c.Err == nil && c.Detail != "":
		return "ok   " + c.Name + ": " + c.Detail
	case c.Err == nil:
		return "ok   " + c.Name
	case c.Ignored:
		return "warn " + c.Name + ": " + c.Err.Error() + " (ignored)"
	default:
		return "FAIL " + c.Name + ": " + c.Err.Error()
	}
}

// Signer is a trusted key with a valid signature for the package.
type Signer struct {
	Key Key
	// Statement is the signature's trusted comment: it matches the package;
	// its Time is when the signer's clock said the signature was made.
	Statement Statement
}

// OK reports whether the package passed: no check failed but ignored ones.
func (v *Verdict) OK() bool {
	for _, c := range v.Checks {
		if c.Err != nil && !c.Ignored {
			return false
		}
	}
	return true
}

// Problems returns every failed check, ignored ones included, as errors
// "<check>: <why>".
func (v *Verdict) Problems() []error {
	var out []error
	for _, c := range v.Checks {
		if c.Err != nil {
			out = append(out, fmt.Errorf("%s: %w", c.Name, c.Err))
		}
	}
	return out
}

// MaxCapabilities returns the capability cap of the rule that applied, or
// nil when it has none. A loader grants a plugin at most this, whatever
// its manifest requests and the user grants.
func (v *Verdict) MaxCapabilities() *manifest.Capabilities {
	if v.Rule.MaxCapabilities == nil {
		return nil
	}
	c := cloneCaps(*v.Rule.MaxCapabilities)
	return &c
}

// Policy describes the rule that applied, for people: `policy[0] (scope
// "oci://registry.example/vitte/*", level strict, 1 of alice, bob)`.
func (v *Verdict) Policy() string {
	switch {
	case v.noPolicy:
		return "no trust file (nothing is trusted)"
	case v.RuleIndex < 0:
		return "no policy covers this package (nothing is trusted)"
	}
	return fmt.Sprintf("policy[%d] (scope %q, level %s, %s)", v.RuleIndex, v.Scope, v.Rule.Level, formatThreshold(v.Rule))
}

// Verify decides whether the package pkg, opened from source, may be
// loaded under pol, at time now. It checks every signature, those embedded
// in pkg and the detached ones (.minisig files), against the rule of pol
// that applies to source and the package's name ([Policy.Match]); pol nil
// stands for "no trust file", which trusts nothing.
//
// source is "file://" and an absolute clean path, "oci://" and a
// reference, or "" when unknown (then only name: and "*" scopes apply).
//
// For each signature, Verify checks that it is a prehashed minisign
// signature of the exact bytes of _vitte/CHECKSUMS, by a key of the trust
// file (ErrUntrusted), that it verifies (ErrBadSignature), that its trusted
// comment names this package's name, version and content id
// (ErrMismatch), that the key is not revoked (ErrRevoked) and is within its
// not_before..not_after now and at the signature's time (ErrExpired), and
// that the rule lists the key (ErrUntrusted). Then it counts the distinct
// keys that passed against the rule's threshold (ErrThreshold, or
// ErrUnsigned for a package without signatures). The level of the rule
// says which failures fail the package; see [Level].
//
// The verdict is returned in every case but a nil package or a malformed
// source. The error is nil when the package may be loaded, or a
// [*VerifyError] listing every failure that counts.
func Verify(pkg *vitplug.Package, source string, detached [][]byte, pol *Policy, now time.Time) (*Verdict, error) {
	if pkg == nil {
		return nil, errors.New("verify: nil package")
	}
	if err := checkSource(source); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	m := pkg.Manifest()
	v := &Verdict{Name: m.Plugin.Name, Version: m.Plugin.Version, ContentID: pkg.ContentID(), Source: source, noPolicy: pol == nil || pol.none, allowUnsigned: pol.InsecureAllowUnsigned()}
	v.Rule, v.RuleIndex, v.Scope = pol.Match(source, v.Name)
	v.Checks = append(v.Checks, Check{Name: "integrity", Detail: "CHECKSUMS lists every file with its SHA-256, content " + v.ContentID})
	if v.Rule.Level == Skip {
		v.Checks = append(v.Checks, Check{Name: "signatures", Detail: "not checked: level skip"})
		return v, nil
	}

	var sigs []sigInput
	embedded := pkg.Signatures()
	ids := make([]string, 0, len(embedded))
	for id := range embedded {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		sigs = append(sigs, sigInput{data: embedded[id], entryID: id})
	}
	for _, d := range detached {
		sigs = append(sigs, sigInput{data: d, detached: true})
	}

	if len(sigs) == 0 {
		v.Checks = append(v.Checks, Check{Name: "signed", Err: fmt.Errorf("%w: the package has no signature, embedded or detached", ErrUnsigned)})
		return v, v.finish()
	}

	vr := &verifier{pol: pol, v: v, now: now, digest: minisign.NewReader(bytes.NewReader(pkg.Checksums()))}
	if _, err := io.Copy(io.Discard, vr.digest); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	signers := map[uint64]Signer{}
	for _, s := range sigs {
		c, signer := vr.signature(s)
		if c.Err == nil {
			if _, dup := signers[signer.Key.PublicKey.ID()]; dup {
				c.Detail += " (same key as another signature: counted once)"
			} else {
				signers[signer.Key.PublicKey.ID()] = *signer
			}
		}
		v.Checks = append(v.Checks, c)
	}
	for _, s := range signers {
		v.Signers = append(v.Signers, s)
	}
	sort.Slice(v.Signers, func(i, j int) bool { return v.Signers[i].Key.Name < v.Signers[j].Key.Name })
	names := make([]string, len(v.Signers))
	for i, s := range v.Signers {
		names[i] = s.Key.Name
	}
	tc := Check{Name: "threshold"}
	switch {
	case len(v.Signers) >= v.Rule.Threshold:
		tc.Detail = fmt.Sprintf("%d of %d distinct trusted keys required: %s", len(v.Signers), v.Rule.Threshold, strings.Join(names, ", "))
	default:
		tc.Err = fmt.Errorf("%w: %d of %d distinct trusted keys required", ErrThreshold, len(v.Signers), v.Rule.Threshold)
		if len(names) > 0 {
			tc.Err = fmt.Errorf("%w (%s)", tc.Err, strings.Join(names, ", "))
		}
	}
	v.Checks = append(v.Checks, tc)
	return v, v.finish()
}

// finish applies the level to the failed checks and returns the error for
// those that count.
func (v *Verdict) finish() error {
	var problems []error
	override := false
	for i := range v.Checks {
		c := &v.Checks[i]
		if c.Err == nil {
			continue
		}
		missing := errors.Is(c.Err, ErrThreshold) || errors.Is(c.Err, ErrUnsigned)
		switch {
		case v.Rule.Level == Audit:
			c.Ignored = true
		case v.Rule.Level == Permissive && !missing && !errors.Is(c.Err, ErrRevoked):
			// The threshold and revocations count; other bad signatures are
			// noise that counts for nothing.
			c.Ignored = true
		case v.allowUnsigned && (missing || errors.Is(c.Err, ErrUntrusted)):
			// A missing or untrusted signature is what the override is
			// for; a bad one is still evidence of tampering.
			c.Ignored, override = true, true
		}
		if !c.Ignored {
			problems = append(problems, fmt.Errorf("%s: %w", c.Name, c.Err))
		}
	}
	if len(problems) == 0 {
		v.Insecure = override
		return nil
	}
	return &VerifyError{Name: v.Name, Version: v.Version, Source: v.Source, Problems: problems}
}

// sigInput is one signature to check.
type sigInput struct {
	data     []byte
	entryID  string // KEYID of _vitte/signatures/<KEYID>.minisig, embedded only
	detached bool
}

type verifier struct {
	pol    *Policy
	v      *Verdict
	now    time.Time
	digest *minisign.Reader // has read CHECKSUMS
}

// signature checks one signature.
func (vr *verifier) signature(s sigInput) (Check, *Signer) {
	v := vr.v
	prefix := "signature"
	if s.detached {
		prefix = "detached signature"
	}
	c := Check{Name: prefix}
	if s.entryID != "" {
		c.Name = prefix + " " + vitplug.SignaturesDir + s.entryID + ".minisig"
	}
	fail := func(sentinel error, format string, args ...any) (Check, *Signer) {
		c.Err = fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
		return c, nil
	}
	if len(s.data) > vitplug.MaxSignatureSize {
		return fail(ErrBadSignature, "%d bytes: larger than a minisign signature can be (%d)", len(s.data), vitplug.MaxSignatureSize)
	}
	var sig minisign.Signature
	if err := sig.UnmarshalText(s.data); err != nil {
		return fail(ErrBadSignature, "not a minisign signature: %s", strings.TrimPrefix(err.Error(), "minisign: "))
	}
	id := KeyID(sig.KeyID)
	c.Name = prefix + " by unknown key " + id
	if s.entryID != "" && s.entryID != id {
		return fail(ErrBadSignature, "filed as %s%s.minisig but made by key %s", vitplug.SignaturesDir, s.entryID, id)
	}
	if sig.Algorithm != minisign.HashEdDSA {
		return fail(ErrBadSignature, "legacy minisign signature (Ed): only the prehashed variant (ED) is accepted")
	}
	key, known := vr.pol.keyByID(sig.KeyID)
	if !known {
		if v.noPolicy {
			return fail(ErrUntrusted, "no trust file: no key is trusted")
		}
		return fail(ErrUntrusted, "key %s is not in %s", id, vr.pol.File())
	}
	c.Name = prefix + " by " + key.Name + " (" + key.Short() + ")"
	if !vr.digest.Verify(key.PublicKey, s.data) {
		if st, err := ParseStatement(sig.TrustedComment); err == nil && st.ContentID != v.ContentID {
			return fail(ErrMismatch, "it was made for %s %s (content %s), not for this package (content %s): a signature copied from another package", st.Name, st.Version, st.ContentID, v.ContentID)
		}
		return fail(ErrBadSignature, "does not verify: CHECKSUMS or the trusted comment were changed after signing")
	}
	st, err := ParseStatement(sig.TrustedComment)
	if err != nil {
		return fail(ErrMismatch, "%s", err.Error())
	}
	var diffs []string
	if st.Name != v.Name {
		diffs = append(diffs, fmt.Sprintf("name %s, the manifest says %s", quote(st.Name), quote(v.Name)))
	}
	if st.Version != v.Version {
		diffs = append(diffs, fmt.Sprintf("version %s, the manifest says %s", quote(st.Version), quote(v.Version)))
	}
	if st.ContentID != v.ContentID {
		diffs = append(diffs, fmt.Sprintf("content %s, the package is %s", st.ContentID, v.ContentID))
	}
	if len(diffs) > 0 {
		return fail(ErrMismatch, "the signature is for %s", strings.Join(diffs, "; "))
	}
	if key.Revoked {
		return fail(ErrRevoked, "%s is revoked in %s", key.Name, vr.pol.File())
	}
	if err := key.checkTime("now", vr.now); err != nil {
		c.Err = err
		return c, nil
	}
	if err := key.checkTime("the signature's time", st.Time); err != nil {
		c.Err = err
		return c, nil
	}
	if !slices.Contains(v.Rule.Keys, key.Name) {
		if v.RuleIndex < 0 {
			return fail(ErrUntrusted, "%s is not trusted for this package: no policy covers it", key.Name)
		}
		return fail(ErrUntrusted, "%s is not in the keys of %s", key.Name, v.Policy())
	}
	c.Detail = fmt.Sprintf("%s %s, signed %s", st.Name, st.Version, st.Time.UTC().Format(time.RFC3339))
	return c, &Signer{Key: key, Statement: st}
}
