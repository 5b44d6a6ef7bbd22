package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/adapters/python"
	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// newRuntimeCmd is `vitte plugin runtime`: the language runtimes that some
// plugin kinds need (today: the Python interpreter of kind "python").
func newRuntimeCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "runtime",
		Short: "Build or locate the language runtimes of interpreted plugin kinds",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usageErrorf("missing command: run 'vitte plugin runtime --help'")
		},
	}
	c.AddCommand(newRuntimeInstallCmd(e), newRuntimePathCmd(e))
	return c
}

func runtimeDir(name string) (string, error) {
	if name != "python" {
		return "", usageErrorf("unknown runtime %q: the only one is python", name)
	}
	dir, err := python.DefaultDir()
	if err != nil {
		return "", withCode(ExitError, err)
	}
	return dir, nil
}

func newRuntimeInstallCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "install python",
		Short: "Build the Python interpreter that runs plugins of kind \"python\"",
		Long: `Install builds CPython ` + python.CPythonVersion + ` for wasm32-wasi from Debian's source
package (` + python.SourcePackage + `) with Debian's clang-16, and keeps it in the
user cache dir (or $` + python.EnvDir + `), where the runtime finds it. It takes
2 to 3 minutes; when the interpreter for this version of vitte is already
there it does nothing. It needs Debian 12 (apt-get) and, when a compiler
package or the deb-src index is missing, root.`,
		Example: `  sudo vitte plugin runtime install python
  VITTE_PYTHON_DIR=/opt/vitte-python vitte plugin runtime install python`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			dir, err := runtimeDir(a[0])
			if err != nil {
				return err
			}
			if _, err := python.Find(dir); err == nil {
				fmt.Fprintf(e.stdout, "python: already installed in %s\n", dir)
				return nil
			}
			if err := python.Build(cmd.Context(), dir, e.stderr); err != nil {
				return withCode(ExitError, err)
			}
			fmt.Fprintf(e.stdout, "python: installed in %s\n", dir)
			return nil
		},
	}
}

func newRuntimePathCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "path python",
		Short: "Print the folder of the Python interpreter; fail if it is not built",
		Args:  args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			dir, err := runtimeDir(a[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, dir)
			if _, err := python.Find(dir); err != nil {
				return withCode(ExitError, err)
			}
			b, err := boundedfile.Read(filepath.Join(dir, python.ModuleFile), runtime.DefaultMaxModuleSize)
			if err != nil {
				return withCode(ExitError, err)
			}
			info, err := python.ModuleInfo(b)
			if err != nil {
				return withCode(ExitError, err)
			}
			for _, kv := range info {
				fmt.Fprintf(e.stdout, "  %s: %s\n", kv.Key, kv.Value)
			}
			return nil
		},
	}
}
