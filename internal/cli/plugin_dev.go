package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/watch"
)

// newDevCmd is `vitte plugin dev`: load, then rebuild and reload on every
// save.
func newDevCmd(e *env) *cobra.Command {
	var (
		configs  []string
		gf       grantFlags
		out      string
		debounce time.Duration
	)
	c := &cobra.Command{
		Use:   "dev <file.vit | dir | file.vitplug | name>",
		Short: "Load a plugin and reload it on every save",
		Long: `Dev loads a plugin, then watches its source and swaps in the new version
after every save, until interrupted (Ctrl-C), when it unloads the plugin
(on-unload) and exits 0. It prints what happens on stdout, one line each:
built, loaded, watching, reloaded (with the swap's timings), quarantined,
released. A refused version (a compile error, a module that fails the
checks, an on-load that fails, a capability not granted, a package that
fails the trust policy) is reported on stderr, and the version before
keeps running.

The source is:

  file.vit, or a folder holding one .vit file and no plugin.toml
      a Vitte plugin: compiled by the Vitte adapter (as 'vitte plugin
      build') into -o DIR, by default a temporary folder, on every save
      of the source;
  a plugin folder (plugin.toml and its module)
      reloaded when a file of the folder changes: run your C or Go build
      into it from your editor or another terminal;
  file.vitplug
      reloaded when the file is replaced (its signatures must pass the
      trust policy, as for load);
  the name of an installed plugin
      run with the grants approved at install, and kept in step with the
      registry: a version installed meanwhile ('vitte plugin install') is
      swapped in, a quarantine is recorded in the registry ('vitte plugin
      list' shows it) and 'vitte plugin release' lifts it.

Saves are debounced: the source must stay unchanged for --debounce
before the reload, so that an editor's save in several writes is one
reload. Grants and --config are as for load.`,
		Example: `  vitte plugin dev hello.vit
  vitte plugin dev --allow-host 'test.*' ./myplugin
  vitte plugin dev hello-c                    # installed: follow the registry`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			d := &devSession{e: e, debounce: debounce}
			defer d.cleanup()
			if err := d.start(ctx, a[0], out, &gf, configs); err != nil {
				return err
			}
			err := d.run(ctx)
			if cerr := d.stop(context.WithoutCancel(ctx)); err == nil {
				err = cerr
			}
			return err
		},
	}
	c.Flags().StringArrayVar(&configs, "config", nil, "override a [config] value, as `key=value` (repeatable)")
	c.Flags().StringVarP(&out, "output", "o", "", "write the plugin folder built from a .vit file to `DIR` (default: a temporary folder)")
	c.Flags().DurationVar(&debounce, "debounce", watch.DefaultDebounce, "reload once the source stayed unchanged for `DURATION`")
	gf.register(c.Flags())
	gf.registerTrust(c.Flags())
	return c
}

// devSession is one run of `vitte plugin dev`.
type devSession struct {
	e        *env
	debounce time.Duration
	mu       sync.Mutex // serialises the lines printed

	rt        *runtime.Runtime
	rl        *runtime.Reloadable
	installed *watch.Installed
	closers   []func() error
	// source is what is watched; build, when set, compiles it into the
	// plugin folder.
	source string
	build  func(ctx context.Context) error
	tmp    string
}

func (d *devSession) printf(w io.Writer, format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(w, format, args...)
}

// errPrinted marks an error already printed (compile errors).
var errPrinted = errors.New("printed")

func (d *devSession) start(ctx context.Context, arg, out string, gf *grantFlags, configs []string) error {
	e := d.e
	lc, err := loadConfig(configs)
	if err != nil {
		return err
	}
	audit, closeAudit, err := gf.openAudit()
	if err != nil {
		return err
	}
	d.closers = append(d.closers, closeAudit)
	rt, err := e.runtimeWith(ctx, false, audit, gf.auditAllowed)
	if err != nil {
		return classify(err)
	}
	d.rt = rt
	lc = lc.WithPackageVerifier(e.packageVerifier(gf))

	if name, ok := installedName(arg); ok {
		if gf.changesGrants() {
			return usageErrorf("grant flags do not apply to the installed plugin %q: it runs with the grants approved at install (reinstall to change them)", name)
		}
		reg, err := openRegistry()
		if err != nil {
			return err
		}
		in, err := watch.LoadInstalled(ctx, rt, reg, name, lc)
		if err != nil {
			return classify(err)
		}
		d.installed, d.rl, d.source = in, in.Plugin(), reg.Dir()
		d.loaded()
		return nil
	}

	dir, src, err := devSource(arg)
	if err != nil {
		return err
	}
	d.source = dir
	if src != "" {
		d.source = src
		if out == "" {
			if d.tmp, err = os.MkdirTemp("", "vitte-dev-"); err != nil {
				return withCode(ExitError, err)
			}
			out = d.tmp
		}
		dir = out
		d.build = func(context.Context) error { return d.compile(src, out) }
		if err := d.build(ctx); err != nil {
			return withCode(ExitError, fmt.Errorf("build %s: the first build failed", src))
		}
	}
	g, err := gf.grants()
	if err != nil {
		return err
	}
	rl, err := rt.LoadReloadable(ctx, dir, lc.WithGrants(g))
	if err != nil {
		return classify(err)
	}
	d.rl = rl
	warnLowered(d.e.stderr, rl.Name(), rl.Current().Limits())
	d.loaded()
	return nil
}

// devSource says what arg is: a plugin folder or package (dir), or a Vitte
// source file (src).
func devSource(arg string) (dir, src string, err error) {
	fi, err := os.Stat(arg)
	if err != nil {
		return "", "", withCode(ExitError, fmt.Errorf("dev %s: %w", arg, err),
			"give a .vit file, a plugin folder, a .vitplug file or the name of an installed plugin")
	}
	if !fi.IsDir() {
		if strings.HasSuffix(arg, ".vit") {
			return "", arg, nil
		}
		return arg, "", nil
	}
	if _, err := os.Stat(filepath.Join(arg, manifest.FileName)); err == nil {
		return arg, "", nil
	}
	vits, _ := filepath.Glob(filepath.Join(arg, "*.vit"))
	if len(vits) == 1 {
		return "", vits[0], nil
	}
	return "", "", usageErrorf("dev %s: no %s, and %d .vit files (want one)", arg, manifest.FileName, len(vits))
}

// compile builds the Vitte source src into the plugin folder out,
// printing its compile errors.
func (d *devSession) compile(src, out string) error {
	o, _, err := vitte.BuildFile(src, out)
	if err != nil {
		var ce *vitte.Error
		if errors.As(err, &ce) {
			for _, diag := range ce.Diagnostics {
				d.printf(d.e.stderr, "vitte: error: %s\n", diag.Format())
			}
			running := ""
			if d.rl != nil {
				running = "; " + d.current() + " keeps running"
			}
			d.printf(d.e.stderr, "vitte: error: build %s: %d compile error(s)%s\n", src, len(ce.Diagnostics), running)
			return errPrinted
		}
		d.printf(d.e.stderr, "vitte: error: build %s: %v\n", src, err)
		return errPrinted
	}
	d.printf(d.e.stdout, "built %s %s from %s\n", o.Name, o.Version, src)
	return nil
}

// current names the version running, for messages.
func (d *devSession) current() string {
	if d.rl == nil {
		return "nothing"
	}
	p := d.rl.Current()
	return fmt.Sprintf("%s %s", p.Name(), p.Version())
}

func (d *devSession) loaded() {
	d.printf(d.e.stdout, "loaded %s\n", d.current())
	d.rl.Subscribe(d.event)
}

// event prints what happened to the plugin.
func (d *devSession) event(ev runtime.Event) {
	switch ev.Kind {
	case runtime.EventReloadRefused:
		d.printf(d.e.stderr, "vitte: error: %s\n", strings.ReplaceAll(ev.String(), "\n", "\n\t"))
	default:
		d.printf(d.e.stdout, "%s\n", strings.ReplaceAll(ev.String(), "\n", "; "))
	}
}

// run watches until ctx is done.
func (d *devSession) run(ctx context.Context) error {
	opts := watch.Options{
		Debounce: d.debounce,
		Build:    d.build,
		Watching: func() { d.printf(d.e.stdout, "watching %s (Ctrl-C to stop)\n", d.source) },
		Report: func(err error) {
			// Refusals are printed as events, compile errors by compile.
			var re *runtime.ReloadError
			if err != nil && !errors.Is(err, errPrinted) && !errors.As(err, &re) {
				d.printf(d.e.stderr, "vitte: error: %v\n", err)
			}
		},
	}
	var err error
	if d.installed != nil {
		err = d.installed.Follow(ctx, opts)
	} else {
		err = watch.Paths(ctx, []string{d.source}, opts, d.rl.Reload)
	}
	return withCode(ExitError, err)
}

// stop unloads the plugin and frees the runtime.
func (d *devSession) stop(ctx context.Context) error {
	var errs []error
	if d.rl != nil {
		errs = append(errs, d.rl.Close(ctx))
		d.printf(d.e.stdout, "unloaded %s\n", d.current())
	}
	return classify(errors.Join(errs...))
}

func (d *devSession) cleanup() {
	if d.rt != nil {
		_ = d.rt.Close(context.Background())
	}
	for _, c := range d.closers {
		_ = c()
	}
	if d.tmp != "" {
		_ = os.RemoveAll(d.tmp)
	}
}
