package trust_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/trust"
)

// These tests run the minisign tool (Debian package minisign, installed by
// scripts/install-toolchains.sh). Without it they are skipped, except in
// CI (CI=true), where a missing tool is a failure.

func minisignTool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("minisign")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the minisign tool is missing in CI: run scripts/install-toolchains.sh: %v", err)
		}
		t.Skipf("the minisign tool is not installed (apt-get install minisign): %v", err)
	}
	return path
}

// run runs the minisign tool in dir with stdin and returns its combined
// output.
func run(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(minisignTool(t), args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "minisign %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// trustOnly returns a policy trusting only pub, for every package.
func trustOnly(t *testing.T, pubText []byte) *trust.Policy {
	t.Helper()
	pub, err := trust.ParsePublicKey(pubText)
	require.NoError(t, err)
	var none *trust.Policy
	p, err := none.WithKey("tool", pub, nil, "")
	require.NoError(t, err)
	return p
}

// A key made by "minisign -G" signs packages that Verify accepts.
func TestMinisign_toolKeys(t *testing.T) {
	defer trust.SetTestScrypt()()
	minisignTool(t)
	tests := []struct {
		name     string
		args     []string
		stdin    string
		password []byte
	}{
		{name: "unencrypted (-W)", args: []string{"-G", "-W", "-p", "k.pub", "-s", "k.key"}},
		{name: "encrypted", args: []string{"-G", "-p", "k.pub", "-s", "k.key"}, stdin: "s3cret\ns3cret\n", password: []byte("s3cret")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.password != nil && (testing.Short() || raceEnabled) {
				t.Skip("the tool encrypts with scrypt and a gigabyte of memory: seconds to decrypt, minutes under -race")
			}
			dir := t.TempDir()
			run(t, dir, tc.stdin, tc.args...)
			skText, err := os.ReadFile(filepath.Join(dir, "k.key"))
			require.NoError(t, err)
			key, err := trust.ParseSecretKey(skText, tc.password)
			require.NoError(t, err)
			pubText, err := os.ReadFile(filepath.Join(dir, "k.pub"))
			require.NoError(t, err)

			p := hello(t)
			sig, err := trust.Sign(p, key, now)
			require.NoError(t, err)
			p, err = p.WithSignature(trust.KeyID(key.ID()), sig)
			require.NoError(t, err)
			v, err := trust.Verify(p, "", nil, trustOnly(t, pubText), now)
			require.NoError(t, err)
			require.Len(t, v.Signers, 1)
		})
	}
}

// The tool verifies what Sign makes, with the public key GenerateKey
// writes, prehashed (-H).
func TestMinisign_toolVerifies(t *testing.T) {
	minisignTool(t)
	dir := t.TempDir()
	_, err := trust.GenerateKey(dir, nil, false)
	require.NoError(t, err)
	skText, err := os.ReadFile(filepath.Join(dir, trust.SecretKeyFile))
	require.NoError(t, err)
	key, err := trust.ParseSecretKey(skText, nil)
	require.NoError(t, err)

	p := hello(t)
	sig, err := trust.Sign(p, key, now)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "CHECKSUMS"), p.Checksums(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "CHECKSUMS.minisig"), sig, 0o644))
	out := run(t, dir, "", "-V", "-H", "-p", trust.PublicKeyFile, "-m", "CHECKSUMS", "-x", "CHECKSUMS.minisig")
	require.Contains(t, out, "Signature and comment signature verified")
	require.Contains(t, out, "Trusted comment: vitte-plugin v1 name=hello-c version=0.1.0 content="+p.ContentID()+" ts=")

	// A changed CHECKSUMS fails with the tool too.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "CHECKSUMS"), append(p.Checksums(), '\n'), 0o644))
	cmd := exec.Command(minisignTool(t), "-V", "-p", trust.PublicKeyFile, "-m", "CHECKSUMS", "-x", "CHECKSUMS.minisig")
	cmd.Dir = dir
	out2, err := cmd.CombinedOutput()
	require.Error(t, err, string(out2))
}

// The tool signs with the secret keys GenerateKey writes, encrypted or
// not, and Verify accepts its signatures when the trusted comment is the
// package's statement.
func TestMinisign_toolSignsWithOurKeys(t *testing.T) {
	defer trust.SetTestScrypt()()
	minisignTool(t)
	for _, password := range [][]byte{nil, []byte("pass phrase")} {
		t.Run(map[bool]string{true: "encrypted", false: "unencrypted"}[password != nil], func(t *testing.T) {
			dir := t.TempDir()
			pub, err := trust.GenerateKey(dir, password, false)
			require.NoError(t, err)
			p := hello(t)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "CHECKSUMS"), p.Checksums(), 0o644))
			st := trust.Statement{Name: "hello-c", Version: "0.1.0", ContentID: p.ContentID(), Time: now}
			args := []string{"-S", "-s", trust.SecretKeyFile, "-m", "CHECKSUMS", "-x", "sig", "-t", st.String()}
			stdin := ""
			if password == nil {
				args = append(args, "-W")
			} else {
				stdin = string(password) + "\n"
			}
			run(t, dir, stdin, args...)
			sig, err := os.ReadFile(filepath.Join(dir, "sig"))
			require.NoError(t, err)
			pubText, err := os.ReadFile(filepath.Join(dir, trust.PublicKeyFile))
			require.NoError(t, err)
			v, err := trust.Verify(p, "", [][]byte{sig}, trustOnly(t, pubText), now)
			require.NoError(t, err)
			require.Equal(t, pub.ID(), v.Signers[0].Key.PublicKey.ID())
		})
	}
}

// The secret key GenerateKey writes with the real costs (a gigabyte of
// memory for scrypt, as minisign) opens in the tool.
func TestMinisign_realCosts(t *testing.T) {
	minisignTool(t)
	if testing.Short() || raceEnabled {
		t.Skip("scrypt with minisign's costs takes seconds and a gigabyte; slower under -race")
	}
	dir := t.TempDir()
	_, err := trust.GenerateKey(dir, []byte("pw"), false)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "m"), []byte("m"), 0o644))
	run(t, dir, "pw\n", "-S", "-s", trust.SecretKeyFile, "-m", "m")
	run(t, dir, "", "-V", "-p", trust.PublicKeyFile, "-m", "m")
}
