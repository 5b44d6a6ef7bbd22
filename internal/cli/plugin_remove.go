package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/registry"
)

// newRemoveCmd is `vitte plugin remove`.
func newRemoveCmd(e *env) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "remove <name>",
		Short: "Remove a plugin from the local registry",
		Long: `Remove uninstalls the plugin <name> from the registry ($VITTE_HOME,
default ~/.vitte): its entry and its stored package. It refuses when
another installed plugin depends on it, unless --force, after which the
plugins that depend on it no longer load until it is installed again.`,
		Example: `  vitte plugin remove hello
  vitte plugin remove --force base-utils`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			reg, err := openRegistry()
			if err != nil {
				return err
			}
			var removed *registry.Entry
			reg.Subscribe(func(ev registry.Event) {
				if ev.Kind == registry.EventRemoved {
					removed = &ev.Entry
				}
			})
			if err := reg.Remove(a[0], force); err != nil {
				switch {
				case errors.Is(err, registry.ErrNotFound):
					return withCode(ExitError, err, "run 'vitte plugin list' to see the installed plugins")
				case errors.Is(err, registry.ErrInUse):
					return withCode(ExitError, err, "remove the plugins that depend on it first, or pass --force")
				}
				return withCode(ExitError, err)
			}
			if removed != nil {
				fmt.Fprintf(e.stdout, "removed %s %s\n", removed.Name, removed.Version)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "remove it even if other installed plugins depend on it")
	return c
}
