package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// runTrustCmds runs the signing and trust commands in process, as the
// vitte command line will once they are registered (the testscripts
// sign_*.txtar then cover them end to end), and returns stdout, stderr and
// the exit code.
func runTrustCmds(t *testing.T, argv ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	root := &cobra.Command{Use: "vitte", SilenceUsage: true, SilenceErrors: true}
	plugin := &cobra.Command{Use: "plugin"}
	var policy string
	var allowUnsigned bool
	verify := &cobra.Command{
		Use:  "verify <file.vitplug>",
		Args: args(1, 1),
		RunE: func(c *cobra.Command, a []string) error { return verifyPackage(e, a[0], policy, allowUnsigned) },
	}
	verify.Flags().StringVar(&policy, "policy", "", "")
	verify.Flags().BoolVar(&allowUnsigned, "insecure-allow-unsigned", false, "")
	plugin.AddCommand(newKeygenCmd(e), newSignCmd(e), newTrustCmd(e), verify)
	root.AddCommand(plugin)
	root.SetArgs(append([]string{"plugin"}, argv...))
	root.SetOut(&out)
	root.SetErr(&errb)
	code := ExitOK
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = report(&errb, err)
	}
	return out.String(), errb.String(), code
}

func TestTrustCommands(t *testing.T) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	t.Setenv("HOME", config)
	t.Setenv(passwordEnv, "")
	os.Unsetenv(passwordEnv)
	dir := t.TempDir()
	pkgPath := filepath.Join(dir, "hello-c-0.1.0.vitplug")
	orig, err := vitplug.PackFile("../../testdata/wasm/hello-c", pkgPath, vitplug.Limits{})
	require.NoError(t, err)
	alice, bob := filepath.Join(dir, "alice"), filepath.Join(dir, "bob")
	require.NoError(t, os.Mkdir(alice, 0o700))
	require.NoError(t, os.Mkdir(bob, 0o700))

	step := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		out, errs, code := runTrustCmds(t, args...)
		require.Equal(t, wantCode, code, "vitte plugin %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errs)
		return out, errs
	}

	// keygen
	out, errs := step(ExitOK, "keygen", "--unencrypted", "--out", alice)
	alicePub := strings.TrimSpace(out)
	require.Regexp(t, `^RW[A-Za-z0-9+/]{54}$`, alicePub)
	require.Contains(t, errs, "vitte: warning: the secret key "+filepath.Join(alice, "vitte.key")+" is not encrypted")
	require.Contains(t, errs, "vitte: hint: key ")
	_, errs = step(ExitError, "keygen", "--unencrypted", "--out", alice)
	require.Contains(t, errs, "key file already exists")
	require.Contains(t, errs, "vitte: hint: pass --force")
	out, _ = step(ExitOK, "keygen", "--unencrypted", "--out", alice, "--force")
	require.NotEqual(t, alicePub, strings.TrimSpace(out))
	alicePub = strings.TrimSpace(out)
	step(ExitOK, "keygen", "--unencrypted", "--out", bob)
	if tty, err := os.Open("/dev/tty"); err == nil {
		tty.Close() // run from a terminal: keygen would ask it
	} else {
		_, errs = step(ExitUsage, "keygen", "--out", filepath.Join(dir, "x"))
		require.Contains(t, errs, "no terminal to read the passphrase from")
		require.Contains(t, errs, "vitte: hint: set VITTE_KEY_PASSWORD")
	}

	// verify, unsigned, no trust file
	out, errs = step(ExitVerify, "verify", pkgPath)
	require.Contains(t, out, "ok   integrity: CHECKSUMS lists every file with its SHA-256, content "+orig.ContentID()+"\n")
	require.Contains(t, out, "FAIL signed: unsigned package: the package has no signature, embedded or detached\n")
	require.Contains(t, errs, "vitte: error: verification of "+pkgPath+" failed under no trust file (nothing is trusted): verify hello-c 0.1.0 from file://")
	require.Contains(t, errs, "\n\tsigned: unsigned package")
	require.Contains(t, errs, "vitte: hint: sign it with")
	out, errs = step(ExitOK, "verify", "--insecure-allow-unsigned", pkgPath)
	require.Contains(t, out, "warn signed: unsigned package")
	require.Contains(t, out, "ok   hello-c 0.1.0 ("+orig.ContentID()+"): allowed without trusted signatures (--insecure-allow-unsigned)\n")
	require.Contains(t, errs, "vitte: warning: --insecure-allow-unsigned: ")

	// sign, embedded
	out, _ = step(ExitOK, "sign", "--key", filepath.Join(alice, "vitte.key"), pkgPath)
	require.Equal(t, pkgPath+"\n", out)
	signed, err := vitplug.OpenFile(pkgPath, vitplug.Limits{})
	require.NoError(t, err)
	require.Equal(t, orig.ContentID(), signed.ContentID())
	require.Len(t, signed.Signatures(), 1)
	fi, err := os.Stat(pkgPath)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	_, errs = step(ExitUsage, "sign", pkgPath)
	require.Contains(t, errs, "missing --key")
	_, errs = step(ExitError, "sign", "--key", filepath.Join(dir, "nope.key"), pkgPath)
	require.Contains(t, errs, "read secret key: open ")

	// signed, but nothing trusted
	out, errs = step(ExitVerify, "verify", pkgPath)
	require.Contains(t, out, "FAIL signature by unknown key ")
	require.Contains(t, errs, "vitte: hint: no trust file at "+filepath.Join(config, "vitte", "trust.toml"))

	// trust add, list
	out, _ = step(ExitOK, "trust", "add", "alice", filepath.Join(alice, "vitte.pub"))
	require.Contains(t, out, "alice ")
	require.Contains(t, out, " trusted for * in "+filepath.Join(config, "vitte", "trust.toml"))
	out, _ = step(ExitOK, "trust", "list")
	require.Contains(t, out, "keys: 1\n  alice ")
	require.Contains(t, out, "policies: 1\n  policy[0] *: strict, 1 of alice\n")
	out, _ = step(ExitOK, "trust", "list", "--json")
	require.Contains(t, out, `"name": "alice"`)
	require.Contains(t, out, `"public_key": "`+alicePub+`"`)

	out, _ = step(ExitOK, "verify", pkgPath)
	require.Contains(t, out, "ok   signature by alice (")
	require.Contains(t, out, "ok   threshold: 1 of 1 distinct trusted keys required: alice\n")
	require.Contains(t, out, `: signed by alice, under policy[0] (scope "*", level strict, 1 of alice)`)

	// a detached signature by bob: untrusted, strict fails; trusted, passes
	out, _ = step(ExitOK, "sign", "--detach", "--key", filepath.Join(bob, "vitte.key"), pkgPath)
	require.Equal(t, pkgPath+".minisig\n", out)
	out, _ = step(ExitVerify, "verify", pkgPath)
	require.Contains(t, out, "FAIL detached signature by unknown key ")
	bobPub, err := os.ReadFile(filepath.Join(bob, "vitte.pub"))
	require.NoError(t, err)
	step(ExitOK, "trust", "add", "bob", strings.Split(string(bobPub), "\n")[1])
	out, _ = step(ExitOK, "verify", pkgPath)
	require.Contains(t, out, "signed by alice, bob, under")

	// remove: bob is unknown again
	out, _ = step(ExitOK, "trust", "remove", "bob")
	require.Contains(t, out, "removed bob from ")
	step(ExitVerify, "verify", pkgPath)
	_, errs = step(ExitError, "trust", "remove", "bob")
	require.Contains(t, errs, "no key named bob")

	// --policy elsewhere, with a scope and a level
	pol := filepath.Join(dir, "trust.toml")
	step(ExitOK, "trust", "add", "--policy", pol, "bob", filepath.Join(bob, "vitte.pub"), "--scope", "file://"+filepath.ToSlash(dir)+"/*", "--level", "permissive")
	out, _ = step(ExitOK, "verify", "--policy", pol, pkgPath)
	require.Contains(t, out, "warn signature by unknown key ")
	require.Contains(t, out, "level permissive")
	_, errs = step(ExitError, "verify", "--policy", filepath.Join(dir, "missing.toml"), pkgPath)
	require.Contains(t, errs, "read trust policy: open ")

	// a corrupt trust file
	require.NoError(t, os.WriteFile(pol, []byte("[keys.alice]\nminisign = \"RWQ\"\n[[policy]]\nscopes = [\"*\"]\nlevel = \"strikt\"\n"), 0o644))
	_, errs = step(ExitError, "verify", "--policy", pol, pkgPath)
	require.Contains(t, errs, "vitte: error: invalid trust policy:\n\t"+pol+":2:12: keys.alice.minisign: ")
	require.Contains(t, errs, "\n\t"+pol+":5:9: policy[0].level: unknown level \"strikt\"")
	require.Contains(t, errs, "vitte: hint: fix "+pol)
	_, errs = step(ExitError, "trust", "add", "--policy", pol, "carol", alicePub)
	require.Contains(t, errs, "edits keep the file valid")

	// a tampered package
	data, err := os.ReadFile(pkgPath)
	require.NoError(t, err)
	i := bytes.Index(data, []byte("hello-c.wasm"))
	require.Positive(t, i)
	tampered := filepath.Join(dir, "tampered.vitplug")
	data[i+len("hello-c.wasm")+40] ^= 1
	require.NoError(t, os.WriteFile(tampered, data, 0o644))
	out, errs = step(ExitVerify, "verify", tampered)
	require.Contains(t, out, "FAIL integrity: ")
	require.Contains(t, errs, "vitte: error: verification of "+tampered+" failed: ")

	// Signing through a symbolic link signs the file; the link stays.
	target := filepath.Join(dir, "target.vitplug")
	_, err = vitplug.PackFile("../../testdata/wasm/hello-c", target, vitplug.Limits{})
	require.NoError(t, err)
	link := filepath.Join(dir, "link.vitplug")
	if err := os.Symlink(target, link); err == nil {
		out, _ = step(ExitOK, "sign", "--key", filepath.Join(alice, "vitte.key"), link)
		require.Equal(t, link+"\n", out)
		fi, err := os.Lstat(link)
		require.NoError(t, err)
		require.NotZero(t, fi.Mode()&os.ModeSymlink)
		p, err := vitplug.OpenFile(target, vitplug.Limits{})
		require.NoError(t, err)
		require.Len(t, p.Signatures(), 1)
	}

	// trustedSigners, for install and load: bob's detached signature
	// fails, strict; alone, alice's passes.
	_, err = trustedSigners(signed, "file://"+filepath.ToSlash(pkgPath), "", false)
	require.ErrorIs(t, err, trust.ErrUntrusted)
	require.NoError(t, os.Remove(pkgPath+".minisig"))
	names, err := trustedSigners(signed, "file://"+filepath.ToSlash(pkgPath), "", false)
	require.NoError(t, err)
	require.Equal(t, []string{"alice"}, names)
	_, err = trustedSigners(orig, "file://"+filepath.ToSlash(pkgPath)+"x", "", false)
	require.ErrorIs(t, err, trust.ErrUnsigned)
	names, err = trustedSigners(orig, "", "", true)
	require.NoError(t, err)
	require.Empty(t, names)
}

// The encrypted path: scrypt with minisign's real costs, seconds per key.
func TestTrustCommands_encrypted(t *testing.T) {
	if testing.Short() || raceEnabledCLI() {
		t.Skip("scrypt with minisign's costs: seconds, minutes under -race")
	}
	dir := t.TempDir()
	t.Setenv(passwordEnv, "correct horse battery staple")
	step := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		out, errs, code := runTrustCmds(t, args...)
		require.Equal(t, wantCode, code, "stdout:\n%s\nstderr:\n%s", out, errs)
		return out, errs
	}
	step(ExitOK, "keygen", "--out", dir)
	sk, err := os.ReadFile(filepath.Join(dir, "vitte.key"))
	require.NoError(t, err)
	require.True(t, trust.IsEncrypted(sk))
	pkgPath := filepath.Join(dir, "hello.vitplug")
	_, err = vitplug.PackFile("../../testdata/wasm/hello-c", pkgPath, vitplug.Limits{})
	require.NoError(t, err)
	step(ExitOK, "sign", "--key", filepath.Join(dir, "vitte.key"), pkgPath)
	t.Setenv(passwordEnv, "wrong")
	_, errs := step(ExitError, "sign", "--key", filepath.Join(dir, "vitte.key"), pkgPath)
	require.Contains(t, errs, "parse secret key: wrong password")
	t.Setenv(passwordEnv, "")
	_, errs = step(ExitUsage, "keygen", "--out", t.TempDir())
	require.Contains(t, errs, "VITTE_KEY_PASSWORD is set but empty")
}

// raceEnabledCLI reports whether the test binary was built with -race, from
// its build settings.
func raceEnabledCLI() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
