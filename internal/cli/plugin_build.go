package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte"
)

// newBuildCmd is `vitte plugin build`: the Vitte compiler (adapters/vitte).
func newBuildCmd(e *env) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "build <file.vit>",
		Short: "Compile a Vitte plugin to a plugin folder",
		Long: `Build compiles the Vitte source <file.vit> to a WebAssembly module that
follows the plugin ABI v1, and writes the plugin folder: <name>.wasm and
plugin.toml, the name and version coming from the source's
#[plugin(name = "...", version = "...")] attribute. Each file is written to
a temporary file first, then renamed into place.

The folder is -o DIR, or by default a folder named after the plugin next to
the source (hello.vit with name = "hello" gives ./hello). Build then checks
the folder as 'vitte plugin verify' does, and prints its path on stdout.

Every compile error of the file is printed on stderr, as
file:line:column: message, with the source line and a caret under the
column; the exit status is then 1. The language is described in
docs/vitte.md.

Exit status: 0 built, 1 compile or write error, 2 usage error, 3 the
module failed verification (a compiler bug: please report it).`,
		Example: `  vitte plugin build hello.vit
  vitte plugin load $(vitte plugin build hello.vit)
  vitte plugin build -o testdata/wasm/hello-vitte testdata/wasm/hello-vitte/hello.vit`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			out, written, err := vitte.BuildFile(a[0], dir)
			if err != nil {
				var ce *vitte.Error
				if errors.As(err, &ce) {
					for _, d := range ce.Diagnostics {
						fmt.Fprintf(e.stderr, "vitte: error: %s\n", d.Format())
					}
					return withCode(ExitError, fmt.Errorf("build %s: %d compile error(s)", a[0], len(ce.Diagnostics)),
						"the language the compiler accepts is described in docs/vitte.md")
				}
				return withCode(ExitError, fmt.Errorf("build %s: %w", a[0], err))
			}
			rt, err := e.runtime(ctx, true)
			if err != nil {
				return classify(err)
			}
			defer rt.Close(ctx)
			if _, err := rt.Verify(ctx, written); err != nil {
				lines := problemLines(err)
				for _, l := range lines {
					fmt.Fprintf(e.stderr, "vitte: error: %s\n", l)
				}
				return withCode(ExitVerify, fmt.Errorf("build %s: the module of %s %s fails verification: %d problem(s)", a[0], out.Name, out.Version, len(lines)),
					"this is a bug of the Vitte compiler: please report it with the source file")
			}
			fmt.Fprintln(e.stdout, written)
			return nil
		},
	}
	c.Flags().StringVarP(&dir, "output", "o", "", "write the plugin folder to `DIR` (default: a folder named after the plugin, next to the source)")
	return c
}
