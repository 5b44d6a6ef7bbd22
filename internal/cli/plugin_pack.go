package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

func newPackCmd(e *env) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "pack [dir]",
		Short: "Pack a plugin folder into a .vitplug package",
		Long: `Pack writes the plugin in [dir] (default: the current folder) as a .vitplug
package: plugin.toml, the module it names and every file under files/, with
the _vitte/CHECKSUMS index that signatures sign. Everything else in the
folder (sources, build files) is left out. Packing is reproducible: the same
files give the same bytes. The package is written atomically.

It prints the package's path and content id.`,
		Example: `  vitte plugin pack testdata/wasm/hello-c -o hello-c-0.1.0.vitplug
  vitte plugin pack            # writes <name>-<version>.vitplug here`,
		Args: args(0, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			dir := "."
			if len(a) == 1 {
				dir = a[0]
			}
			if out == "" {
				m, err := readManifest(dir)
				if err != nil {
					return withCode(ExitError, err)
				}
				out = fmt.Sprintf("%s-%s.vitplug", m.Plugin.Name, m.Plugin.Version)
			}
			pkg, err := vitplug.PackFile(dir, out, vitplug.Limits{})
			if err != nil {
				return withCode(ExitError, fmt.Errorf("pack %s: %w", dir, err))
			}
			fmt.Fprintf(e.stdout, "%s %s\n", out, pkg.ContentID())
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write the package to `file` (default <name>-<version>.vitplug)")
	return c
}

// readManifest reads and validates dir/plugin.toml.
func readManifest(dir string) (*manifest.Manifest, error) {
	data, err := readLimited(filepath.Join(dir, manifest.FileName), nil)
	if err != nil {
		return nil, err
	}
	return manifest.Parse(filepath.Join(dir, manifest.FileName), data)
}
