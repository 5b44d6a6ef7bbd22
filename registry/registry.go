package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// EnvHome is the environment variable that overrides the registry
// folder DefaultDir returns.
const EnvHome = "VITTE_HOME"

// DefaultDir returns the folder of the user's registry: $VITTE_HOME, or
// ~/.vitte when it is not set.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvHome); d != "" {
		return filepath.Abs(d)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the plugin registry: $%s is not set and %w", EnvHome, err)
	}
	return filepath.Join(home, ".vitte"), nil
}

// Registry is the local registry of installed plugins kept in one
// folder. Its methods are safe for concurrent use, and several Registry
// values, in one process or several, may share a folder: every change
// takes the folder's lock (see "Locking" in the package documentation).
//
// A Registry reads the index when it is opened (Open), when Refresh is
// called, and at the start of each change; List, Get, Package and
// LoadOrder answer from the index as last read or written.
type Registry struct {
	dir string

	// mu serialises this value's changes and guards idx and subs.
	mu   sync.Mutex
	idx  index
	subs []subscriber
	next int
	// evmu keeps events in the order of the changes.
	evmu sync.Mutex

	// now is the clock of InstalledAt; tests fix it.
	now func() time.Time
	// faults is nil but in tests.
	faults *faults
}

type subscriber struct {
	id int
	fn func(Event)
}

// Open opens the registry in the folder dir, creating it (mode 0700) when
// it does not exist. It takes the folder's lock for a moment to remove
// what a process killed during a change left behind: temporary files, and
// stored packages that no index entry refers to.
func Open(dir string) (*Registry, error) {
	if dir == "" {
		return nil, errors.New("open plugin registry: empty folder name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open plugin registry: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(abs, storeDir), 0o700); err != nil {
		return nil, fmt.Errorf("open plugin registry: %w", err)
	}
	r := &Registry{dir: abs, now: time.Now}
	if err := r.clean(context.Background()); err != nil {
		return nil, fmt.Errorf("open plugin registry %s: %w", abs, err)
	}
	return r, nil
}

// Dir returns the registry's folder, absolute.
func (r *Registry) Dir() string { return r.dir }

// clean removes temporary files and unreferenced stored packages, and
// reads the index.
func (r *Registry) clean(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	unlock, err := lockFile(ctx, filepath.Join(r.dir, lockName))
	if err != nil {
		return err
	}
	defer unlock()
	x, _, err := readIndex(r.dir)
	if err != nil {
		return err
	}
	r.idx = x
	referenced := x.storeFiles()
	for _, d := range []string{r.dir, filepath.Join(r.dir, storeDir)} {
		ents, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		removed := false
		for _, e := range ents {
			n := e.Name()
			orphan := d != r.dir && storeNameRE.MatchString(n) && !referenced[n]
			if strings.HasPrefix(n, tmpPrefix) || orphan {
				// Best effort: what is left is ignored, and retried at the
				// next Open.
				if os.Remove(filepath.Join(d, n)) == nil {
					removed = true
				}
			}
		}
		if removed {
			_ = syncDir(d)
		}
	}
	return nil
}

// Refresh reads the index again, to see the changes other processes made
// since Open.
func (r *Registry) Refresh() error {
	x, _, err := readIndex(r.dir)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.idx = x
	return nil
}

// List returns the installed plugins, sorted by name.
func (r *Registry) List() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Entry, len(r.idx.Plugins))
	for i, e := range r.idx.Plugins {
		out[i] = e.clone()
	}
	return out
}

// Get returns the installed plugin name.
func (r *Registry) Get(name string) (Entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.idx.get(name)
	return e.clone(), ok
}

// Package opens the stored package of the installed plugin name. It fails
// with ErrNotFound when there is none, and with ErrCorrupt when the stored
// file is missing or is not the one the index records (its SHA-256, name,
// version or content id differ).
func (r *Registry) Package(name string) (*vitplug.Package, error) {
	e, ok := r.Get(name)
	if !ok {
		return nil, fmt.Errorf("open plugin %q: %w", name, ErrNotFound)
	}
	return r.openStored(e)
}

func (r *Registry) openStored(e Entry) (*vitplug.Package, error) {
	path := filepath.Join(r.dir, filepath.FromSlash(e.StorePath()))
	data, err := boundedfile.Read(path, maxPackageFile)
	if err != nil {
		return nil, fmt.Errorf("open plugin %q: %w: %w", e.Name, ErrCorrupt, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != e.SHA256 {
		return nil, fmt.Errorf("open plugin %q: %w: %s changed since it was installed", e.Name, ErrCorrupt, path)
	}
	pkg, err := vitplug.Open(bytes.NewReader(data), int64(len(data)), vitplug.Limits{})
	if err != nil {
		return nil, fmt.Errorf("open plugin %q: %w: %w", e.Name, ErrCorrupt, err)
	}
	m := pkg.Manifest()
	if m.Plugin.Name != e.Name || m.Plugin.Version != e.Version || pkg.ContentID() != e.ContentID {
		return nil, fmt.Errorf("open plugin %q: %w: %s holds %q %s %s, not what the index records", e.Name, ErrCorrupt, path, m.Plugin.Name, m.Plugin.Version, pkg.ContentID())
	}
	return pkg, nil
}

// maxPackageFile bounds the .vitplug files read: the largest package that
// the default limits accept, stored, with room for the ZIP headers.
const maxPackageFile = vitplug.DefaultMaxSize + 64<<20

// EventKind says what changed.
type EventKind string

// The kinds of events.
const (
	// EventInstalled: a plugin was installed, or replaced by another
	// version (Event.Previous is then set).
	EventInstalled EventKind = "installed"
	// EventRemoved: a plugin was removed; Event.Entry is what it was.
	EventRemoved  EventKind = "removed"
	EventEnabled  EventKind = "enabled"
	EventDisabled EventKind = "disabled"
)

// Event is a change made to the registry.
type Event struct {
	Kind EventKind
	// Entry is the plugin after the change (before it, for EventRemoved).
	Entry Entry
	// Previous is the version an install replaced, or nil.
	Previous *Entry
}

// Subscribe calls fn with each change made through r, once the change is
// committed, in the order of the changes, from the goroutine that made
// it. It returns a function that stops the calls.
//
// # Notes
//
// fn must not change the registry itself (Install, Remove, SetEnabled
// would wait for fn to return): it may read it (List, Get) or hand the
// event to another goroutine.
//
// Changes made by other Registry values, in this process or another,
// are not reported: they are seen at the next Open or Refresh, as the
// index then read.
func (r *Registry) Subscribe(fn func(Event)) (cancel func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	id := r.next
	r.subs = append(r.subs, subscriber{id: id, fn: fn})
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.subs = slices.DeleteFunc(r.subs, func(s subscriber) bool { return s.id == id })
	}
}

// change is what one call of update writes, besides the index.
type change struct {
	// write is set when the index changes.
	write bool
	// created lists the store files written for the change, removed
	// again if the index is not committed.
	created []string
	events  []Event
}

// update makes one change to the registry under its lock: it reads the
// index, lets op change a copy of it (op may write store files, listed in
// c.created), then commits the copy by replacing the index file, the one
// commit point. Whatever fails before the commit leaves the registry as
// it was (the new store files are removed); whatever fails after it (the
// folder's sync) is rolled back to the old index. Unreferenced stored
// packages are then removed, which a crash may skip: the next Open does
// it.
func (r *Registry) update(ctx context.Context, op func(x *index, c *change) error) error {
	r.mu.Lock()
	muHeld := true
	defer func() {
		if muHeld {
			r.mu.Unlock()
		}
	}()
	events, err := r.updateLocked(ctx, op)
	if len(events) > 0 {
		r.evmu.Lock()
		defer r.evmu.Unlock()
		subs := slices.Clone(r.subs)
		r.mu.Unlock()
		muHeld = false
		for _, ev := range events {
			for _, s := range subs {
				s.fn(ev)
			}
		}
	}
	return err
}

func (r *Registry) updateLocked(ctx context.Context, op func(x *index, c *change) error) ([]Event, error) {
	unlock, err := lockFile(ctx, filepath.Join(r.dir, lockName))
	if err != nil {
		return nil, err
	}
	defer unlock()
	old, oldData, err := readIndex(r.dir)
	if err != nil {
		return nil, err
	}
	r.idx = old
	store := filepath.Join(r.dir, storeDir)
	x := old.clone()
	c := &change{}
	committed := false
	defer func() {
		if committed {
			return
		}
		// Also on runtime.Goexit; a process killed before this leaves the
		// files to the next Open.
		for _, n := range c.created {
			os.Remove(filepath.Join(store, n))
		}
		if len(c.created) > 0 {
			_ = syncDir(store)
		}
	}()
	if err := op(&x, c); err != nil {
		return nil, err
	}
	if !c.write {
		return nil, nil
	}
	x.Version = indexVersion
	x.Generation = old.Generation + 1
	data, err := x.marshal()
	if err != nil {
		return nil, err
	}
	// The rename is the commit: from then on, a crash or a Goexit keeps
	// the change, and the packages it stored.
	renamed, err := r.writeAtomic(r.dir, indexName, data, "index", func() { committed = true })
	if err != nil {
		if !renamed {
			return nil, err
		}
		// Committed, but maybe not durably: put the old index back, so
		// that the error means "nothing changed".
		if rerr := r.restoreIndex(oldData); rerr != nil {
			r.idx = x
			return c.events, errors.Join(err, fmt.Errorf("roll back the index: %w (the change was kept)", rerr))
		}
		committed = false
		return nil, err
	}
	r.idx = x
	keep := x.storeFiles()
	for n := range old.storeFiles() {
		if !keep[n] {
			// A failure leaves an orphan that the next Open removes.
			_ = r.removeDurably(store, n, "gc")
		}
	}
	return c.events, nil
}

// restoreIndex puts back the index file whose content was data (none when
// data is nil).
func (r *Registry) restoreIndex(data []byte) error {
	if data == nil {
		return r.removeDurably(r.dir, indexName, "rollback")
	}
	_, err := r.writeAtomic(r.dir, indexName, data, "rollback", nil)
	return err
}
