package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/registry"
)

// newReleaseCmd is `vitte plugin release`.
func newReleaseCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "release <name>",
		Short: "Lift the quarantine of an installed plugin",
		Long: `Release clears the quarantine that a host recorded in the registry for
the installed plugin <name> (see 'vitte plugin list'). A host that follows
the registry (an application using package watch, or 'vitte plugin dev
<name>') sees the change and lets calls reach the plugin again.

A host quarantines a plugin after repeated traps or timeouts. Release it
once the cause is fixed (the data it choked on, a host function it
needed); installing a fixed version releases it too.

Exit status: 0 released or not quarantined, 1 not installed or the
registry could not be written.`,
		Example: `  vitte plugin list
  vitte plugin release hello`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			name := a[0]
			reg, err := openRegistry()
			if err != nil {
				return err
			}
			ent, _ := reg.Get(name)
			released, err := reg.Release(name)
			if errors.Is(err, registry.ErrNotFound) {
				return withCode(ExitError, err, "run 'vitte plugin list' to see the installed plugins")
			}
			if err != nil {
				return withCode(ExitError, err)
			}
			if !released {
				warnf(e.stderr, "plugin %q is not quarantined", name)
				return nil
			}
			fmt.Fprintf(e.stdout, "released %s %s\n", ent.Name, ent.Version)
			return nil
		},
	}
	return c
}
