package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// newUnloadCmd is `vitte plugin unload`.
func newUnloadCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "unload <name>",
		Short: "Run an installed plugin's on-unload hook and disable it",
		Long: `Unload disables the installed plugin <name>, so that it is no longer
loaded with the others, and runs its on-unload hook: the plugin is loaded
from the registry's store with the grants recorded for it (_initialize,
on-load), then unloaded (on-unload). Its stdout and stderr go to stderr.

It refuses when an enabled plugin depends on it: unload that one first.
A failing hook is reported as a warning: the plugin stays disabled.
'vitte plugin load <name>' enables it again.`,
		Example: `  vitte plugin unload hello`,
		Args:    args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			name := a[0]
			// A bad --log-level is a usage error before anything changes.
			if _, err := e.logger(); err != nil {
				return err
			}
			reg, err := openRegistry()
			if err != nil {
				return err
			}
			ent, ok := reg.Get(name)
			if !ok {
				return withCode(ExitError, fmt.Errorf("unload plugin %q: %w", name, registry.ErrNotFound),
					"run 'vitte plugin list' to see the installed plugins")
			}
			if !ent.Enabled {
				warnf(e.stderr, "plugin %q is disabled already", name)
				return nil
			}
			if err := reg.SetEnabled(name, false); err != nil {
				if errors.Is(err, registry.ErrInUse) {
					return withCode(ExitError, err, "unload the plugins that depend on it first")
				}
				return withCode(ExitError, err)
			}
			ent, _ = reg.Get(name)
			if err := runUnload(ctx, e, reg, ent); err != nil {
				warnf(e.stderr, "%v", err)
			}
			fmt.Fprintf(e.stdout, "disabled %s %s\n", ent.Name, ent.Version)
			return nil
		},
	}
	return c
}

// runUnload loads the installed plugin ent from the store with its
// recorded grants, then closes it: _initialize, on-load, on-unload.
func runUnload(ctx context.Context, e *env, reg *registry.Registry, ent registry.Entry) error {
	pkg, err := reg.Package(ent.Name)
	if err != nil {
		return err
	}
	rt, err := e.runtime(ctx, true)
	if err != nil {
		return err
	}
	p, err := rt.LoadPackage(ctx, pkg, runtime.NewLoadConfig().WithGrants(ent.Grants.Grants()))
	if err != nil {
		return errors.Join(err, rt.Close(ctx))
	}
	return errors.Join(p.Close(ctx), rt.Close(ctx))
}
