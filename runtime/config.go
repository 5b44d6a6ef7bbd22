package runtime

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	goruntime "runtime"
	"slices"
	"time"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/vitplug"
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
	DefaultLogRate       = 100              // host.log messages a second, per plugin
	DefaultLogBurst      = 200              // host.log burst, per plugin
	// DefaultMaxStack is the call stack of a call, in bytes as the
	// metering estimates frames (see WithMaxStack).
	DefaultMaxStack = meter.DefaultMaxStack
	// DefaultMaxTableElements is the most elements the tables of an
	// instance may hold in all (see WithMaxTableElements).
	DefaultMaxTableElements = 1 << 20
	// MaxTables is the most tables a module may declare.
	MaxTables = 16
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
	maxStack       uint64
	maxTableElems  uint64
	instances      int
	warm           int
	auditor        capabilities.Auditor
	auditAllowed   bool
	lookupEnv      func(string) (string, bool)
	deterministic  bool
	seed           int64
	logRate        float64
	logBurst       int
	stdioLimit     uint64 // hostwork.go
	cache          CompilationCache
	pythonDir      string // see WithPythonDir (python.go)
	engine         Engine
	compileLimits  CompileLimits // see compile.go
	// quarantine.go: 0 is the default, <0 disables; events may be nil.
	quarantineFailures int
	quarantineWindow   time.Duration
	events             func(Event)
	tel                telemetryConfig // telemetry.go
	profile            *Profile        // profile.go
}

// NewConfig returns the default configuration: plugin stdout and stderr are
// discarded, logs go to slog.Default(), up to GOMAXPROCS instances per
// plugin (the value at NewConfig, see WithInstances) of which one is kept
// warm, and the Default* ceilings.
func NewConfig() Config {
	return Config{
		stdout:        io.Discard,
		stderr:        io.Discard,
		maxMemory:     DefaultMaxMemory,
		maxTimeout:    DefaultMaxTimeout,
		maxOutput:     DefaultMaxOutput,
		maxModuleSize: DefaultMaxModuleSize,
		maxStack:      DefaultMaxStack,
		maxTableElems: DefaultMaxTableElements,
		instances:     goruntime.GOMAXPROCS(0),
		warm:          1,
		lookupEnv:     os.LookupEnv,
		logRate:       DefaultLogRate,
		logBurst:      DefaultLogBurst,
		stdioLimit:    DefaultStdioLimit,
	}
}

// WithAuditor sends capability decisions to a (denials only, unless
// WithAuditAllowed). The default records nothing.
func (c Config) WithAuditor(a capabilities.Auditor) Config {
	c.auditor = a
	return c
}

// WithAuditAllowed also records the decisions that allowed something.
func (c Config) WithAuditAllowed(on bool) Config {
	c.auditAllowed = on
	return c
}

// WithEnvironment sets where the values of granted environment variables
// come from (default: os.LookupEnv). A plugin only ever sees the variables
// it requested and was granted.
func (c Config) WithEnvironment(lookup func(name string) (string, bool)) Config {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	c.lookupEnv = lookup
	return c
}

// WithDeterministic makes every plugin's clocks fixed and its random
// source seeded with seed, so that runs are reproducible. The default is
// the real clocks and crypto/rand.
func (c Config) WithDeterministic(seed int64) Config {
	c.deterministic, c.seed = true, seed
	return c
}

// WithLogRate limits each plugin's host.log to perSecond messages a
// second, with bursts of burst; messages past it are dropped and counted,
// and the count is logged once the flood stops (default DefaultLogRate,
// DefaultLogBurst). A rate of 0 or less disables the limit.
func (c Config) WithLogRate(perSecond float64, burst int) Config {
	c.logRate, c.logBurst = perSecond, max(burst, 1)
	return c
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

// WithStdioLimit sets how many bytes one call of a plugin (on-load and
// on-unload included, each on its own) may write to stdout, and as many
// to stderr (default DefaultStdioLimit).
// A write that would go past it is refused whole: the guest's fd_write
// fails with EIO, the refusal is audited (kind "limit", resource "stdout"
// or "stderr") once a call, and the call goes on. 0 refuses every write;
// math.MaxUint64 lifts the limit.
func (c Config) WithStdioLimit(bytes uint64) Config {
	c.stdioLimit = bytes
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

// WithMaxTimeout sets the host-wide ceiling on the duration of one call
// (on-load included). A manifest's limits.timeout above it is lowered to it.
func (c Config) WithMaxTimeout(d time.Duration) Config {
	c.maxTimeout = d
	return c
}

// WithMaxOutput sets the host-wide ceiling on one result or payload. A
// manifest's limits.output above it is lowered to it.
func (c Config) WithMaxOutput(bytes uint64) Config {
	c.maxOutput = bytes
	return c
}

// WithMaxModuleSize sets the largest module file the runtime reads.
func (c Config) WithMaxModuleSize(bytes int64) Config {
	c.maxModuleSize = bytes
	return c
}

// WithMaxStack sets the call stack a call may use, in bytes (default
// DefaultMaxStack, 384 KiB). The metering injected into every module
// counts each frame the guest enters as 64 bytes plus 8 per parameter and
// local (16 per v128 local), whatever the engine, so a recursion stops at
// the same depth on every engine: the call fails with ErrTrap, "stack
// overflow". The engines' own stack limits remain as a backstop for
// frames the estimate undercounts. 0 means the default.
func (c Config) WithMaxStack(bytes uint64) Config {
	c.maxStack = bytes
	return c
}

// WithMaxTableElements sets the most elements the tables of one instance
// may hold in all (default DefaultMaxTableElements, 1 Mi elements; on
// both engines an element takes 8 bytes or more of host memory). A module
// whose tables need more to start is refused at load; table.grow past it
// fails in the guest (returns -1) and is audited. 0 means the default.
// Independently, a module may declare at most MaxTables tables.
func (c Config) WithMaxTableElements(n uint64) Config {
	c.maxTableElems = n
	return c
}

// stackLimit is the stack counter's value at the start of a call.
func (c Config) stackLimit() uint64 {
	if c.maxStack == 0 {
		return DefaultMaxStack
	}
	return min(c.maxStack, math.MaxInt64)
}

// tableLimit is the most table elements of an instance.
func (c Config) tableLimit() uint64 {
	if c.maxTableElems == 0 {
		return DefaultMaxTableElements
	}
	return c.maxTableElems
}

// WithInstances sets how many instances of one plugin may exist, and so
// run calls at the same time (default GOMAXPROCS at NewConfig: calls from
// many goroutines use every core). Past the warm ones, instances are
// created when all are busy and kept for the next calls; each runs
// _initialize and on-load once.
func (c Config) WithInstances(n int) Config {
	c.instances = max(n, 1)
	c.warm = min(c.warm, c.instances)
	return c
}

// WithWarmInstances sets how many instances of each plugin the runtime
// keeps ready, already initialised (_initialize and on-load run), so that
// calls do not wait for one (default 1; at most WithInstances). Load
// prepares the first and starts the others in the background; an instance
// discarded after a trap or a timeout is replaced in the background.
func (c Config) WithWarmInstances(n int) Config {
	c.warm = min(max(n, 1), c.instances)
	return c
}

// LoadConfig configures one plugin at load time. It is immutable like
// Config. The zero value is the default: no configuration overrides.
type LoadConfig struct {
	config map[string]string
	grants capabilities.Grants
	verify PackageVerifier
	// Per-load limits; 0: the manifest's (see effectiveLimits).
	memory  uint64
	timeout time.Duration
	output  uint64
	fuel    uint64
}

// PackageVerifier checks an opened .vitplug package against a trust policy
// before it is loaded; source is where it came from ("file:///…",
// "oci://…"). It returns an error wrapping ErrUntrusted to refuse it.
type PackageVerifier func(pkg *vitplug.Package, source string) error

// WithPackageVerifier sets how a .vitplug package given to Load is checked
// (signatures, trust policy). Without one, Load refuses packages: plugin
// folders, plugins under development, load without a signature.
func (c LoadConfig) WithPackageVerifier(v PackageVerifier) LoadConfig {
	c.verify = v
	return c
}

// WithGrants sets what the plugin is allowed beyond computing, logging and
// writing to stdout/stderr. What it gets is the intersection of its
// manifest's [capabilities] request and g. The default grants nothing.
func (c LoadConfig) WithGrants(g capabilities.Grants) LoadConfig {
	c.grants = g
	return c
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

// WithMemory lowers this plugin's memory limit to bytes (rounded down to
// whole 64 KiB pages): the plugin gets the least of its manifest's
// limits.memory, bytes and the host ceiling (Config.WithMaxMemory). Zero,
// the default, keeps the manifest's.
func (c LoadConfig) WithMemory(bytes uint64) LoadConfig {
	c.memory = bytes
	return c
}

// WithTimeout lowers this plugin's time limit per call (on-load included)
// to d: the plugin gets the least of its manifest's limits.timeout, d and
// the host ceiling (Config.WithMaxTimeout). Zero or less, the default,
// keeps the manifest's.
func (c LoadConfig) WithTimeout(d time.Duration) LoadConfig {
	c.timeout = max(d, 0)
	return c
}

// WithOutput lowers this plugin's output limit (one result or host-call
// payload) to bytes: the plugin gets the least of its manifest's
// limits.output, bytes and the host ceiling (Config.WithMaxOutput). Zero,
// the default, keeps the manifest's.
func (c LoadConfig) WithOutput(bytes uint64) LoadConfig {
	c.output = bytes
	return c
}

// WithFuel sets this plugin's CPU budget per call (on-load included), in
// the units of limits.fuel: the plugin gets the lesser of its manifest's
// limits.fuel (when it sets one) and units. Zero, the default, keeps the
// manifest's.
func (c LoadConfig) WithFuel(units uint64) LoadConfig {
	c.fuel = units
	return c
}

// Limits are the limits a plugin runs with: its manifest's [limits], each
// lowered to the LoadConfig's value (LoadConfig.WithMemory, ...) and to the
// host's ceiling (Config.WithMaxMemory, ...), whichever is lower.
type Limits struct {
	Memory  uint64        // largest linear memory, in bytes (whole 64 KiB pages)
	Timeout time.Duration // wall-clock limit of one call, on-load included
	Output  uint64        // largest result or host-call payload, in bytes
	Fuel    uint64        // CPU budget of one call; 0: none
	// Lowered lists each limit set below what the manifest asked, and
	// what lowered it, in the order memory, timeout, output, fuel.
	Lowered []LoweredLimit
}

// LoweredLimit is a limit of the manifest that a plugin does not get as
// written.
type LoweredLimit struct {
	Name      string      // "memory", "timeout", "output" or "fuel"
	Requested string      // the manifest's value ("4GiB", "none" for an absent fuel)
	Effective string      // the value the plugin gets
	By        LimitSource // what lowered it
}

// String says what was lowered: "limits.memory 4GiB lowered to 512MiB by
// the host ceiling".
func (l LoweredLimit) String() string {
	return fmt.Sprintf("limits.%s %s lowered to %s by the %s", l.Name, l.Requested, l.Effective, l.By)
}

// LimitSource is what lowered a manifest's limit.
type LimitSource string

const (
	// ByHostCeiling: the Config's ceiling (WithMaxMemory, WithMaxTimeout,
	// WithMaxOutput).
	ByHostCeiling LimitSource = "host ceiling"
	// ByLoadConfig: the LoadConfig's limit (WithMemory, WithTimeout,
	// WithOutput, WithFuel).
	ByLoadConfig LimitSource = "load config"
)

// limits are the effective limits of one plugin: the manifest's, lowered
// to the load config's and to the host's ceilings.
type limits struct {
	memoryPages uint32
	timeout     time.Duration
	output      uint64
	fuel        uint64 // 0: no budget
	lowered     []LoweredLimit
}

// public returns l as the exported Limits.
func (l limits) public() Limits {
	return Limits{Memory: uint64(l.memoryPages) * 65536, Timeout: l.timeout, Output: l.output, Fuel: l.fuel,
		Lowered: slices.Clone(l.lowered)}
}

// lower returns the least of the manifest's value m, the load config's lc
// (0: none) and the host ceiling host, and what made it lower than m.
func lower[T uint64 | time.Duration](m, lc, host T) (T, LimitSource) {
	v, by := m, LimitSource("")
	if lc > 0 && lc < v {
		v, by = lc, ByLoadConfig
	}
	if host < v {
		v, by = host, ByHostCeiling
	}
	return v, by
}

func effectiveLimits(m manifest.Limits, c Config, lc LoadConfig) limits {
	var l limits
	note := func(name, req, eff string, by LimitSource) {
		if by != "" {
			l.lowered = append(l.lowered, LoweredLimit{Name: name, Requested: req, Effective: eff, By: by})
		}
	}
	mem, by := lower(uint64(m.Memory), lc.memory, c.maxMemory)
	pages := min(mem/65536, 65536)
	if by == "" && pages*65536 < uint64(m.Memory) {
		by = ByHostCeiling // a manifest past 4GiB (not valid) or a ceiling not on a page
	}
	l.memoryPages = uint32(pages)
	note("memory", m.Memory.String(), manifest.Size(pages*65536).String(), by)
	l.timeout, by = lower(m.Timeout, lc.timeout, c.maxTimeout)
	note("timeout", m.Timeout.String(), l.timeout.String(), by)
	l.output, by = lower(uint64(m.Output), lc.output, c.maxOutput)
	note("output", m.Output.String(), manifest.Size(l.output).String(), by)
	l.fuel = m.Fuel
	if lc.fuel > 0 && (m.Fuel == 0 || lc.fuel < m.Fuel) {
		req := "none"
		if m.Fuel > 0 {
			req = fmt.Sprint(m.Fuel)
		}
		l.fuel = lc.fuel
		note("fuel", req, fmt.Sprint(lc.fuel), ByLoadConfig)
	}
	return l
}
