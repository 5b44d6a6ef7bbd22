package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

func newVerifyCmd(e *env) *cobra.Command {
	var gf grantFlags
	c := &cobra.Command{
		Use:   "verify <dir | file.vitplug | name>",
		Short: "Check a plugin's integrity, signatures, manifest, module and ABI contract",
		Long: `Verify checks a plugin without running it and prints each check with its
result:

  - for a package (file.vitplug) or an installed plugin (name): integrity
    (CHECKSUMS against every file) and signatures, embedded and detached
    (file.vitplug.minisig), against the trust policy (--policy FILE, default
    $XDG_CONFIG_HOME/vitte/trust.toml);
  - for every plugin: plugin.toml is valid (manifest v1), the module is valid
    WebAssembly and fits the memory limit, its exports and imports meet the
    plugin ABI v1, and it imports nothing its manifest did not request.

It exits 0 when every check passes, or 3 with every failure listed on stderr.
A plugin folder (a plugin under development) has no signatures to check.`,
		Example: `  vitte plugin verify testdata/wasm/hello-c
  vitte plugin verify --policy trust.toml hello-c-0.1.0.vitplug
  vitte plugin verify hello-c          # an installed plugin`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			path := a[0]
			var failures []error
			switch name, installed := installedName(path); {
			case installed:
				reg, err := openRegistry()
				if err != nil {
					return err
				}
				ent, ok := reg.Get(name)
				if !ok {
					return withCode(ExitError, fmt.Errorf("verify plugin %q: %w", name, registry.ErrNotFound))
				}
				path = filepath.Join(reg.Dir(), ent.StorePath())
				if err := verifyPackage(e, path, gf.policy, gf.allowUnsigned); err != nil {
					failures = append(failures, err)
				}
			case runtime.IsPackage(path):
				if err := verifyPackage(e, path, gf.policy, gf.allowUnsigned); err != nil {
					var ee *exitError
					if errors.As(err, &ee) && ee.code != ExitVerify {
						return err // not a verification failure: unreadable, usage
					}
					failures = append(failures, err)
				}
			}
			rt, err := e.runtime(ctx, true)
			if err != nil {
				return classify(err)
			}
			defer rt.Close(ctx)
			ins, err := rt.Verify(ctx, path)
			if err != nil {
				lines := problemLines(err)
				for _, l := range lines {
					fmt.Fprintf(e.stdout, "FAIL %s\n", l)
				}
				failures = append(failures, withCode(ExitVerify, fmt.Errorf("verification of %s failed: %d problem(s) in the manifest, module or ABI contract", a[0], len(lines))))
			} else {
				m := ins.Manifest
				fmt.Fprintf(e.stdout, "ok   %s %s: manifest, module (%d bytes), ABI v1 contract (%d handlers), imports within requested capabilities\n",
					m.Plugin.Name, m.Plugin.Version, ins.ModuleSize, len(ins.Contract.Handlers))
			}
			switch len(failures) {
			case 0:
				return nil
			case 1:
				return failures[0]
			}
			return withCode(ExitVerify, errors.Join(failures...))
		},
	}
	gf.registerTrust(c.Flags())
	return c
}
