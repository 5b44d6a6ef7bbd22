package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/pelletier/go-toml/v2"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/oci"
	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// defaultTimeout bounds one push, pull or install from a registry.
const defaultTimeout = 10 * time.Minute

const transferHelp = `Registries: oci://REGISTRY/REPO is an OCI registry (Docker Hub, GHCR,
Harbor, zot, distribution, ...) and a repository in it; the layout of the
artifacts is docs/spec/package-v1.md, "Registry artifacts (OCI)".
Credentials come from VITTE_REGISTRY_USER and VITTE_REGISTRY_PASSWORD when
the first is set, otherwise from the Docker configuration
($DOCKER_CONFIG/config.json or ~/.docker/config.json, credential helpers
included: 'docker login REGISTRY' or 'oras login REGISTRY'). HTTPS is used,
except for a registry on this machine (localhost, 127.0.0.0/8, ::1), which
is spoken to in plain HTTP; --plain-http uses plain HTTP for any registry.
The whole transfer must end within --timeout. Pulled packages are kept in
the blob cache, $XDG_CACHE_HOME/vitte/oci (default ~/.cache/vitte/oci),
named by their digest, and only once checked. A progress bar shows on a
terminal.`

// registerTransferFlags adds --plain-http and --timeout to c.
func registerTransferFlags(c *cobra.Command, plainHTTP *bool, timeout *time.Duration) {
	c.Flags().BoolVar(plainHTTP, "plain-http", false, "talk plain HTTP to the registry even if it is not on this machine")
	c.Flags().DurationVar(timeout, "timeout", defaultTimeout, "give up on the registry after `DURATION` (0: never)")
}

// newPushCmd is `vitte plugin push`: a package to an OCI registry
// (oci.Client.Push).
func newPushCmd(e *env) *cobra.Command {
	var (
		force     bool
		plainHTTP bool
		timeout   time.Duration
	)
	c := &cobra.Command{
		Use:   "push <file.vitplug> oci://REGISTRY/REPO:VERSION",
		Short: "Push a plugin package to an OCI registry",
		Long: `Push pushes the package <file.vitplug> to an OCI registry under the tag
VERSION, which must be the package's version: a manifest of artifact type
application/vnd.vitte.plugin.v1 with the empty config and one layer, the
package's bytes, annotated with the plugin's name, version and content id.
Signatures embedded in the package travel inside it. A detached signature
next to it, <file.vitplug>.minisig, is pushed too, as a signature artifact
('vitte plugin sign --push' adds more later).

A version's content does not change: pushing other bytes under a tag that
exists is refused unless --force is given. Pushing the same package again
changes nothing.

It prints the reference pushed, with the manifest's digest, on stdout.

` + transferHelp + `

Exit status: 0 pushed, 1 registry or network error, 2 usage error (the tag
is not the version, a bad reference), 3 the package is invalid.`,
		Example: `  vitte plugin push hello-1.2.0.vitplug oci://ghcr.io/acme/plugins/hello:1.2.0
  vitte plugin push hello-1.2.0.vitplug oci://127.0.0.1:5000/hello:1.2.0
  VITTE_REGISTRY_USER=ci VITTE_REGISTRY_PASSWORD=... vitte plugin push --plain-http p.vitplug oci://registry.lan/p:0.1.0`,
		Args: args(2, 2),
		RunE: func(cmd *cobra.Command, a []string) error {
			path := a[0]
			ref, err := oci.ParseReference(a[1])
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if ref.Tag == "" || ref.Digest != "" {
				return usageErrorf("push: %s: want oci://REGISTRY/REPO:VERSION, VERSION being the package's version", a[1])
			}
			client, err := e.ociClient(plainHTTP)
			if err != nil {
				return err
			}
			ctx, cancel := withTimeout(cmd.Context(), timeout)
			defer cancel()
			d, err := client.Push(ctx, path, ref, oci.PushOptions{Force: force})
			if err != nil {
				if errors.Is(err, oci.ErrVersion) {
					return withCode(ExitUsage, err, "the tag is the version from plugin.toml, and a version's content does not change (--force moves a tag)")
				}
				return ociError(err, ref)
			}
			pushed := ref.WithDigest(d.Digest)
			sigs, err := detachedSignatures(path)
			if err != nil {
				return withCode(ExitError, err)
			}
			for _, s := range sigs {
				if _, err := client.PushSignature(ctx, pushed, s); err != nil {
					return ociError(err, ref)
				}
				fmt.Fprintf(e.stderr, "pushed the signature %s.minisig\n", path)
			}
			fmt.Fprintln(e.stdout, pushed)
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "move the tag if it names another package already")
	registerTransferFlags(c, &plainHTTP, &timeout)
	return c
}

// newPullCmd is `vitte plugin pull`: a package from an OCI registry
// (oci.Client.Pull).
func newPullCmd(e *env) *cobra.Command {
	var (
		out       string
		plainHTTP bool
		timeout   time.Duration
	)
	c := &cobra.Command{
		Use:   "pull <oci://REGISTRY/REPO[:VERSION|@sha256:DIGEST|@CONSTRAINT] | NAME@CONSTRAINT> [-o file]",
		Short: "Pull a plugin package from an OCI registry",
		Long: `Pull fetches a plugin package from an OCI registry and writes it to
<name>-<version>.vitplug in the current folder, or to -o FILE. It prints the
path written on stdout.

Which version: :VERSION names a tag (a semantic version, which must be the
package's), @sha256:DIGEST a manifest. @CONSTRAINT (such as @^1.2, @~1.2.3,
@'>=1.0, <2') or no version at all picks the highest version among the
repository's tags that the constraint accepts; pre-releases only when the
constraint names one.

NAME@CONSTRAINT is short for oci://DEFAULT/NAME@CONSTRAINT. DEFAULT, the
default registry, is $VITTE_REGISTRY, or else registry.default in the file
$XDG_CONFIG_HOME/vitte/config.toml (default ~/.config/vitte/config.toml):

  [registry]
  default = "oci://ghcr.io/acme/plugins"

Everything the registry sends is checked before it is kept: the manifest
(its size, digest, artifact type, the one layer), the package blob (its
size and digest, streamed to a temporary file), then the package itself
(vitplug's checks, and its name, version and content id against the
manifest). Signatures are not checked here: 'vitte plugin install'
fetches them and checks them against the trust policy.

` + transferHelp + `

Exit status: 0 pulled, 1 registry or network error (401, 404, 500, a
timeout), 2 usage error, 3 what the registry sent failed a check.`,
		Example: `  vitte plugin pull oci://ghcr.io/acme/plugins/hello:1.2.0
  vitte plugin pull oci://ghcr.io/acme/plugins/hello@^1.2 -o hello.vitplug
  vitte plugin pull oci://127.0.0.1:5000/hello@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
  VITTE_REGISTRY=oci://ghcr.io/acme/plugins vitte plugin pull hello@^1`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			client, err := e.ociClient(plainHTTP)
			if err != nil {
				return err
			}
			ctx, cancel := withTimeout(cmd.Context(), timeout)
			defer cancel()
			p, err := e.pullArg(ctx, client, a[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = fmt.Sprintf("%s-%s.vitplug", p.Info.Name, p.Info.Version)
			}
			if err := copyFileAtomic(p.Path, out); err != nil {
				return withCode(ExitError, fmt.Errorf("pull %s: write %s: %w", p.Ref, out, err))
			}
			fmt.Fprintf(e.stderr, "pulled %s %s %s (%s)\n", p.Info.Name, p.Info.Version, p.Info.ContentID, p.Ref)
			fmt.Fprintln(e.stdout, out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write the package to `FILE`")
	registerTransferFlags(c, &plainHTTP, &timeout)
	return c
}

// installOCI is install for a package in an OCI registry: pulled and
// checked, its signatures fetched, then installFile with them.
func (e *env) installOCI(ctx context.Context, arg string, grants registry.GrantRecord, o *installOpts) error {
	client, err := e.ociClient(o.plainHTTP)
	if err != nil {
		return err
	}
	// --timeout bounds the transfers, not the confirmation that follows.
	netCtx, cancel := withTimeout(ctx, o.timeout)
	defer cancel()
	p, err := e.pullArg(netCtx, client, arg)
	if err != nil {
		return err
	}
	sigs, err := client.Signatures(netCtx, p.Ref, p.Manifest)
	if err != nil {
		return ociError(err, p.Ref)
	}
	cancel()
	// The trust policy matches oci://REGISTRY/REPO:VERSION; the digest is
	// what was checked.
	source := p.Ref.WithTag(p.Ref.Tag).String()
	fmt.Fprintf(e.stderr, "pulled %s (%s), %d signature(s) in the registry\n", source, p.Manifest.Digest, len(sigs))
	return e.installFile(ctx, p.Path, source, p.Ref.String(), grants, o, func(pkg *vitplug.Package, source string) ([]string, error) {
		return trustedSignersWith(pkg, source, sigs, o.policy, o.allowUnsigned)
	})
}

// nameConstraint is NAME@CONSTRAINT, a plugin in the default registry.
var nameConstraint = regexp.MustCompile(`^([a-z][a-z0-9-]*)@(.+)$`)

// isOCIArg reports whether arg names a package in a registry rather than
// a file: oci://..., or NAME@CONSTRAINT when no such file exists.
func isOCIArg(arg string) bool {
	if strings.HasPrefix(arg, oci.Scheme) {
		return true
	}
	if !nameConstraint.MatchString(arg) {
		return false
	}
	_, err := os.Stat(arg)
	return err != nil
}

// pullArg resolves arg (see pull's help) and pulls it.
func (e *env) pullArg(ctx context.Context, client *oci.Client, arg string) (*oci.Pulled, error) {
	ref, constraint, err := parseOCIArg(arg)
	if err != nil {
		return nil, err
	}
	if ref.Tag == "" && ref.Digest == "" {
		ref, err = client.Resolve(ctx, ref, constraint)
		if err != nil {
			return nil, ociError(err, ref)
		}
	}
	p, err := client.Pull(ctx, ref)
	if err != nil {
		return nil, ociError(err, ref)
	}
	return p, nil
}

// parseOCIArg parses oci://REGISTRY/REPO[:VERSION|@sha256:DIGEST|@CONSTRAINT]
// or NAME@CONSTRAINT (in the default registry).
func parseOCIArg(arg string) (oci.Reference, string, error) {
	constraint := ""
	s := arg
	if m := nameConstraint.FindStringSubmatch(arg); m != nil && !strings.HasPrefix(arg, oci.Scheme) {
		base, err := defaultRegistry()
		if err != nil {
			return oci.Reference{}, "", err
		}
		s, constraint = strings.TrimSuffix(base, "/")+"/"+m[1], m[2]
	} else if i := strings.LastIndexByte(arg, '@'); i >= 0 && !strings.HasPrefix(arg[i+1:], "sha256:") {
		s, constraint = arg[:i], arg[i+1:]
		if constraint == "" {
			return oci.Reference{}, "", usageErrorf("%s: empty version constraint after '@'", arg)
		}
	}
	ref, err := oci.ParseReference(s)
	if err != nil {
		return oci.Reference{}, "", withCode(ExitUsage, err, "want oci://REGISTRY/REPO[:VERSION|@sha256:DIGEST|@CONSTRAINT] or NAME@CONSTRAINT")
	}
	if ref.Tag != "" {
		if _, err := semver.StrictNewVersion(ref.Tag); err != nil {
			return oci.Reference{}, "", withCode(ExitUsage, fmt.Errorf("%s: the tag %q is not a semantic version", arg, ref.Tag),
				"tags are versions (MAJOR.MINOR.PATCH); for a range, use "+ref.Repo().String()+"@CONSTRAINT, as in @^1")
		}
	}
	if constraint != "" && (ref.Tag != "" || ref.Digest != "") {
		return oci.Reference{}, "", usageErrorf("%s: give a version, a digest or a constraint, not two", arg)
	}
	return ref, constraint, nil
}

// registryConfig is $XDG_CONFIG_HOME/vitte/config.toml, the part this
// command reads.
type registryConfig struct {
	Registry struct {
		Default string `toml:"default"`
	} `toml:"registry"`
}

// defaultRegistry returns the default registry: $VITTE_REGISTRY, or
// registry.default in $XDG_CONFIG_HOME/vitte/config.toml.
// maxConfigFile bounds config.toml: a few lines are expected.
const maxConfigFile = 1 << 20

func defaultRegistry() (string, error) {
	check := func(v, where string) (string, error) {
		if _, err := oci.ParseReference(strings.TrimSuffix(v, "/") + "/x"); err != nil {
			return "", withCode(ExitUsage, fmt.Errorf("default registry %q (%s): want oci://REGISTRY[/PATH]", v, where))
		}
		return v, nil
	}
	if v := os.Getenv("VITTE_REGISTRY"); v != "" {
		return check(v, "$VITTE_REGISTRY")
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", withCode(ExitUsage, fmt.Errorf("no default registry: %w", err))
	}
	path := filepath.Join(dir, "vitte", "config.toml")
	data, err := boundedfile.Read(path, maxConfigFile)
	if errors.Is(err, os.ErrNotExist) {
		return "", withCode(ExitUsage, errors.New("NAME@CONSTRAINT needs a default registry, and none is set"),
			"set VITTE_REGISTRY=oci://REGISTRY[/PATH], or registry.default in "+path+", or give oci://REGISTRY/REPO")
	}
	if err != nil {
		return "", withCode(ExitError, err)
	}
	var cfg registryConfig
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return "", withCode(ExitError, fmt.Errorf("%s: %w", path, err))
	}
	if cfg.Registry.Default == "" {
		return "", withCode(ExitUsage, fmt.Errorf("NAME@CONSTRAINT needs a default registry: %s has no registry.default", path))
	}
	return check(cfg.Registry.Default, path)
}

// ociClient returns a client with the user's cache and credentials, and a
// progress bar when stderr is a terminal.
func (e *env) ociClient(plainHTTP bool) (*oci.Client, error) {
	cache, err := oci.DefaultCacheDir()
	if err != nil {
		return nil, withCode(ExitError, err, "set $XDG_CACHE_HOME")
	}
	creds, err := oci.DefaultCredentials()
	if err != nil {
		return nil, withCode(ExitError, err, "fix the Docker configuration, or set VITTE_REGISTRY_USER and VITTE_REGISTRY_PASSWORD")
	}
	return oci.NewClient(oci.Options{Cache: cache, PlainHTTP: plainHTTP, Credentials: creds, Progress: e.progress()}), nil
}

// progress returns a progress bar maker for stderr when it is a terminal,
// nil otherwise.
func (e *env) progress() func(label string, size int64) io.WriteCloser {
	f, ok := e.stderr.(*os.File)
	if !ok || !isTerminal(f) {
		return nil
	}
	return func(label string, size int64) io.WriteCloser {
		return &bar{w: f, size: size, ProgressBar: progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(f) }),
		)}
	}
}

// bar is a progress bar that ends at 100% only if the transfer did.
type bar struct {
	*progressbar.ProgressBar
	w       io.Writer
	size, n int64
}

func (b *bar) Write(p []byte) (int, error) {
	b.n += int64(len(p))
	return b.ProgressBar.Write(p)
}

func (b *bar) Close() error {
	if b.n == b.size {
		return b.ProgressBar.Close()
	}
	err := b.ProgressBar.Exit()
	fmt.Fprintln(b.w)
	return err
}

func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// ociError gives an error of package oci its exit code and hints.
func ociError(err error, ref oci.Reference) error {
	switch {
	case errors.Is(err, oci.ErrReference):
		return withCode(ExitUsage, err)
	case errors.Is(err, oci.ErrArtifactType), errors.Is(err, oci.ErrManifest), errors.Is(err, oci.ErrDigest),
		errors.Is(err, oci.ErrTooLarge), errors.Is(err, oci.ErrPackage):
		return withCode(ExitVerify, err, "what the registry sent was refused; nothing was kept")
	case errors.Is(err, oci.ErrVersion):
		return withCode(ExitVerify, err, "tags are versions: list them with a constraint, as in "+ref.Repo().String()+"@^1")
	case errors.Is(err, oci.ErrUnauthorized):
		return withCode(ExitError, err, "log in with 'docker login "+ref.Registry+"', or set VITTE_REGISTRY_USER and VITTE_REGISTRY_PASSWORD")
	case errors.Is(err, context.DeadlineExceeded):
		return withCode(ExitError, err, "the registry did not finish within --timeout")
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return withCode(ExitError, err, "the registry speaks plain HTTP: pass --plain-http if you trust the network to it")
	}
	return withCode(ExitError, err)
}

// copyFileAtomic copies the file src to dst through a temporary file.
func copyFileAtomic(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return writeAtomic(dst, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	})
}
