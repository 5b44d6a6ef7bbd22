package runtime

import (
	"io"
	"log/slog"
	"time"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

// Host-wide ceilings that no manifest can raise, unless the application
// changes them with the Config.
const (
	DefaultMaxMemory     = 1 << 30          // 1 GiB of linear memory per instance
	DefaultMaxTimeout    = 10 * time.Minute // per call, on-load included
	DefaultMaxOutput     = 256 << 20        // 256 MiB per result or payload
	DefaultMaxModuleSize = 256 << 20        // 256 MiB of module bytes
	DefaultUnloadTimeout = 5 * time.Second  // on-unload, when the plugin's own timeout is longer
	maxLogMessage        = 64 << 10         // longer host.log messages are truncated
	maxManifestSize      = 1 << 20          // plugin.toml is refused past this
)

// Config configures a Runtime. It is immutable: each With method returns a
// changed copy, so a Config can be shared and reused. Create one with
// NewConfig; the zero value is not usable.
type Config struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
	maxMemory      uint64
	maxTimeout     time.Duration
	maxOutput      uint64
	maxModuleSize  int64
	instances      int
}

// NewConfig returns the default configuration: plugin stdout and stderr are
// discarded, logs go to slog.Default(), one instance per plugin, and the
// Default* ceilings.
func NewConfig() Config {
	return Config{
		stdout:        io.Discard,
		stderr:        io.Discard,
		maxMemory:     DefaultMaxMemory,
		maxTimeout:    DefaultMaxTimeout,
		maxOutput:     DefaultMaxOutput,
		maxModuleSize: DefaultMaxModuleSize,
		instances:     1,
	}
}

// WithStdout sends the plugins' standard output to w (default: discarded).
// Writes from concurrent instances are serialised.
func (c Config) WithStdout(w io.Writer) Config {
	if w == nil {
		w = io.Discard
	}
	c.stdout = w
	return c
}

// WithStderr sends the plugins' standard error to w (default: discarded).
func (c Config) WithStderr(w io.Writer) Config {
	if w == nil {
		w = io.Discard
	}
	c.stderr = w
	return c
}

// WithLogger sends the plugins' host.log messages to l, with the plugin's
// name and version as attributes (default: slog.Default()).
func (c Config) WithLogger(l *slog.Logger) Config {
	c.logger = l
	return c
}

// WithMaxMemory sets the host-wide ceiling on a plugin instance's linear
// memory, in bytes (rounded down to whole 64 KiB pages). A manifest's
// limits.memory above it is lowered to it.
func (c Config) WithMaxMemory(bytes uint64) Config {
	c.maxMemory = bytes
	return c
}

// WithMaxTimeout sets the host-wide ceiling on the duration of one call.
func (c Config) WithMaxTimeout(d time.Duration) Config {
	c.maxTimeout = d
	return c
}

// WithMaxOutput sets the host-wide ceiling on one result or payload.
func (c Config) WithMaxOutput(bytes uint64) Config {
	c.maxOutput = bytes
	return c
}

// WithMaxModuleSize sets the largest module file the runtime reads.
func (c Config) WithMaxModuleSize(bytes int64) Config {
	c.maxModuleSize = bytes
	return c
}

// WithInstances sets how many instances of one plugin may run calls at the
// same time (default 1). Instances are created on demand; each runs
// _initialize and on-load once.
func (c Config) WithInstances(n int) Config {
	if n < 1 {
		n = 1
	}
	c.instances = n
	return c
}

// LoadConfig configures one plugin at load time. It is immutable like
// Config. The zero value is the default: no configuration overrides.
type LoadConfig struct {
	config map[string]string
}

// NewLoadConfig returns the default load configuration.
func NewLoadConfig() LoadConfig { return LoadConfig{} }

// WithConfigValue overrides (or adds) the [config] value key seen by the
// plugin through host.config-get.
func (c LoadConfig) WithConfigValue(key, value string) LoadConfig {
	m := make(map[string]string, len(c.config)+1)
	for k, v := range c.config {
		m[k] = v
	}
	m[key] = value
	c.config = m
	return c
}

// limits are the effective limits of one plugin: the manifest's, lowered
// to the host's ceilings.
type limits struct {
	memoryPages uint32
	timeout     time.Duration
	output      uint64
}

func effectiveLimits(m manifest.Limits, c Config) limits {
	mem := min(uint64(m.Memory), c.maxMemory)
	pages := mem / 65536
	if pages > 65536 {
		pages = 65536
	}
	return limits{
		memoryPages: uint32(pages),
		timeout:     min(m.Timeout, c.maxTimeout),
		output:      min(uint64(m.Output), c.maxOutput),
	}
}
