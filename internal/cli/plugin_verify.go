package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newVerifyCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "verify <dir>",
		Short: "Check a plugin's manifest, module and ABI contract",
		Long: `Verify checks the plugin in <dir> without running it: plugin.toml is valid
(manifest v1), the module is valid WebAssembly and fits the memory limit,
its exports and imports meet the plugin ABI v1, and it imports nothing its
manifest did not request. It prints "ok" and exits 0, or lists every
problem on stderr and exits 3.`,
		Example: `  vitte plugin verify testdata/wasm/hello-c`,
		Args:    args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			rt, err := e.runtime(ctx, true)
			if err != nil {
				return classify(err)
			}
			defer rt.Close(ctx)
			ins, err := rt.Verify(ctx, a[0])
			if err != nil {
				lines := problemLines(err)
				for _, l := range lines {
					fmt.Fprintf(e.stderr, "vitte: error: %s\n", l)
				}
				return withCode(ExitVerify, fmt.Errorf("verification of %s failed: %d problem(s)", a[0], len(lines)))
			}
			m := ins.Manifest
			fmt.Fprintf(e.stdout, "ok %s %s: manifest, module (%d bytes), ABI v1 contract (%d handlers), imports within requested capabilities\n",
				m.Plugin.Name, m.Plugin.Version, ins.ModuleSize, len(ins.Contract.Handlers))
			return nil
		},
	}
	return c
}
