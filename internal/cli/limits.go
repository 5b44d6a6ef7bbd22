package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// The command line's ceilings on a plugin's limits: a manifest asking more
// gets these, with a warning; --max-memory, --max-timeout and --max-output
// change them. See RATIONALE.md "What ceilings does the command line put on
// a plugin's limits?".
const (
	DefaultMaxMemory  = 512 * manifest.MiB // 8× the manifest default of 64MiB
	DefaultMaxTimeout = 5 * time.Minute    // 30× the manifest default of 10s
	DefaultMaxOutput  = 64 * manifest.MiB  // 4× the manifest default of 16MiB
)

// ceilingFlags are --max-memory, --max-timeout and --max-output.
type ceilingFlags struct {
	memory, timeout, output string
}

func (c *ceilingFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.memory, "max-memory", DefaultMaxMemory.String(), "ceiling on a plugin's limits.memory (at most 4GiB): a manifest asking more gets this, with a warning")
	fs.StringVar(&c.timeout, "max-timeout", DefaultMaxTimeout.String(), "ceiling on a plugin's limits.timeout, per call and for on-load: a manifest asking more gets this, with a warning")
	fs.StringVar(&c.output, "max-output", DefaultMaxOutput.String(), "ceiling on a plugin's limits.output (one result or host-call payload): a manifest asking more gets this, with a warning")
}

// apply sets the ceilings on cfg.
func (c *ceilingFlags) apply(cfg runtime.Config) (runtime.Config, error) {
	mem, err := manifest.ParseSize(c.memory)
	if err != nil {
		return cfg, usageErrorf("--max-memory: %v", err)
	}
	if mem < 64*manifest.KiB || mem > 4*manifest.GiB {
		return cfg, usageErrorf("--max-memory %s: want 64KiB to 4GiB", c.memory)
	}
	d, err := manifest.ParseDuration(c.timeout)
	if err != nil {
		return cfg, usageErrorf("--max-timeout: %v", err)
	}
	out, err := manifest.ParseSize(c.output)
	if err != nil {
		return cfg, usageErrorf("--max-output: %v", err)
	}
	if out == 0 {
		return cfg, usageErrorf("--max-output %s: want at least 1B", c.output)
	}
	return cfg.WithMaxMemory(uint64(mem)).WithMaxTimeout(d).WithMaxOutput(uint64(out)), nil
}

// warnLowered says on stderr which of the plugin's limits the ceilings
// lowered.
func warnLowered(stderr io.Writer, name string, l runtime.Limits) {
	for _, lw := range l.Lowered {
		if lw.By == runtime.ByHostCeiling {
			warnf(stderr, "plugin %q: plugin.toml %s (raise it with --max-%s)", name, lw, lw.Name)
		}
	}
}

// loweredLines describes the lowered limits for info.
func loweredLines(l runtime.Limits) []string {
	var lines []string
	for _, lw := range l.Lowered {
		s := lw.String()
		if lw.By == runtime.ByHostCeiling {
			s += fmt.Sprintf(" (--max-%s)", lw.Name)
		}
		lines = append(lines, s)
	}
	return lines
}
