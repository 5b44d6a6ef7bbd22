package runtime

import (
	"errors"
	"fmt"
	"time"
)

// EventKind says what an Event reports.
type EventKind string

// The kinds of events.
const (
	// EventReloaded: a Reloadable swapped in a new version. Version is the
	// new one, Previous the one it replaced; Routed and Drained say how
	// long the swap took.
	EventReloaded EventKind = "reloaded"
	// EventReloadRefused: a new version failed to read, verify, load, run
	// on-load, or asked for capabilities not granted; Err says why. The
	// version that was serving (Version) keeps serving. Candidate is the
	// refused version, when its manifest could be read.
	EventReloadRefused EventKind = "reload-refused"
	// EventQuarantined: the plugin's circuit breaker tripped; Err is the
	// *QuarantineError.
	EventQuarantined EventKind = "quarantined"
	// EventReleased: a quarantine was lifted, by Plugin.Release or by a
	// reload that swapped in another version; Reason says which, Err is
	// the quarantine that ended.
	EventReleased EventKind = "released"
)

// Event is something that happened to a plugin while it was serving:
// a reload, a refused reload, a quarantine, a release. The runtime's
// handler (Config.WithEvents) gets every event; Reloadable.Subscribe
// those of one reloadable plugin.
type Event struct {
	Kind EventKind
	Time time.Time
	// Plugin and Version name the plugin and the version serving calls
	// after the event.
	Plugin, Version string
	// Previous is the version a reload replaced.
	Previous string
	// Candidate is the version a refused reload would have loaded ("" when
	// its manifest could not be read).
	Candidate string
	// Err is why a reload was refused, or the quarantine
	// (*QuarantineError) that began or ended.
	Err error
	// Reason is who or what released a quarantine.
	Reason string
	// Routed is how long a reload took from its start to new calls going
	// to the new version: reading, verifying, compiling, on-load.
	// Drained is how long the old version then took to finish its calls in
	// flight and run on-unload.
	Routed, Drained time.Duration
}

// String describes the event on one line.
func (e Event) String() string {
	switch e.Kind {
	case EventReloaded:
		return fmt.Sprintf("%s: reloaded %s -> %s (routed in %s, old version drained in %s)", e.Plugin, e.Previous, e.Version, e.Routed.Round(time.Microsecond), e.Drained.Round(time.Microsecond))
	case EventReloadRefused:
		c := e.Candidate
		if c == "" {
			c = "new version"
		}
		err := e.Err
		var re *ReloadError
		if errors.As(err, &re) {
			err = re.Err // without "reload plugin ...", said already
		}
		return fmt.Sprintf("%s: reload refused, %s keeps serving (%s): %v", e.Plugin, e.Version, c, err)
	case EventQuarantined:
		return fmt.Sprintf("%s %s: quarantined: %v", e.Plugin, e.Version, e.Err)
	case EventReleased:
		return fmt.Sprintf("%s %s: released from quarantine (%s)", e.Plugin, e.Version, e.Reason)
	}
	return fmt.Sprintf("%s %s: %s", e.Plugin, e.Version, e.Kind)
}
