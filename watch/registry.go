package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Installed is an installed plugin running as a runtime.Reloadable and
// kept in step with the local registry by Follow.
type Installed struct {
	rl   *runtime.Reloadable
	reg  *registry.Registry
	name string
	lc   runtime.LoadConfig

	// mu guards what sync keeps between runs.
	mu sync.Mutex
	// contentID is the content id of the version running; refused the
	// last one whose reload was refused, not tried again.
	contentID, refused string
	// persisted is the quarantine recorded in the index by this process
	// (or restored from it), nil when none.
	persisted *runtime.QuarantineError
}

// LoadInstalled loads the installed plugin name from reg: its stored
// package, checked by lc's package verifier against the source it was
// installed from, loaded with the grants recorded for it (those of lc are
// replaced) and lc's other settings. A quarantine recorded in the index
// for this version is restored (Plugin.Quarantine), so that a restart
// does not lift it.
func LoadInstalled(ctx context.Context, rt *runtime.Runtime, reg *registry.Registry, name string, lc runtime.LoadConfig) (*Installed, error) {
	e, ok := reg.Get(name)
	if !ok {
		return nil, fmt.Errorf("load plugin %q: %w", name, registry.ErrNotFound)
	}
	pkg, err := reg.Package(name)
	if err != nil {
		return nil, fmt.Errorf("load plugin %q: %w", name, err)
	}
	rl, err := rt.LoadReloadablePackage(ctx, pkg, e.Source, lc.WithGrants(e.Grants.Grants()))
	if err != nil {
		return nil, err
	}
	in := &Installed{rl: rl, reg: reg, name: name, lc: lc, contentID: e.ContentID}
	if q := e.Quarantine; q != nil && q.Version == e.Version {
		in.persisted = rl.Quarantine(restoredReason(q))
	}
	return in, nil
}

func restoredReason(q *registry.Quarantine) string {
	return fmt.Sprintf("quarantined since %s, recorded in the registry: %s", q.Since.Format(time.RFC3339), q.Reason)
}

// Plugin returns the running plugin: call it through its Call.
func (in *Installed) Plugin() *runtime.Reloadable { return in.rl }

// Follow keeps the plugin in step with the registry until ctx is done,
// then returns nil (the plugin keeps running: Close it). It watches the
// registry's index, so it sees the changes of every process:
//
//   - a version installed (`vitte plugin install`) is swapped in with
//     Reloadable.ReloadPackage, with the grants recorded for it; a refused
//     one is not tried again until another is installed;
//   - the running version's quarantine is recorded in the index
//     (registry.SetQuarantine), for `vitte plugin list`, and cleared when
//     it ends here (Plugin.Release, a reload);
//   - a quarantine cleared in the index (`vitte plugin release`) releases
//     the plugin.
//
// Options.Build and Match are not used; Report gets the outcome of each
// reload and any failure to read or write the registry.
func (in *Installed) Follow(ctx context.Context, opts Options) error {
	kick := make(chan struct{}, 1)
	poke := func(runtime.Event) {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	defer in.rl.Subscribe(poke)()
	opts.Match = func(p string) bool { return filepath.Base(p) == "index.json" }
	poke(runtime.Event{}) // catch up with what changed since the load
	return loop(ctx, []string{in.reg.Dir()}, opts, kick, func(ctx context.Context) { in.sync(ctx, opts) })
}

// sync brings the plugin and the index in step; see Follow.
func (in *Installed) sync(ctx context.Context, opts Options) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.reg.Refresh(); err != nil {
		opts.report(fmt.Errorf("follow plugin %q: %w", in.name, err))
		return
	}
	e, ok := in.reg.Get(in.name)
	if !ok {
		opts.report(fmt.Errorf("follow plugin %q: %w: version %s keeps running", in.name, registry.ErrNotFound, in.rl.Current().Version()))
		return
	}
	if e.ContentID != in.contentID && e.ContentID != in.refused {
		err := in.reload(ctx, e)
		if err != nil {
			in.refused = e.ContentID
		} else {
			in.contentID, in.refused = e.ContentID, ""
		}
		opts.report(err)
	}

	cur := in.rl.Quarantined()
	var err error
	switch {
	case cur != nil && cur == in.persisted && e.Quarantine == nil:
		// Cleared in the index: `vitte plugin release`.
		in.persisted = nil
		in.rl.Release("released in the registry")
	case cur != nil && cur != in.persisted:
		// Quarantined here: record it.
		err = in.reg.SetQuarantine(in.name, &registry.Quarantine{Since: cur.Since, Version: cur.Version, Reason: cur.Reason()})
		if err == nil {
			in.persisted = cur
		}
	case cur == nil && in.persisted != nil:
		// Released here (the application, a reload): clear the record, if
		// it is still ours.
		in.persisted = nil
		if e.Quarantine != nil && e.Quarantine.Version == in.rl.Current().Version() {
			err = in.reg.SetQuarantine(in.name, nil)
		}
	}
	if err != nil && !errors.Is(err, registry.ErrConflict) {
		opts.report(fmt.Errorf("follow plugin %q: %w", in.name, err))
	}
}

func (in *Installed) reload(ctx context.Context, e registry.Entry) error {
	pkg, err := in.reg.Package(in.name)
	if err != nil {
		return fmt.Errorf("reload plugin %q: %w", in.name, err)
	}
	return in.rl.ReloadPackage(ctx, pkg, e.Source, in.lc.WithGrants(e.Grants.Grants()))
}

// Close unloads the plugin (Reloadable.Close).
func (in *Installed) Close(ctx context.Context) error { return in.rl.Close(ctx) }
