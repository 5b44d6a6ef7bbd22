package cli

import (
	"io"
	"os"

	"github.com/spf13/cobra"
)

// maxInput bounds the input read from a file or stdin.
const maxInput = 1 << 30

func newCallCmd(e *env) *cobra.Command {
	var (
		configs   []string
		inputFile string
	)
	c := &cobra.Command{
		Use:   "call <dir> <handler> [input | -]",
		Short: "Call one handler of a plugin and print its output",
		Long: `Call loads the plugin in <dir>, calls <handler> with the input, writes the
raw output bytes on stdout, then unloads the plugin.

The input is the third argument, or the contents of --input-file, or
standard input when the third argument is "-". With none of them the input
is empty. An error result from the plugin is printed on stderr and the exit
status is 1.`,
		Example: `  vitte plugin call testdata/wasm/hello-c greet world
  echo -n hi | vitte plugin call testdata/wasm/hello-c echo -
  vitte plugin call --input-file big.json ./myplugin transform > out.json`,
		Args: args(2, 3),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			var input []byte
			switch {
			case inputFile != "" && len(a) == 3:
				return usageErrorf("give the input as an argument or with --input-file, not both")
			case inputFile != "":
				b, err := readLimited(inputFile, nil)
				if err != nil {
					return withCode(ExitError, err)
				}
				input = b
			case len(a) == 3 && a[2] == "-":
				b, err := readLimited("standard input", e.stdin)
				if err != nil {
					return withCode(ExitError, err)
				}
				input = b
			case len(a) == 3:
				input = []byte(a[2])
			}
			lc, err := loadConfig(configs)
			if err != nil {
				return err
			}
			rt, err := e.runtime(ctx, true)
			if err != nil {
				return classify(err)
			}
			defer rt.Close(ctx)
			p, err := rt.LoadWithConfig(ctx, a[0], lc)
			if err != nil {
				return classify(err)
			}
			defer p.Close(ctx)
			out, err := p.Call(ctx, a[1], input)
			if err != nil {
				return classify(err)
			}
			if _, err := e.stdout.Write(out); err != nil {
				return withCode(ExitError, err)
			}
			return classify(p.Close(ctx))
		},
	}
	c.Flags().StringArrayVar(&configs, "config", nil, "override a [config] value, as `key=value` (repeatable)")
	c.Flags().StringVar(&inputFile, "input-file", "", "read the input from `file`")
	return c
}

// readLimited reads a file (r nil) or r, up to maxInput bytes.
func readLimited(name string, r io.Reader) ([]byte, error) {
	if r == nil {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxInput {
		return nil, usageErrorf("input from %s is over %d bytes", name, maxInput)
	}
	return b, nil
}
