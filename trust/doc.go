// Package trust implements the signatures and the trust policy of the
// .vitplug package format v1 (docs/spec/package-v1.md, "Signatures" and
// "Trust policy"): it signs a package's _vitte/CHECKSUMS with minisign keys,
// reads the user's trust.toml, and decides whether a package may be loaded.
//
// [Sign] makes a signature and [Verify] checks every signature of a package
// against a [Policy]:
//
//	pol, err := trust.LoadFile(path) // trust.toml, strictly parsed
//	if err != nil {
//		return err // trust.toml:7:1: policy[0].level: unknown level "strikt": ...
//	}
//	pkg, err := vitplug.OpenFile("hello-0.1.0.vitplug", vitplug.Limits{}) // integrity
//	if err != nil {
//		return err
//	}
//	verdict, err := trust.Verify(pkg, "file:///srv/plugins/hello-0.1.0.vitplug", nil, pol, time.Now())
//	for _, c := range verdict.Checks {
//		fmt.Println(c) // ok   signature by alice (RWQf6LRCGA9i…): hello 0.1.0, signed 2026-03-01T10:00:00Z
//	}
//	if err != nil {
//		return err // wraps ErrUntrusted, ErrRevoked, ErrThreshold...
//	}
//
// # Signatures
//
// A signature is a minisign signature, prehashed variant ("ED") only, over
// the exact bytes of _vitte/CHECKSUMS, whose trusted comment is a
// [Statement]:
//
//	vitte-plugin v1 name=hello version=0.1.0 content=h1:... ts=1767225600
//
// The statement binds the signature to one package: a signature copied from
// another package, or made over these checksums for another name or
// version, fails with [ErrMismatch]. Keys and signatures are those of the
// minisign tool: a key made with "minisign -G" signs packages that this
// package verifies, and "minisign -V" verifies the signatures that [Sign]
// makes. A key id is written as 16 upper-case hexadecimal digits, zero
// padded ([KeyID]); the minisign tool leaves out leading zeros.
//
// # Trust policy
//
// trust.toml names keys and says which keys are trusted for which sources,
// how many distinct ones must have signed, and at which level problems
// fail a package; docs/trust.md describes the file and [Parse] reads it.
// A [Policy] is never changed in place: [Policy.WithKey] and
// [Policy.WithoutKey] return an edited copy, [WriteFile] saves one
// atomically.
//
// # What Verify does not do
//
// It does not check integrity: [vitplug.Open] already refuses a package
// whose files do not match its CHECKSUMS, so every package Verify sees is
// intact, at every level, "skip" included. It does not grant capabilities
// either: it reports the max_capabilities of the policy that applies
// ([Verdict.MaxCapabilities]), and the loader caps its grants with them.
package trust
