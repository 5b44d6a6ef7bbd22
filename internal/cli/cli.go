package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Main runs the command line with the process's arguments and streams and
// returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run runs the command line with args and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	defer env.closeCache(ctx)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee *exitError
		if !errors.As(err, &ee) && isUsage(err) {
			err = &exitError{code: ExitUsage, err: err, hints: []string{"run 'vitte --help' for usage"}}
		}
		return report(stderr, err)
	}
	return ExitOK
}

// isUsage recognises cobra's own errors for unknown commands and flags.
func isUsage(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts", "requires at least", "requires at most"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// env is what the commands share.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	logLevel       string
	engine         string
	noCache        bool
	cache          runtime.CompilationCache
	ceilings       ceilingFlags
	profile        *runtime.Profile // call --profile: the runtime samples guest code into it
}

// compilationCache returns the compilation cache the commands share, on
// disk: $VITTE_CACHE_DIR, or runtime.DefaultCacheDir. There is none with
// --no-cache or VITTE_CACHE_DIR=off. A cache that cannot be opened is
// skipped (commands then compile every time), and said at debug level.
func (e *env) compilationCache(l *slog.Logger) runtime.CompilationCache {
	if e.cache != nil || e.noCache {
		return e.cache
	}
	dir := os.Getenv("VITTE_CACHE_DIR")
	if dir == "off" {
		return nil
	}
	if dir == "" {
		d, err := runtime.DefaultCacheDir()
		if err != nil {
			l.Debug("no compilation cache", slog.Any("error", err))
			return nil
		}
		dir = d
	}
	c, err := runtime.NewDiskCompilationCache(dir)
	if err != nil {
		l.Debug("no compilation cache", slog.Any("error", err))
		return nil
	}
	e.cache = c
	return c
}

func (e *env) closeCache(ctx context.Context) {
	if e.cache != nil {
		_ = e.cache.Close(ctx)
	}
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "vitte",
		Short: "Load and run sandboxed WebAssembly plugins",
		Long: `vitte loads, inspects and runs vitte-plugin plugins: WebAssembly modules
that run in a sandbox and touch only what their plugin.toml asked for and
the user granted.

A plugin's [limits] are lowered, with a warning, to the ceilings
--max-memory (default 512MiB), --max-timeout (5m) and --max-output (64MiB);
a manifest can only lower them.

Exit status: 0 success, 1 plugin or runtime error, 2 usage error,
3 verification failed, 4 permission denied.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&e.logLevel, "log-level", "info", "lowest plugin log level shown on stderr: trace, debug, info, warn, error")
	root.PersistentFlags().StringVar(&e.engine, "engine", string(runtime.EngineWazero), "WebAssembly engine: wazero, or wasmtime (in a binary built with -tags wasmtime)")
	e.ceilings.register(root.PersistentFlags())
	root.PersistentFlags().BoolVar(&e.noCache, "no-cache", false, "compile plugins without the compilation cache ($VITTE_CACHE_DIR, default ~/.cache/vitte/compiled)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: err, hints: []string{fmt.Sprintf("run '%s --help' for usage", c.CommandPath())}}
	})
	plugin := &cobra.Command{
		Use:   "plugin",
		Short: "Work with plugins",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return usageErrorf("missing command: run 'vitte plugin --help'")
		},
	}
	plugin.AddCommand(newLoadCmd(e), newCallCmd(e), newInfoCmd(e), newVerifyCmd(e), newPackCmd(e), newBuildCmd(e),
		newInstallCmd(e), newListCmd(e), newRemoveCmd(e), newUnloadCmd(e),
		newKeygenCmd(e), newSignCmd(e), newTrustCmd(e), newPushCmd(e), newPullCmd(e),
		newDevCmd(e), newReleaseCmd(e), newRuntimeCmd(e))
	root.AddCommand(plugin)
	return root
}

// args returns a positional-arguments check that reports usage errors.
func args(min, max int) cobra.PositionalArgs {
	return func(c *cobra.Command, a []string) error {
		if len(a) < min || len(a) > max {
			want := fmt.Sprintf("%d", min)
			if max != min {
				want = fmt.Sprintf("%d to %d", min, max)
			}
			return &exitError{code: ExitUsage, err: fmt.Errorf("%s takes %s arguments, got %d", c.CommandPath(), want, len(a)),
				hints: []string{fmt.Sprintf("usage: %s", c.UseLine())}}
		}
		return nil
	}
}

func (e *env) logger() (*slog.Logger, error) {
	var lvl slog.Level
	switch strings.ToLower(e.logLevel) {
	case "trace":
		lvl = slog.LevelDebug - 4
	case "debug":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		return nil, usageErrorf("--log-level %q: want trace, debug, info, warn or error", e.logLevel)
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl, ReplaceAttr: dropTime})), nil
}

// dropTime removes the time from log lines: stderr is read by people, and
// tests compare it.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// runtime creates the runtime the commands use: plugin output on the
// command's stdout and stderr, logs on stderr.
// A command whose stdout carries a result sends the plugin's stdout to
// stderr (pluginStdoutToStderr).
func (e *env) runtime(ctx context.Context, pluginStdoutToStderr bool) (*runtime.Runtime, error) {
	return e.runtimeWith(ctx, pluginStdoutToStderr, nil, false)
}

func (e *env) runtimeWith(ctx context.Context, pluginStdoutToStderr bool, audit capabilities.Auditor, auditAllowed bool) (*runtime.Runtime, error) {
	l, err := e.logger()
	if err != nil {
		return nil, err
	}
	out := e.stdout
	if pluginStdoutToStderr {
		out = e.stderr
	}
	eng, err := runtime.ParseEngine(e.engine)
	if err != nil {
		return nil, usageErrorf("--engine: %v", err)
	}
	if !slices.Contains(runtime.Engines(), eng) {
		return nil, usageErrorf("--engine %s: %v (rebuild vitte with -tags %s)", eng, runtime.ErrEngineUnavailable, eng)
	}
	cfg := runtime.NewConfig().WithStdout(out).WithStderr(e.stderr).WithLogger(l).WithAuditor(audit).WithAuditAllowed(auditAllowed).
		WithEngine(eng)
	if cfg, err = e.ceilings.apply(cfg); err != nil {
		return nil, err
	}
	if e.profile != nil {
		cfg = cfg.WithProfile(e.profile)
	}
	if c := e.compilationCache(l); c != nil {
		cfg = cfg.WithCompilationCache(c)
	}
	return runtime.New(ctx, cfg)
}

// session is a runtime with one plugin loaded, for load and call.
type session struct {
	rt      *runtime.Runtime
	p       *runtime.Plugin
	closers []func() error
}

// open loads the plugin in dir with the grants and config overrides of the
// command's flags.
func (e *env) open(ctx context.Context, dir string, gf *grantFlags, configs []string, pluginStdoutToStderr bool) (*session, error) {
	lc, err := loadConfig(configs)
	if err != nil {
		return nil, err
	}
	g, err := gf.grants()
	if err != nil {
		return nil, err
	}
	if gf.all {
		warnf(e.stderr, "--allow-all grants every net, host and env request of %s's manifest", dir)
	}
	audit, closeAudit, err := gf.openAudit()
	if err != nil {
		return nil, err
	}
	s := &session{closers: []func() error{closeAudit}}
	rt, err := e.runtimeWith(ctx, pluginStdoutToStderr, audit, gf.auditAllowed)
	if err != nil {
		return nil, errors.Join(classify(err), s.close(ctx))
	}
	s.rt = rt
	var p *runtime.Plugin
	if name, ok := installedName(dir); ok {
		p, err = e.loadInstalled(ctx, rt, name, lc, gf)
	} else {
		p, err = rt.LoadWithConfig(ctx, dir, lc.WithGrants(g).WithPackageVerifier(e.packageVerifier(gf)))
	}
	if err != nil {
		return nil, errors.Join(classify(err), s.close(ctx))
	}
	s.p = p
	warnLowered(e.stderr, p.Name(), p.Limits())
	return s, nil
}

// installedName reports whether arg names an installed plugin rather than
// a folder or a package file: it is not an existing path and has the form
// of a plugin name.
func installedName(arg string) (string, bool) {
	if _, err := os.Stat(arg); err == nil {
		return "", false
	}
	if !pluginName.MatchString(arg) {
		return "", false
	}
	return arg, true
}

var pluginName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

// loadInstalled loads the installed plugin name from the registry's store
// with the grants recorded at install time (grant flags may not widen
// them: use install to change what is approved), and marks it enabled.
func (e *env) loadInstalled(ctx context.Context, rt *runtime.Runtime, name string, lc runtime.LoadConfig, gf *grantFlags) (*runtime.Plugin, error) {
	if gf.changesGrants() {
		return nil, usageErrorf("grant flags do not apply to the installed plugin %q: it runs with the grants approved at install (reinstall to change them)", name)
	}
	reg, err := openRegistry()
	if err != nil {
		return nil, err
	}
	ent, ok := reg.Get(name)
	if !ok {
		return nil, withCode(ExitError, fmt.Errorf("load plugin %q: %w", name, registry.ErrNotFound),
			"give a plugin folder or a .vitplug file, or run 'vitte plugin list' to see the installed plugins")
	}
	pkg, err := reg.Package(name)
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("load plugin %q: %w", name, err))
	}
	p, err := rt.LoadPackage(ctx, pkg, lc.WithGrants(ent.Grants.Grants()))
	if err != nil {
		return nil, err
	}
	if !ent.Enabled {
		if err := reg.SetEnabled(name, true); err != nil {
			return nil, errors.Join(withCode(ExitError, err), p.Close(ctx))
		}
	}
	return p, nil
}

// close unloads the plugin and frees everything; the plugin's on-unload
// error, if any, is returned.
func (s *session) close(ctx context.Context) error {
	var errs []error
	if s.p != nil {
		errs = append(errs, s.p.Close(ctx))
	}
	if s.rt != nil {
		errs = append(errs, s.rt.Close(ctx))
	}
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// classify gives a runtime error its exit code and hints.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	if errors.Is(err, runtime.ErrPermission) {
		return withCode(ExitPermission, err)
	}
	return withCode(ExitError, err)
}
