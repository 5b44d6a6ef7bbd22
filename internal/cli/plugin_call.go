package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// maxInput bounds the input read from a file or stdin.
const maxInput = 1 << 30

func newCallCmd(e *env) *cobra.Command {
	var (
		configs   []string
		inputFile string
		stats     bool
		profile   string
		gf        grantFlags
	)
	c := &cobra.Command{
		Use:   "call <dir | file.vitplug | name> <handler> [input | -]",
		Short: "Call one handler of a plugin and print its output",
		Long: `Call loads the plugin in <dir>, calls <handler> with the input, writes the
raw output bytes on stdout, then unloads the plugin.

The input is the third argument, or the contents of --input-file, or
standard input when the third argument is "-". With none of them the input
is empty. An error result from the plugin is printed on stderr and the exit
status is 1.

Grants work as for load (see vitte plugin load --help): the plugin gets
what plugin.toml requests AND the --allow-* flags grant. A call that fails
after a denied access exits with status 4.

With --stats, a line on stderr gives the fuel the call used (the metered
cost of the guest code it ran: deterministic, the unit of limits.fuel) and
its wall-clock time.

With --profile, the guest code the call runs is profiled into a file that
go tool pprof reads: its stack is sampled each time the call has used a
quantum of fuel (about a millisecond of guest code), weighted by the fuel
used, named from the module's name section. Functions that neither loop
nor call one that does are folded into their caller. The profile is
written whatever the call's outcome; it needs --engine wazero.`,
		Example: `  vitte plugin call testdata/wasm/hello-c greet world
  echo -n hi | vitte plugin call testdata/wasm/hello-c echo -
  vitte plugin call --input-file big.json ./myplugin transform > out.json
  vitte plugin call --profile cpu.pprof --input-file big.json ./myplugin transform && go tool pprof -top cpu.pprof`,
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
			var pf *os.File
			if profile != "" {
				if eng, err := runtime.ParseEngine(e.engine); err == nil && eng != runtime.EngineWazero {
					return usageErrorf("--profile needs --engine wazero (the %s engine gives no guest stack to sample)", eng)
				}
				f, err := os.Create(profile)
				if err != nil {
					return withCode(ExitError, fmt.Errorf("--profile: %w", err))
				}
				pf = f
				e.profile = runtime.NewProfile()
			}
			s, err := e.open(ctx, a[0], &gf, configs, true)
			if err != nil {
				return errors.Join(err, closeProfile(pf, nil))
			}
			start := time.Now()
			out, err := s.p.Call(ctx, a[1], input)
			if stats {
				fmt.Fprintf(e.stderr, "stats: fuel %d, time %s\n", s.p.Stats().Fuel, time.Since(start).Round(time.Microsecond))
			}
			if perr := closeProfile(pf, e.profile); perr != nil {
				return errors.Join(withCode(ExitError, perr), classify(err), s.close(ctx))
			}
			if err != nil {
				return errors.Join(classify(err), s.close(ctx))
			}
			if _, err := e.stdout.Write(out); err != nil {
				return errors.Join(withCode(ExitError, err), s.close(ctx))
			}
			return classify(s.close(ctx))
		},
	}
	c.Flags().StringArrayVar(&configs, "config", nil, "override a [config] value, as `key=value` (repeatable)")
	c.Flags().StringVar(&inputFile, "input-file", "", "read the input from `file`")
	c.Flags().BoolVar(&stats, "stats", false, "print the call's fuel and time on stderr")
	c.Flags().StringVar(&profile, "profile", "", "write a profile of the guest's functions to `file`, for go tool pprof (wazero engine)")
	gf.register(c.Flags())
	gf.registerTrust(c.Flags())
	return c
}

// closeProfile writes p, if any, into f and closes f; with f nil it does
// nothing. A profile that cannot be written is removed.
func closeProfile(f *os.File, p *runtime.Profile) error {
	if f == nil {
		return nil
	}
	var err error
	if p != nil {
		_, err = p.WriteTo(f)
	}
	err = errors.Join(err, f.Close())
	if err != nil || p == nil {
		os.Remove(f.Name())
	}
	if err != nil {
		return fmt.Errorf("write profile %s: %w", f.Name(), err)
	}
	return nil
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
