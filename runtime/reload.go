package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// Reloadable is a plugin whose version can be replaced while it serves
// calls. Call has the signature of Plugin.Call and always runs on the
// current version. Its methods are safe for concurrent use.
//
// A reload (Reload, ReloadPackage) is atomic for callers:
//
//  1. the new version is read, verified (a package: the LoadConfig's
//     package verifier), checked (same plugin name; no capability request
//     that is not granted, beyond those the current version already had
//     refused), compiled, instantiated, and its on-load run;
//  2. new calls go to the new version;
//  3. calls in flight on the old version finish there;
//  4. the old version runs on-unload and is freed.
//
// If step 1 fails, nothing changes: the current version keeps serving,
// and the reason is returned (a *ReloadError), logged and sent as an
// EventReloadRefused.
// No call fails or sees a half-loaded version because of a reload.
//
// A reload that swaps in a version ends the quarantine of the old one (an
// EventReleased): the new version starts with a fresh circuit breaker.
//
// See docs/reload.md.
type Reloadable struct {
	rt   *Runtime
	name string
	cur  atomic.Pointer[version]
	// closed is set before the last version is retired, so that a call
	// that finds it retired knows not to wait for another.
	closed atomic.Bool

	// mu serialises reloads and Close; it guards path and lc.
	mu   sync.Mutex
	path string // the folder or package of Reload; "" after ReloadPackage
	lc   LoadConfig

	smu  sync.Mutex
	subs map[int]func(Event)
	next int
}

// version is one version of a Reloadable: its plugin and a count of the
// calls in flight on it, plus one while it is current.
type version struct {
	p       *Plugin
	refs    atomic.Int64
	drained chan struct{} // closed when refs reaches 0
}

func newVersion(p *Plugin) *version {
	v := &version{p: p, drained: make(chan struct{})}
	v.refs.Store(1)
	return v
}

// acquire counts a call in; it fails once the version is retired and
// drained.
func (v *version) acquire() bool {
	for {
		n := v.refs.Load()
		if n <= 0 {
			return false
		}
		if v.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (v *version) release() {
	if v.refs.Add(-1) == 0 {
		close(v.drained)
	}
}

// LoadReloadable loads the plugin at path (a folder or a .vitplug package,
// as LoadWithConfig) and returns it as a Reloadable, whose Reload loads
// path again, with lc.
func (r *Runtime) LoadReloadable(ctx context.Context, path string, lc LoadConfig) (*Reloadable, error) {
	p, err := r.LoadWithConfig(ctx, path, lc)
	if err != nil {
		return nil, err
	}
	return r.newReloadable(p, path, lc), nil
}

// LoadReloadablePackage loads the opened package pkg, found at source
// ("file:///…", "oci://…", or "" when unknown), after it passes lc's package
// verifier, and returns it as a Reloadable. Its later versions come from
// ReloadPackage.
func (r *Runtime) LoadReloadablePackage(ctx context.Context, pkg *vitplug.Package, source string, lc LoadConfig) (*Reloadable, error) {
	src, err := verifyPackage(pkg, source, lc)
	if err != nil {
		return nil, err
	}
	p, err := r.load(ctx, src, lc)
	if err != nil {
		return nil, err
	}
	return r.newReloadable(p, "", lc), nil
}

func (r *Runtime) newReloadable(p *Plugin, path string, lc LoadConfig) *Reloadable {
	rl := &Reloadable{rt: r, name: p.Name(), path: path, lc: lc, subs: map[int]func(Event){}}
	rl.adopt(p)
	rl.cur.Store(newVersion(p))
	return rl
}

// adopt sends p's events (quarantine, release) to rl's subscribers.
func (rl *Reloadable) adopt(p *Plugin) {
	fn := rl.notify
	p.breaker.notify.Store(&fn)
}

// Name is the plugin's name, the same for every version.
func (rl *Reloadable) Name() string { return rl.name }

// Current returns the version serving calls now. A call made on it
// directly rather than through rl.Call may fail with ErrClosed once a
// reload retired it.
func (rl *Reloadable) Current() *Plugin { return rl.cur.Load().p }

// Call runs the handler name of the current version, as Plugin.Call. A
// call that starts during a reload runs on the old version or the new
// one, never on one that is not ready, and never fails because of the
// reload.
func (rl *Reloadable) Call(ctx context.Context, name string, input []byte) ([]byte, error) {
	v, err := rl.acquire(name)
	if err != nil {
		return nil, err
	}
	defer v.release()
	return v.p.Call(ctx, name, input)
}

// AppendCall is Call appending the output to dst, as Plugin.AppendCall.
func (rl *Reloadable) AppendCall(ctx context.Context, dst []byte, name string, input []byte) ([]byte, error) {
	v, err := rl.acquire(name)
	if err != nil {
		return nil, err
	}
	defer v.release()
	return v.p.AppendCall(ctx, dst, name, input)
}

// acquire returns the current version with a call counted in.
func (rl *Reloadable) acquire(name string) (*version, error) {
	for {
		v := rl.cur.Load()
		if v.acquire() {
			return v, nil
		}
		// v was retired between the load and the acquire: its successor
		// is current already, unless rl is closed.
		if rl.closed.Load() {
			return nil, &CallError{Plugin: rl.name, Function: name, Err: ErrClosed}
		}
	}
}

// Quarantined returns why the current version is quarantined, or nil.
func (rl *Reloadable) Quarantined() *QuarantineError { return rl.Current().Quarantined() }

// Quarantine quarantines the current version (Plugin.Quarantine).
func (rl *Reloadable) Quarantine(reason string) *QuarantineError {
	return rl.Current().Quarantine(reason)
}

// Release lifts the current version's quarantine (Plugin.Release).
func (rl *Reloadable) Release(reason string) bool { return rl.Current().Release(reason) }

// Subscribe calls fn with the events of rl: reloads, refused reloads, and
// the quarantines and releases of its versions. fn is called from the
// goroutine where the event happens; it must return quickly and must not
// call Reload. It returns a function that stops the calls.
func (rl *Reloadable) Subscribe(fn func(Event)) (cancel func()) {
	rl.smu.Lock()
	defer rl.smu.Unlock()
	rl.next++
	id := rl.next
	rl.subs[id] = fn
	return func() {
		rl.smu.Lock()
		defer rl.smu.Unlock()
		delete(rl.subs, id)
	}
}

func (rl *Reloadable) notify(e Event) {
	rl.smu.Lock()
	fns := make([]func(Event), 0, len(rl.subs))
	for _, fn := range rl.subs {
		fns = append(fns, fn)
	}
	rl.smu.Unlock()
	for _, fn := range fns {
		fn(e)
	}
}

// Reload loads the plugin again from the path it was loaded from, with
// the same LoadConfig, and swaps it in (see Reloadable). It returns why
// the new version was refused, or nil once it serves calls and the old
// one is unloaded.
func (rl *Reloadable) Reload(ctx context.Context) (err error) {
	if t := rl.rt.tel; t != nil {
		var end func(error)
		ctx, end = t.startReload(ctx, rl)
		defer func() { end(err) }()
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.path == "" {
		return rl.refuse(ctx, "", errors.New("no path to reload from: the plugin came from a package (use ReloadPackage)"))
	}
	start := time.Now()
	src, err := rl.rt.readVerified(rl.path, rl.lc)
	if err != nil {
		candidate := ""
		if src != nil {
			candidate = src.manifest.Plugin.Version
		}
		return rl.refuse(ctx, candidate, err)
	}
	return rl.swap(ctx, start, src, rl.lc)
}

// ReloadPackage swaps in the opened package pkg, found at source, after it
// passes lc's package verifier, loaded with lc (see Reloadable). lc
// becomes the configuration of later reloads; Reload then fails, since
// there is no path to reload from.
func (rl *Reloadable) ReloadPackage(ctx context.Context, pkg *vitplug.Package, source string, lc LoadConfig) (err error) {
	if t := rl.rt.tel; t != nil {
		var end func(error)
		ctx, end = t.startReload(ctx, rl)
		defer func() { end(err) }()
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	start := time.Now()
	src, err := verifyPackage(pkg, source, lc)
	if err != nil {
		return rl.refuse(ctx, pkg.Manifest().Plugin.Version, err)
	}
	if err := rl.swap(ctx, start, src, lc); err != nil {
		return err
	}
	rl.path, rl.lc = "", lc
	return nil
}

// swap checks and loads src, routes calls to it, then drains and unloads
// the old version. rl.mu is held.
func (rl *Reloadable) swap(ctx context.Context, start time.Time, src *source, lc LoadConfig) error {
	if rl.closed.Load() {
		return fmt.Errorf("reload plugin %q: %w", rl.name, ErrClosed)
	}
	m := src.manifest
	old := rl.cur.Load()
	if m.Plugin.Name != rl.name {
		return rl.refuse(ctx, m.Plugin.Version, fmt.Errorf("%s is plugin %q, not %q", src.where, m.Plugin.Name, rl.name))
	}
	// Checked before anything of the new version runs: its on-load must
	// not run if it is to be refused.
	caps, err := capabilities.Resolve(m.Capabilities, lc.grants)
	if err != nil {
		return rl.refuse(ctx, m.Plugin.Version, fmt.Errorf("grants: %w", err))
	}
	var extra []string
	for _, d := range caps.Denied {
		if !slices.Contains(old.p.caps.Denied, d) {
			extra = append(extra, d)
		}
	}
	if len(extra) > 0 {
		return rl.refuse(ctx, m.Plugin.Version, fmt.Errorf("%w: version %s requests capabilities that are not granted: %v", ErrPermission, m.Plugin.Version, extra))
	}
	p, err := rl.rt.load(ctx, src, lc)
	if err != nil {
		return rl.refuse(ctx, m.Plugin.Version, err)
	}
	rl.adopt(p)
	rl.cur.Store(newVersion(p))
	routed := time.Now()
	old.release()
	<-old.drained // calls have deadlines: this ends
	if err := old.p.Close(context.WithoutCancel(ctx)); err != nil {
		old.p.logger.Warn("old version unloaded with an error", slog.Any("error", err))
	}
	e := Event{Kind: EventReloaded, Plugin: rl.name, Version: p.Version(), Previous: old.p.Version(),
		Routed: routed.Sub(start), Drained: time.Since(routed)}
	if q := old.p.Quarantined(); q != nil {
		rl.emit(p, Event{Kind: EventReleased, Plugin: rl.name, Version: p.Version(), Err: q,
			Reason: fmt.Sprintf("replaced by version %s", p.Version())})
	}
	p.logger.Info("plugin reloaded", slog.String("previous", e.Previous),
		slog.Duration("routed", e.Routed), slog.Duration("drained", e.Drained))
	rl.emit(p, e)
	return nil
}

// ReloadError is the error of a refused reload: the version that was
// serving keeps serving. Err says why (it wraps ErrUntrusted,
// ErrPermission, ErrGuest, ErrTrap, ... as the load would).
type ReloadError struct {
	Plugin string
	// Candidate is the refused version, "" when its manifest could not be
	// read.
	Candidate string
	Err       error
}

func (e *ReloadError) Error() string { return fmt.Sprintf("reload plugin %q: %v", e.Plugin, e.Err) }

func (e *ReloadError) Unwrap() error { return e.Err }

// refuse reports a refused reload and returns its error, a *ReloadError.
func (rl *Reloadable) refuse(ctx context.Context, candidate string, err error) error {
	cur := rl.cur.Load().p
	err = &ReloadError{Plugin: rl.name, Candidate: candidate, Err: err}
	cur.logger.WarnContext(ctx, "reload refused; the current version keeps serving", slog.String("candidate", candidate), slog.Any("error", err))
	rl.emit(cur, Event{Kind: EventReloadRefused, Candidate: candidate, Err: err})
	return err
}

// emit sends e to the runtime's handler and to rl's subscribers.
func (rl *Reloadable) emit(p *Plugin, e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Plugin == "" {
		e.Plugin, e.Version = p.Name(), p.Version()
	}
	if t := rl.rt.tel; t != nil {
		t.event(e)
	}
	if fn := rl.rt.cfg.events; fn != nil {
		fn(e)
	}
	rl.notify(e)
}

// Close waits for the calls in flight, then unloads the current version.
// Calls after Close fail with ErrClosed. ctx bounds Close as it bounds
// Plugin.Close: when it ends, the calls in flight are cancelled (they fail
// with ErrCanceled wrapping ErrClosed), and Close's error wraps ctx.Err().
func (rl *Reloadable) Close(ctx context.Context) error {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.closed.Swap(true) {
		return nil
	}
	v := rl.cur.Load()
	v.release()
	select {
	case <-v.drained:
	case <-ctx.Done():
		// Plugin.Close cancels the calls still in flight and waits for them.
	}
	return v.p.Close(ctx)
}

// readVerified reads the plugin at path as LoadWithConfig does: a package
// must pass lc's verifier. The source of a package that fails it is
// returned with the error, for its manifest.
func (r *Runtime) readVerified(path string, lc LoadConfig) (*source, error) {
	if !IsPackage(path) {
		return readPluginDir(path, r.cfg.maxModuleSize)
	}
	pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
	if err != nil {
		return nil, withKind(ErrPackage, fmt.Errorf("load plugin from %s: %w", path, err))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, withKind(ErrPackage, fmt.Errorf("load plugin from %s: %w", path, err))
	}
	return verifyPackage(pkg, "file://"+filepath.ToSlash(abs), lc)
}

// verifyPackage checks pkg with lc's verifier, which must be set. It
// returns the source in every case, and an error if pkg fails.
func verifyPackage(pkg *vitplug.Package, where string, lc LoadConfig) (*source, error) {
	name := pkg.Manifest().Plugin.Name
	src := &source{where: where, manifest: pkg.Manifest(), module: pkg.Module()}
	if lc.verify == nil {
		return src, fmt.Errorf("load plugin %q from %s: %w: no package verifier configured (see LoadConfig.WithPackageVerifier)", name, where, ErrUntrusted)
	}
	if err := lc.verify(pkg, where); err != nil {
		return src, withKind(ErrUntrusted, fmt.Errorf("load plugin %q from %s: %w", name, where, err))
	}
	return src, nil
}
