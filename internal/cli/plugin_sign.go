package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"aead.dev/minisign"
	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// newSignCmd is `vitte plugin sign`: a minisign signature of a package's
// CHECKSUMS (trust.Sign), embedded or detached.
func newSignCmd(e *env) *cobra.Command {
	var (
		keyPath   string
		detach    bool
		push      bool
		plainHTTP bool
		timeout   time.Duration
	)
	c := &cobra.Command{
		Use:   "sign --key KEY <file.vitplug> | sign --key KEY --push oci://REGISTRY/REPO:VERSION",
		Short: "Sign a plugin package",
		Long: `Sign signs the package <file.vitplug> with the secret key KEY (made by
'vitte plugin keygen' or 'minisign -G'): a minisign signature of the
package's _vitte/CHECKSUMS whose trusted comment names the plugin, its
version, its content id and the time:

  vitte-plugin v1 name=hello version=0.1.0 content=h1:... ts=1767225600

By default the signature is embedded in the package as
_vitte/signatures/<KEYID>.minisig, replacing an earlier signature by the
same key; the package is rewritten through a temporary file, and its
content id does not change. With --detach the package is left alone and
the signature is written next to it, to <file.vitplug>.minisig.

An encrypted key's passphrase is read from the terminal, or from the
environment variable VITTE_KEY_PASSWORD when it is set.

It prints the path of the package, or of the .minisig file, on stdout.

With --push, the argument is a package in an OCI registry,
oci://REGISTRY/REPO:VERSION or @sha256:DIGEST: it is pulled and checked as
'vitte plugin pull' does, signed, and the signature is pushed as a
separate artifact (artifactType application/vnd.vitte.signature.v1+minisign,
its subject the package's manifest), which 'vitte plugin install' finds
through the registry's referrers API or its sha256-<hex> tag fallback.
The package in the registry does not change. It prints the signature
artifact's reference on stdout. Credentials, --plain-http and --timeout
are as for 'vitte plugin pull'.`,
		Example: `  vitte plugin sign --key ~/.config/vitte/vitte.key hello-0.1.0.vitplug
  VITTE_KEY_PASSWORD=... vitte plugin sign --key vitte.key --detach hello-0.1.0.vitplug
  vitte plugin sign --key vitte.key --push oci://ghcr.io/acme/plugins/hello:0.1.0`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if keyPath == "" {
				return usageErrorf("sign: missing --key KEY, the secret key file")
			}
			if push != isOCIArg(a[0]) || push && detach {
				return usageErrorf("sign: --push signs a package in a registry, oci://REGISTRY/REPO:VERSION, and --detach or neither a file")
			}
			key, err := loadSecretKey(keyPath)
			if err != nil {
				return err
			}
			if push {
				return e.signPush(cmd.Context(), a[0], key, plainHTTP, timeout)
			}
			path := a[0]
			data, mode, err := readPackageFile(path)
			if err != nil {
				return withCode(packageExitCode(err), fmt.Errorf("sign %s: %w", path, err))
			}
			pkg, err := vitplug.Open(bytes.NewReader(data), int64(len(data)), vitplug.Limits{})
			if err != nil {
				return withCode(packageExitCode(err), fmt.Errorf("sign %s: %w", path, err))
			}
			sig, err := trust.Sign(pkg, key, time.Now())
			if err != nil {
				return withCode(ExitError, err)
			}
			out := path + ".minisig"
			if detach {
				if err := writeAtomic(out, 0o644, func(w io.Writer) error { _, err := w.Write(sig); return err }); err != nil {
					return withCode(ExitError, fmt.Errorf("sign %s: %w", path, err))
				}
				fmt.Fprintln(e.stdout, out)
				return nil
			}
			// A link is followed: the package it points to gets the
			// signature, and the link stays a link.
			out = path
			if real, err := filepath.EvalSymlinks(path); err == nil {
				out = real
			}
			err = writeAtomic(out, mode, func(w io.Writer) error {
				var b bytes.Buffer
				if err := vitplug.AddSignature(bytes.NewReader(data), int64(len(data)), &b, trust.KeyID(key.ID()), sig, vitplug.Limits{}); err != nil {
					return err
				}
				// The spec's promise, checked before the rename: a signature
				// never changes the content id.
				signed, err := vitplug.Open(bytes.NewReader(b.Bytes()), int64(b.Len()), vitplug.Limits{})
				if err != nil {
					return err
				}
				if signed.ContentID() != pkg.ContentID() {
					return fmt.Errorf("the content id changed from %s to %s", pkg.ContentID(), signed.ContentID())
				}
				_, err = w.Write(b.Bytes())
				return err
			})
			if err != nil {
				return withCode(ExitError, fmt.Errorf("sign %s: %w", path, err))
			}
			fmt.Fprintln(e.stdout, path)
			return nil
		},
	}
	c.Flags().StringVar(&keyPath, "key", "", "sign with the secret key `FILE` (vitte.key, or a minisign .key)")
	c.Flags().BoolVar(&detach, "detach", false, "write the signature to <file.vitplug>.minisig instead of embedding it")
	c.Flags().BoolVar(&push, "push", false, "sign the package oci://REGISTRY/REPO:VERSION and push the signature next to it")
	registerTransferFlags(c, &plainHTTP, &timeout)
	return c
}

// signPush is sign --push: pull arg, sign it, push the signature.
func (e *env) signPush(ctx context.Context, arg string, key minisign.PrivateKey, plainHTTP bool, timeout time.Duration) error {
	ref, constraint, err := parseOCIArg(arg)
	if err != nil {
		return err
	}
	if constraint != "" || ref.Tag == "" && ref.Digest == "" {
		return usageErrorf("sign --push %s: name one version, :VERSION or @sha256:DIGEST", arg)
	}
	client, err := e.ociClient(plainHTTP)
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx, timeout)
	defer cancel()
	p, err := client.Pull(ctx, ref)
	if err != nil {
		return ociError(err, ref)
	}
	pkg, err := vitplug.OpenFile(p.Path, vitplug.Limits{})
	if err != nil {
		return withCode(packageExitCode(err), fmt.Errorf("sign %s: %w", p.Ref, err))
	}
	sig, err := trust.Sign(pkg, key, time.Now())
	if err != nil {
		return withCode(ExitError, err)
	}
	d, err := client.PushSignature(ctx, p.Ref, sig)
	if err != nil {
		return ociError(err, ref)
	}
	fmt.Fprintf(e.stderr, "signed %s %s (%s) with key %s\n", p.Info.Name, p.Info.Version, p.Ref, trust.KeyID(key.ID()))
	fmt.Fprintln(e.stdout, p.Ref.Repo().WithDigest(d.Digest))
	return nil
}

// loadSecretKey reads the secret key file path, asking for its passphrase
// when it is encrypted.
func loadSecretKey(path string) (minisign.PrivateKey, error) {
	text, err := boundedfile.Read(path, maxKeyFile)
	if err != nil {
		return minisign.PrivateKey{}, withCode(ExitError, fmt.Errorf("read secret key: %w", err))
	}
	var password []byte
	if trust.IsEncrypted(text) {
		if password, err = keyPassphrase(path); err != nil {
			return minisign.PrivateKey{}, err
		}
	}
	key, err := trust.ParseSecretKey(text, password)
	if err != nil {
		return minisign.PrivateKey{}, withCode(ExitError, fmt.Errorf("%s: %w", path, err))
	}
	return key, nil
}

// maxKeyFile bounds the key files read: trust.ParsePublicKey and
// trust.ParseSecretKey refuse more.
const maxKeyFile = 4096

// readPackageFile reads the package file path whole, with its mode. It
// must be a regular file of at most the largest package size (a larger one
// wraps vitplug.ErrTooLarge).
func readPackageFile(path string) ([]byte, os.FileMode, error) {
	data, fi, err := boundedfile.ReadStat(path, vitplug.DefaultMaxSize)
	if errors.Is(err, boundedfile.ErrTooLarge) {
		return nil, 0, fmt.Errorf("%w: %w", vitplug.ErrTooLarge, err)
	}
	if err != nil {
		return nil, 0, err
	}
	return data, fi.Mode().Perm(), nil
}

// writeAtomic writes path through a temporary file in its folder, synced,
// with mode perm, then renamed into place: path is either what it was or
// all that write wrote.
func writeAtomic(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// packageExitCode is ExitVerify for a package that fails its checks
// (integrity, format) and ExitError for anything else (I/O).
func packageExitCode(err error) int {
	for _, s := range []error{vitplug.ErrCorrupt, vitplug.ErrUnsafePath, vitplug.ErrDuplicate, vitplug.ErrNotRegular,
		vitplug.ErrCompression, vitplug.ErrEncrypted, vitplug.ErrTooLarge, vitplug.ErrRatio, vitplug.ErrChecksums,
		vitplug.ErrManifest, vitplug.ErrModule, vitplug.ErrReserved} {
		if errors.Is(err, s) {
			return ExitVerify
		}
	}
	return ExitError
}
