package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/trust"
)

// passwordEnv names the environment variable that holds the passphrase of
// a secret key, for scripts: keygen encrypts with it, sign decrypts with
// it. When it is not set, both ask on the terminal.
const passwordEnv = "VITTE_KEY_PASSWORD"

// newKeygenCmd is `vitte plugin keygen`: a minisign key pair to sign
// packages with (trust.GenerateKey).
func newKeygenCmd(e *env) *cobra.Command {
	var (
		out                string
		unencrypted, force bool
	)
	c := &cobra.Command{
		Use:   "keygen [--out DIR] [--unencrypted] [--force]",
		Short: "Create a key pair to sign plugin packages",
		Long: `Keygen creates a minisign key pair (Ed25519) and writes it to the folder
DIR (default: the current folder): vitte.key, the secret key, mode 0600,
and vitte.pub, the public key. It prints the public key on stdout: the
string to give to 'vitte plugin trust add' or to the people who will
trust your packages.

The secret key is encrypted with a passphrase, as the minisign tool does
(scrypt, about a gigabyte of memory and a few seconds to encrypt and to
open). The passphrase is read twice from the terminal, or from the
environment variable VITTE_KEY_PASSWORD when it is set (for scripts).
--unencrypted writes the secret key unencrypted, like 'minisign -G -W':
for CI systems that keep it in their own secret store, never on a shared
disk.

An existing vitte.key or vitte.pub is never replaced unless --force is
given. Each file is written to a temporary file first, then moved into
place. The keys work with the minisign tool: 'minisign -S -s vitte.key'
signs and 'minisign -V -p vitte.pub' verifies.`,
		Example: `  vitte plugin keygen --out ~/.config/vitte
  VITTE_KEY_PASSWORD=... vitte plugin keygen --out keys
  vitte plugin trust add ci "$(vitte plugin keygen --unencrypted --out /run/ci)"`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var password []byte
			if unencrypted {
				warnf(e.stderr, "the secret key %s is not encrypted: keep it where only you (or your CI secret store) can read it", filepath.Join(out, trust.SecretKeyFile))
			} else {
				var err error
				if password, err = newPassphrase(); err != nil {
					return err
				}
			}
			pub, err := trust.GenerateKey(out, password, force)
			if err != nil {
				if errors.Is(err, trust.ErrExist) {
					return withCode(ExitError, err, "pass --force to replace the key pair, or --out DIR to write it elsewhere")
				}
				return withCode(ExitError, err)
			}
			fmt.Fprintln(e.stdout, pub.String())
			fmt.Fprintf(e.stderr, "vitte: hint: key %s written to %s and %s; trust it with 'vitte plugin trust add NAME %s'\n",
				trust.KeyID(pub.ID()), filepath.Join(out, trust.SecretKeyFile), filepath.Join(out, trust.PublicKeyFile), filepath.Join(out, trust.PublicKeyFile))
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", ".", "write vitte.key and vitte.pub to `DIR`")
	c.Flags().BoolVar(&unencrypted, "unencrypted", false, "do not encrypt the secret key (for CI)")
	c.Flags().BoolVar(&force, "force", false, "replace an existing vitte.key or vitte.pub")
	return c
}

// newPassphrase gets the passphrase of a new secret key: $VITTE_KEY_PASSWORD,
// or twice from the terminal.
func newPassphrase() ([]byte, error) {
	if p, ok := os.LookupEnv(passwordEnv); ok {
		if p == "" {
			return nil, usageErrorf("%s is set but empty: set a passphrase, or pass --unencrypted", passwordEnv)
		}
		return []byte(p), nil
	}
	p, err := trust.ReadPassphrase("passphrase for the new secret key: ")
	if err != nil {
		return nil, passphraseError(err)
	}
	if len(p) == 0 {
		return nil, usageErrorf("empty passphrase: type one, or pass --unencrypted")
	}
	again, err := trust.ReadPassphrase("the same passphrase again: ")
	if err != nil {
		return nil, passphraseError(err)
	}
	if !bytes.Equal(p, again) {
		return nil, usageErrorf("the two passphrases differ")
	}
	return p, nil
}

// keyPassphrase gets the passphrase of an existing secret key:
// $VITTE_KEY_PASSWORD, or once from the terminal.
func keyPassphrase(path string) ([]byte, error) {
	if p, ok := os.LookupEnv(passwordEnv); ok {
		return []byte(p), nil
	}
	p, err := trust.ReadPassphrase(fmt.Sprintf("passphrase for %s: ", path))
	if err != nil {
		return nil, passphraseError(err)
	}
	return p, nil
}

func passphraseError(err error) error {
	if errors.Is(err, trust.ErrNoTerminal) {
		return withCode(ExitUsage, err, "set "+passwordEnv+" to pass the passphrase from a script")
	}
	return withCode(ExitError, err)
}
