package registry

import (
	"errors"
	"fmt"
	"strings"
)

// Outcomes a caller can branch on with errors.Is.
var (
	// ErrNotFound: no plugin of that name is installed.
	ErrNotFound = errors.New("plugin not installed")
	// ErrDependency: a dependency is missing, is of a version its constraint
	// refuses, or is disabled; or an update would break a plugin that
	// depends on the one being installed. The error is a *DependencyError.
	ErrDependency = errors.New("unsatisfied dependency")
	// ErrInUse: the plugin is needed by another installed (for Remove) or
	// enabled (for SetEnabled) plugin.
	ErrInUse = errors.New("plugin is needed by another plugin")
	// ErrCycle: plugins depend on each other in a cycle. The error is a
	// *CycleError naming it.
	ErrCycle = errors.New("dependency cycle")
	// ErrNotApproved: an update requests capabilities that the grants of
	// the installed version do not cover, and InstallOptions.Confirm did not
	// approve them. The error is an *ApprovalError holding the difference.
	ErrNotApproved = errors.New("capabilities not approved")
	// ErrConflict: the package would replace an installed plugin with an
	// older version, or with other content under the same version, and
	// InstallOptions.Force is not set.
	ErrConflict = errors.New("conflicts with the installed plugin")
	// ErrVerify: InstallOptions.Verify refused the package, or there is no
	// Verify. The error wraps Verify's error too.
	ErrVerify = errors.New("verification failed")
	// ErrCorrupt: the index or a stored package is unreadable or does not
	// match what the index records (changed behind the registry's back).
	ErrCorrupt = errors.New("registry is corrupt")
	// ErrUnsupported: the registry cannot lock its folder on this operating
	// system (see "Locking" in the package documentation).
	ErrUnsupported = errors.New("registry not supported on this system")
)

// DependencyError is a dependency that is not satisfied:
//
//	plugin "a" 1.0.0 needs "base-utils" ^1.2.0, installed: 1.1.0
//
// It wraps ErrDependency.
type DependencyError struct {
	// Plugin and Version name the plugin that has the dependency.
	Plugin, Version string
	// Dependency and Constraint are the needed plugin and its constraint,
	// as the manifest writes it.
	Dependency, Constraint string
	// Installed is the version of Dependency that was found ("" when none
	// is installed). Installing is set when that version is being
	// installed, replacing the one the plugin was resolved against.
	Installed  string
	Installing bool
	// Disabled is set when Dependency is installed, of a fitting version,
	// but disabled.
	Disabled bool
}

func (e *DependencyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plugin %q %s needs %q %s, ", e.Plugin, e.Version, e.Dependency, e.Constraint)
	switch {
	case e.Installed == "":
		b.WriteString("not installed")
	case e.Installing:
		b.WriteString("installing: " + e.Installed)
	case e.Disabled:
		b.WriteString("installed: " + e.Installed + " (disabled)")
	default:
		b.WriteString("installed: " + e.Installed)
	}
	return b.String()
}

// Unwrap returns ErrDependency.
func (e *DependencyError) Unwrap() error { return ErrDependency }

// CycleError is a cycle of dependencies, printed as
//
//	dependency cycle: a -> b -> a
//
// It wraps ErrCycle.
type CycleError struct {
	// Cycle lists the plugins of the cycle, the first repeated at the end.
	Cycle []string
}

func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Cycle, " -> ")
}

// Unwrap returns ErrCycle.
func (e *CycleError) Unwrap() error { return ErrCycle }

// ApprovalError is an update refused because it requests more than the
// installed version was granted and the caller did not approve it:
//
//	plugin "hello" 1.1.0 requests more than 1.0.0 was granted: net api.example.com, env LANG
//
// It wraps ErrNotApproved.
type ApprovalError struct {
	Diff CapabilityDiff
}

func (e *ApprovalError) Error() string {
	return fmt.Sprintf("plugin %q %s requests more than %s was granted: %s",
		e.Diff.Name, e.Diff.Version, e.Diff.OldVersion, strings.Join(e.Diff.Items(), ", "))
}

// Unwrap returns ErrNotApproved.
func (e *ApprovalError) Unwrap() error { return ErrNotApproved }

// Interface guards
var (
	_ error = (*DependencyError)(nil)
	_ error = (*CycleError)(nil)
	_ error = (*ApprovalError)(nil)
)
