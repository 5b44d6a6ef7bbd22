package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// verifyPackage is `vitte plugin verify` for a .vitplug file: it opens the
// package (which checks its integrity and format), checks its signatures,
// embedded and detached (<path>.minisig), against the trust policy
// policyPath ("" for the user's trust.toml), and prints each check on
// stdout, one line each:
//
//	ok   integrity: CHECKSUMS lists every file with its SHA-256, content h1:...
//	ok   signature by alice (RWQf6LRCGA9i…): hello 0.1.0, signed 2026-03-01T10:00:00Z
//	FAIL signature by unknown key 0123456789ABCDEF: untrusted key: ...
//	ok   threshold: 1 of 1 distinct trusted keys required: alice
//
// then a last line saying under which policy the package passed. A
// failure returns an exitError with code ExitVerify that lists every
// problem. allowUnsigned is --insecure-allow-unsigned, warned about on
// stderr.
func verifyPackage(e *env, path, policyPath string, allowUnsigned bool) error {
	pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
	if err != nil {
		code := packageExitCode(err)
		if code == ExitVerify {
			fmt.Fprintf(e.stdout, "FAIL integrity: %v\n", err)
		}
		return withCode(code, fmt.Errorf("verification of %s failed: %w", path, err))
	}
	source, err := fileSource(path)
	if err != nil {
		return withCode(ExitError, err)
	}
	detached, err := detachedSignatures(path)
	if err != nil {
		return withCode(ExitError, err)
	}
	polPath, pol, exists, err := loadPolicy(policyPath)
	if err != nil {
		return err
	}
	if allowUnsigned {
		warnf(e.stderr, "--insecure-allow-unsigned: %s may be loaded without a trusted signature: whoever could change it can change what it does", path)
		pol = pol.WithInsecureAllowUnsigned()
	}
	v, verr := trust.Verify(pkg, source, detached, pol, time.Now())
	if v == nil {
		return withCode(ExitError, verr)
	}
	for _, c := range v.Checks {
		fmt.Fprintln(e.stdout, c.String())
	}
	if verr != nil {
		return withCode(ExitVerify, fmt.Errorf("verification of %s failed under %s: %w", path, v.Policy(), verr), verifyHints(verr, polPath, exists)...)
	}
	what := fmt.Sprintf("%s %s (%s)", v.Name, v.Version, v.ContentID)
	switch {
	case v.Rule.Level == trust.Skip:
		fmt.Fprintf(e.stdout, "ok   %s: signatures not checked, under %s\n", what, v.Policy())
		warnf(e.stderr, "%s: level skip: the signatures of %s were not checked", polPath, path)
	case v.Insecure:
		fmt.Fprintf(e.stdout, "ok   %s: allowed without trusted signatures (--insecure-allow-unsigned)\n", what)
	case v.Rule.Level == trust.Audit && len(v.Problems()) > 0:
		fmt.Fprintf(e.stdout, "ok   %s: allowed by level audit, under %s\n", what, v.Policy())
	default:
		names := make([]string, len(v.Signers))
		for i, s := range v.Signers {
			names[i] = s.Key.Name
		}
		by := strings.Join(names, ", ")
		if by == "" {
			by = "no trusted key"
		}
		fmt.Fprintf(e.stdout, "ok   %s: signed by %s, under %s\n", what, by, v.Policy())
	}
	if problems := v.Problems(); len(problems) > 0 && v.Rule.Level != trust.Skip {
		warnf(e.stderr, "%d problem(s) not enforced (level %s%s): see the warn lines", len(problems), v.Rule.Level, map[bool]string{true: ", --insecure-allow-unsigned"}[v.Insecure])
	}
	return nil
}

// verifyHints says what to do about a failed verification.
func verifyHints(err error, polPath string, exists bool) []string {
	var hints []string
	switch {
	case errors.Is(err, trust.ErrUnsigned):
		hints = append(hints, "sign it with 'vitte plugin sign --key KEY FILE', or pass --insecure-allow-unsigned to accept it unsigned")
	case (errors.Is(err, trust.ErrUntrusted) || errors.Is(err, trust.ErrThreshold)) && !exists:
		hints = append(hints, fmt.Sprintf("no trust file at %s: trust the signer's key with 'vitte plugin trust add NAME KEY.pub'", polPath))
	case errors.Is(err, trust.ErrUntrusted):
		hints = append(hints, fmt.Sprintf("trust the signer's key in %s with 'vitte plugin trust add NAME KEY.pub --scope SCOPE'", polPath))
	}
	return hints
}

// fileSource returns the source of the package file path for the trust
// policy: "file://" and its absolute path, symbolic links resolved, so that
// a link in a trusted folder to a file elsewhere is judged by where the
// file is.
func fileSource(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x on Windows
	}
	return "file://" + p, nil
}

// detachedSignatures reads <path>.minisig when it is there.
func detachedSignatures(path string) ([][]byte, error) {
	f, err := os.Open(path + ".minisig")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read detached signature: %w", err)
	}
	defer f.Close()
	// One byte more than a signature may be, so that Verify reports it.
	sig, err := io.ReadAll(io.LimitReader(f, vitplug.MaxSignatureSize+1))
	if err != nil {
		return nil, fmt.Errorf("read detached signature %s.minisig: %w", path, err)
	}
	return [][]byte{sig}, nil
}

// trustedSigners checks an opened package from source against the trust
// policy policyPath ("" for the user's), with the detached signature next
// to it when source is a file, and returns the names of the trusted keys
// that signed it (none when --insecure-allow-unsigned let an unsigned
// package through). It has the shape of installVerifier and of
// runtime.PackageVerifier's needs: the registry's install and the loading
// of .vitplug files can call it.
func trustedSigners(pkg *vitplug.Package, source, policyPath string, allowUnsigned bool) ([]string, error) {
	return trustedSignersWith(pkg, source, nil, policyPath, allowUnsigned)
}

// trustedSignersWith is trustedSigners with the detached signatures found
// elsewhere (in an OCI registry, next to the package there) added.
func trustedSignersWith(pkg *vitplug.Package, source string, detached [][]byte, policyPath string, allowUnsigned bool) ([]string, error) {
	if p, ok := strings.CutPrefix(source, "file://"); ok {
		if !strings.HasPrefix(p, "/") {
			source = "file:///" + p
		}
		file := strings.TrimPrefix(source, "file://")
		if len(file) >= 3 && file[2] == ':' {
			file = file[1:] // /C:/x on Windows
		}
		d, err := detachedSignatures(filepath.FromSlash(file))
		if err != nil {
			return nil, err
		}
		detached = append(d, detached...)
	}
	_, pol, _, err := loadPolicy(policyPath)
	if err != nil {
		return nil, err
	}
	if allowUnsigned {
		pol = pol.WithInsecureAllowUnsigned()
	}
	v, err := trust.Verify(pkg, source, detached, pol, time.Now())
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, s := range v.Signers {
		names = append(names, s.Key.Name)
	}
	return names, nil
}
