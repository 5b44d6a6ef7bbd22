package registry

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Quarantine records that a host quarantined an installed plugin: its
// circuit breaker tripped after repeated traps or timeouts (the runtime's
// ErrQuarantined). A host writes it; `vitte plugin list` shows it, and
// `vitte plugin release` clears it, which the host watching the registry
// takes as the order to release the plugin. See docs/RATIONALE.md "How
// does the command line learn that a host quarantined a plugin?".
type Quarantine struct {
	// Since is when the plugin was quarantined, in UTC.
	Since time.Time `json:"since"`
	// Version is the version that was quarantined.
	Version string `json:"version"`
	// Reason is why: the failures, one a line.
	Reason string `json:"reason"`
}

// MaxQuarantineReason bounds Quarantine.Reason; a longer one is cut.
const MaxQuarantineReason = 4 << 10

// The events of SetQuarantine.
const (
	// EventQuarantined: Entry.Quarantine was set.
	EventQuarantined EventKind = "quarantined"
	// EventReleased: Entry.Quarantine was cleared; Previous holds the
	// entry as it was.
	EventReleased EventKind = "released"
)

// SetQuarantine records q as the quarantine of the installed plugin name,
// or clears it when q is nil (a release). It fails with ErrNotFound when
// name is not installed, and with ErrConflict when q is for a version other
// than the installed one (a host running an older version). Setting what
// is already recorded writes nothing.
func (r *Registry) SetQuarantine(name string, q *Quarantine) error {
	verb := "quarantine"
	if q == nil {
		verb = "release"
	} else {
		c := *q
		c.Since = c.Since.UTC()
		c.Reason = cut(c.Reason, MaxQuarantineReason)
		q = &c
	}
	err := r.update(context.Background(), func(x *index, c *change) error {
		e, ok := x.get(name)
		if !ok {
			return ErrNotFound
		}
		if q != nil && q.Version != e.Version {
			return fmt.Errorf("%w: version %s is installed, not %s", ErrConflict, e.Version, q.Version)
		}
		if equalQuarantine(e.Quarantine, q) {
			return nil
		}
		prev := e.clone()
		e.Quarantine = q
		x.put(e)
		c.write = true
		ev := Event{Kind: EventQuarantined, Entry: e.clone()}
		if q == nil {
			ev = Event{Kind: EventReleased, Entry: e.clone(), Previous: &prev}
		}
		c.events = append(c.events, ev)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s plugin %q: %w", verb, name, err)
	}
	return nil
}

// Release clears the quarantine of the installed plugin name. It reports
// whether there was one.
func (r *Registry) Release(name string) (bool, error) {
	if err := r.Refresh(); err != nil {
		return false, fmt.Errorf("release plugin %q: %w", name, err)
	}
	e, ok := r.Get(name)
	if !ok {
		return false, fmt.Errorf("release plugin %q: %w", name, ErrNotFound)
	}
	if e.Quarantine == nil {
		return false, nil
	}
	err := r.SetQuarantine(name, nil)
	if errors.Is(err, ErrNotFound) {
		return false, err
	}
	return err == nil, err
}

func equalQuarantine(a, b *Quarantine) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Since.Equal(b.Since) && a.Version == b.Version && a.Reason == b.Reason
}

// cut shortens s to at most n bytes, at a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = " […]"
	s = s[:n-len(mark)]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1] // a rune cut in two
	}
	return s + mark
}
