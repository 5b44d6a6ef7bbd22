package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// LoadOrder returns the enabled plugins in the order to load them: each
// after the plugins it depends on, and otherwise by name. It fails with a
// *CycleError naming a cycle of dependencies, and with a *DependencyError
// when an enabled plugin depends on one that is not installed, is
// disabled or is of a version its constraint refuses (which Force can
// leave behind).
//
// It answers from the index as last read or written (see Refresh).
func (r *Registry) LoadOrder() ([]Entry, error) {
	r.mu.Lock()
	x := r.idx.clone()
	r.mu.Unlock()

	var out []Entry
	state := map[string]int{} // 0 unvisited, 1 on the path, 2 done
	var path []string
	var visit func(e Entry) error
	visit = func(e Entry) error {
		switch state[e.Name] {
		case 2:
			return nil
		case 1:
			i := slices.Index(path, e.Name)
			return &CycleError{Cycle: append(slices.Clone(path[i:]), e.Name)}
		}
		state[e.Name] = 1
		path = append(path, e.Name)
		for _, d := range e.Dependencies {
			derr := &DependencyError{Plugin: e.Name, Version: e.Version, Dependency: d.Name, Constraint: d.Constraint}
			dep, ok := x.get(d.Name)
			if !ok {
				return derr
			}
			derr.Installed = dep.Version
			if !satisfies(d.Constraint, dep.Version) {
				return derr
			}
			if !dep.Enabled {
				derr.Disabled = true
				return derr
			}
			if err := visit(dep); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[e.Name] = 2
		out = append(out, e)
		return nil
	}
	for _, e := range x.Plugins { // sorted by name
		if !e.Enabled {
			continue
		}
		if err := visit(e); err != nil {
			return nil, fmt.Errorf("load order: %w", err)
		}
	}
	return out, nil
}

func satisfies(constraint, version string) bool {
	cs, err := semver.NewConstraint(constraint)
	if err != nil {
		return false
	}
	v, err := semver.StrictNewVersion(version)
	return err == nil && cs.Check(v)
}

// findCycle returns a cycle of dependencies through name in x, the first
// name repeated at the end, or nil.
func findCycle(x *index, name string) []string {
	var path []string
	seen := map[string]bool{}
	var walk func(n string) []string
	walk = func(n string) []string {
		if len(path) > 0 && n == name {
			return append(slices.Clone(path), name)
		}
		if seen[n] {
			return nil
		}
		seen[n] = true
		e, ok := x.get(n)
		if !ok {
			return nil
		}
		path = append(path, n)
		for _, d := range e.Dependencies {
			if c := walk(d.Name); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		return nil
	}
	return walk(name)
}

// dependents returns the plugins of x that depend on name (only the
// enabled ones when enabledOnly), as `"app" 1.0.0 (^1.2.0)`.
func dependents(x *index, name string, enabledOnly bool) []string {
	var out []string
	for _, e := range x.Plugins {
		if enabledOnly && !e.Enabled {
			continue
		}
		for _, d := range e.Dependencies {
			if d.Name == name {
				out = append(out, fmt.Sprintf("%q %s (%s)", e.Name, e.Version, d.Constraint))
			}
		}
	}
	return out
}

// Remove uninstalls the plugin name: its entry leaves the index and its
// package the store. It refuses, with ErrInUse, when another installed
// plugin depends on it, unless force; the dependents then fail to load
// (LoadOrder) until it is installed again.
func (r *Registry) Remove(name string, force bool) error {
	err := r.update(context.Background(), func(x *index, c *change) error {
		e, ok := x.get(name)
		if !ok {
			return ErrNotFound
		}
		if ds := dependents(x, name, false); len(ds) > 0 && !force {
			return fmt.Errorf("%w: needed by %s", ErrInUse, strings.Join(ds, ", "))
		}
		x.remove(name)
		c.write = true
		c.events = append(c.events, Event{Kind: EventRemoved, Entry: e.clone()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove plugin %q: %w", name, err)
	}
	return nil
}

// SetEnabled enables or disables the plugin name: LoadOrder returns only
// enabled plugins. Enabling a plugin needs its dependencies installed,
// enabled and of fitting versions (*DependencyError); disabling one that
// an enabled plugin depends on fails with ErrInUse. Setting the state a
// plugin has already changes nothing.
func (r *Registry) SetEnabled(name string, enabled bool) error {
	verb := "disable"
	if enabled {
		verb = "enable"
	}
	err := r.update(context.Background(), func(x *index, c *change) error {
		e, ok := x.get(name)
		if !ok {
			return ErrNotFound
		}
		if e.Enabled == enabled {
			return nil
		}
		if enabled {
			for _, d := range e.Dependencies {
				derr := &DependencyError{Plugin: e.Name, Version: e.Version, Dependency: d.Name, Constraint: d.Constraint}
				dep, ok := x.get(d.Name)
				if !ok {
					return derr
				}
				derr.Installed = dep.Version
				if !satisfies(d.Constraint, dep.Version) {
					return derr
				}
				if !dep.Enabled {
					derr.Disabled = true
					return derr
				}
			}
		} else if ds := dependents(x, name, true); len(ds) > 0 {
			return fmt.Errorf("%w: needed by enabled %s", ErrInUse, strings.Join(ds, ", "))
		}
		e.Enabled = enabled
		x.put(e)
		c.write = true
		kind := EventDisabled
		if enabled {
			kind = EventEnabled
		}
		c.events = append(c.events, Event{Kind: kind, Entry: e.clone()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s plugin %q: %w", verb, name, err)
	}
	return nil
}
