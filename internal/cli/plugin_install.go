package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// installVerifier checks a package's signatures against the trust policy
// (trust.Verify, through trustedSigners) and returns its signers. Tests may
// replace it.
var installVerifier = trustedSigners

// newInstallCmd is `vitte plugin install`: the local registry
// (registry.Registry.Install).
func newInstallCmd(e *env) *cobra.Command {
	var o installOpts
	gf := &o.gf
	c := &cobra.Command{
		Use:   "install <file.vitplug | oci://REGISTRY/REPO[:VERSION|@sha256:DIGEST|@CONSTRAINT] | NAME@CONSTRAINT>",
		Short: "Install a plugin package in the local registry",
		Long: `Install checks the package <file.vitplug> (its integrity, then its
signatures against the trust policy), shows what the plugin requests and
what the --allow-* flags grant, asks for confirmation, and records the
plugin in the registry, enabled, with those grants. Its [dependencies]
must be installed already, in versions their constraints accept.

The registry is the folder $VITTE_HOME (default ~/.vitte). The grants
recorded are what 'vitte plugin load' gives the plugin later.

Confirmation is asked on the terminal; --yes answers yes, and is needed
when stdin is not a terminal.

Installing a plugin that is installed already updates it, without a
confirmation: the grants of the installed version are kept, and the
--allow-* flags add to them. If the new version requests more than they
cover (a new host, variable, directory or host call), the difference is
shown and must be approved: on the terminal, with --yes, or by granting it
with --allow-* flags. A new directory needs --allow-fs: only you know
which host folder it should be.

Unsigned packages are refused unless --insecure-allow-unsigned is given.

From an OCI registry: oci://REGISTRY/REPO:VERSION installs that version,
@sha256:DIGEST that manifest, @CONSTRAINT (such as @^1.2) or no version at
all the highest version the constraint accepts (pre-releases only when it
names one). NAME@CONSTRAINT is oci://DEFAULT/NAME@CONSTRAINT, DEFAULT
being the default registry: $VITTE_REGISTRY, or registry.default in
$XDG_CONFIG_HOME/vitte/config.toml (see 'vitte plugin pull --help'). The
package is pulled into the blob cache (checked: manifest layout, digest,
package), its signatures are fetched from the registry, and it is then
installed exactly as a local file is, the trust policy matching the
source oci://REGISTRY/REPO:VERSION. Credentials, --plain-http and
--timeout are as for pull.

Exit status: 0 installed (or installed already), 1 error, 2 usage error
or no confirmation, 3 the package failed verification, 4 the update's new
requests were not approved.`,
		Example: `  vitte plugin install hello-1.0.0.vitplug
  vitte plugin install --allow-net api.example.com --allow-env LANG --yes hello-1.1.0.vitplug
  VITTE_HOME=/srv/vitte vitte plugin install --policy trust.toml hello-1.0.0.vitplug
  vitte plugin install --yes oci://ghcr.io/acme/plugins/hello:1.2.0
  VITTE_REGISTRY=oci://ghcr.io/acme/plugins vitte plugin install hello@^1.2`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			if gf.audit != "" || gf.auditAllowed {
				return usageErrorf("--audit and --audit-allowed apply when a plugin runs, not to install")
			}
			grants, err := grantRecord(gf)
			if err != nil {
				return err
			}
			if isOCIArg(a[0]) {
				return e.installOCI(ctx, a[0], grants, &o)
			}
			path := a[0]
			abs, err := filepath.Abs(path)
			if err != nil {
				return withCode(ExitError, err)
			}
			return e.installFile(ctx, path, "file://"+filepath.ToSlash(abs), "", grants, &o, func(p *vitplug.Package, source string) ([]string, error) {
				return installVerifier(p, source, o.policy, o.allowUnsigned)
			})
		},
	}
	gf.register(c.Flags())
	_ = c.Flags().MarkHidden("audit")
	_ = c.Flags().MarkHidden("audit-allowed")
	c.Flags().BoolVarP(&o.yes, "yes", "y", false, "install without asking, and grant what an update newly requests")
	c.Flags().BoolVar(&o.allowUnsigned, "insecure-allow-unsigned", false, "install a package that has no trusted signature (integrity is still checked)")
	c.Flags().StringVar(&o.policy, "policy", "", "check signatures against the trust policy `FILE` (default: the user's trust.toml)")
	registerTransferFlags(c, &o.plainHTTP, &o.timeout)
	return c
}

// installOpts are the flags of install.
type installOpts struct {
	gf            grantFlags
	yes           bool
	allowUnsigned bool
	policy        string
	plainHTTP     bool
	timeout       time.Duration
}

// installFile installs the package file path, which comes from source
// (recorded, and matched by the trust policy) and is shown as origin when
// that is not path, through the registry's install with verify: shown,
// confirmed, verified, recorded. Local files and packages pulled from an
// OCI registry take this same path.
func (e *env) installFile(ctx context.Context, path, source, origin string, grants registry.GrantRecord, o *installOpts, verify func(*vitplug.Package, string) ([]string, error)) error {
	if origin == "" {
		origin = path
	}
	pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("install %s: %w", origin, err))
	}
	reg, err := openRegistry()
	if err != nil {
		return err
	}
	m := pkg.Manifest()
	old, update := reg.Get(m.Plugin.Name)
	if err := showInstall(e.stderr, pkg, source, grants, old, update); err != nil {
		return err
	}
	if o.gf.all {
		warnf(e.stderr, "--allow-all grants every net, host and env request of %q %s", m.Plugin.Name, m.Plugin.Version)
	}
	tty := isTerminal(e.stdin)
	in := bufio.NewReader(e.stdin)
	what := fmt.Sprintf("%q %s", m.Plugin.Name, m.Plugin.Version)
	// A first install is confirmed here. An update keeps grants the
	// user approved already: only what it requests beyond them needs
	// an approval (Confirm). If the plugin is removed meanwhile, the
	// install records the grants of the flags only, which the user
	// typed.
	if !update && !o.yes {
		if !tty {
			return withCode(ExitUsage, fmt.Errorf("install plugin %s: not confirmed: stdin is not a terminal", what),
				"pass --yes to install it with the grants shown above")
		}
		if !ask(e.stderr, in, fmt.Sprintf("install plugin %s with these grants?", what)) {
			return withCode(ExitError, fmt.Errorf("install plugin %s: cancelled", what))
		}
	}
	opts := registry.InstallOptions{
		Grants: grants,
		Source: source,
		Verify: func(p *vitplug.Package, source string) ([]string, error) {
			if p.ContentID() != pkg.ContentID() {
				return nil, fmt.Errorf("%s changed during the install", origin)
			}
			return verify(p, source)
		},
		Confirm: func(d registry.CapabilityDiff) bool {
			fmt.Fprintf(e.stderr, "%q %s requests more than %s was granted:\n", d.Name, d.Version, d.OldVersion)
			for _, it := range d.Items() {
				fmt.Fprintf(e.stderr, "  + %s\n", it)
			}
			if o.yes {
				return true
			}
			return tty && ask(e.stderr, in, "grant these too?")
		},
	}
	ent, err := reg.Install(ctx, path, opts)
	if err != nil {
		return installError(err)
	}
	if len(ent.Signers) == 0 {
		warnf(e.stderr, "plugin %s is not signed: installed because of --insecure-allow-unsigned", what)
	}
	verb := "installed"
	if update && old.SHA256 == ent.SHA256 && old.InstalledAt.Equal(ent.InstalledAt) {
		verb = "already installed"
	}
	fmt.Fprintf(e.stdout, "%s %s %s %s\n", verb, ent.Name, ent.Version, ent.ContentID)
	return nil
}

// showInstall prints what the plugin requests and what will be granted.
func showInstall(w io.Writer, pkg *vitplug.Package, source string, grants registry.GrantRecord, old registry.Entry, update bool) error {
	m := pkg.Manifest()
	fmt.Fprintf(w, "plugin %q %s (%s)\n", m.Plugin.Name, m.Plugin.Version, pkg.ContentID())
	fmt.Fprintf(w, "  from:        %s\n", source)
	fmt.Fprintf(w, "  requests:    %s\n", orNone(requestItems(m.Capabilities)))
	if update {
		fmt.Fprintf(w, "  replaces:    %s, granted: %s\n", old.Version, old.Grants)
		fmt.Fprintf(w, "  adds grants: %s\n", grants)
		return nil
	}
	set, err := capabilities.Resolve(m.Capabilities, grants.Grants())
	if err != nil {
		return withCode(ExitUsage, err)
	}
	fmt.Fprintf(w, "  grants:      %s\n", grants)
	fmt.Fprintf(w, "  not granted: %s\n", orNone(set.Denied))
	return nil
}

func requestItems(c manifest.Capabilities) []string {
	return registry.CapabilityDiff{FS: c.FS, Net: c.Net, Host: c.Host, Env: c.Env}.Items()
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

// installError gives an install error its exit code and hints.
func installError(err error) error {
	var ae *registry.ApprovalError
	switch {
	case errors.As(err, &ae):
		return withCode(ExitPermission, err,
			"grant them with "+strings.Join(grantFlagsFor(ae.Diff), " ")+", or pass --yes to grant what is requested")
	case errors.Is(err, registry.ErrVerify):
		return withCode(ExitVerify, err, "pass --insecure-allow-unsigned to install a package without a trusted signature, if you trust where it comes from")
	case errors.Is(err, registry.ErrDependency):
		return withCode(ExitError, err, "install the dependency first, in a version the constraint accepts")
	case errors.Is(err, registry.ErrConflict):
		return withCode(ExitError, err, "remove the installed plugin first ('vitte plugin remove') to install this one instead")
	}
	return withCode(ExitError, err)
}

// grantFlagsFor returns the grant flags that would cover d.
func grantFlagsFor(d registry.CapabilityDiff) []string {
	var out []string
	for _, f := range d.FS {
		out = append(out, fmt.Sprintf("--allow-fs %s=HOSTDIR:%s", f.Path, f.Mode))
	}
	for _, n := range d.Net {
		out = append(out, "--allow-net "+n)
	}
	for _, h := range d.Host {
		out = append(out, "--allow-host "+h)
	}
	for _, v := range d.Env {
		out = append(out, "--allow-env "+v)
	}
	return out
}

// grantRecord returns the grants of the flags in the form the registry
// records, after checking them as grants does.
func grantRecord(g *grantFlags) (registry.GrantRecord, error) {
	var rec registry.GrantRecord
	if _, err := g.grants(); err != nil {
		return rec, err
	}
	for _, f := range g.fs {
		guest, host, _ := strings.Cut(f, "=")
		mode := manifest.ReadOnly
		if h, m, ok := cutLast(host, ":"); ok && (m == "ro" || m == "rw") {
			host, mode = h, manifest.Mode(m)
		}
		abs, err := filepath.Abs(host)
		if err != nil {
			return rec, usageErrorf("--allow-fs %q: %v", f, err)
		}
		rec.FS = append(rec.FS, registry.FSGrant{Guest: guest, Host: abs, Mode: mode})
	}
	rec.Net = g.net
	rec.DenyNet = g.denyNet
	rec.Host = g.host
	rec.Env = g.env
	rec.All = g.all
	return rec, nil
}

// openRegistry opens the registry in $VITTE_HOME or ~/.vitte.
func openRegistry() (*registry.Registry, error) {
	dir, err := registry.DefaultDir()
	if err != nil {
		return nil, withCode(ExitError, err, "set $VITTE_HOME to the folder of the plugin registry")
	}
	reg, err := registry.Open(dir)
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	return reg, nil
}

// isTerminal reports whether r is a terminal (a character device).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// ask prints question on w and reads a yes or no from in; anything but
// y or yes, end of input included, is no.
func ask(w io.Writer, in *bufio.Reader, question string) bool {
	fmt.Fprintf(w, "%s [y/N] ", question)
	line, _ := in.ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
