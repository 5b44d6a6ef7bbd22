// Package registry is the local registry of installed plugins: the
// .vitplug packages a user installed, under $VITTE_HOME (default ~/.vitte),
// with the grants the user approved for each, their dependencies, and
// whether they are enabled. It is what `vitte plugin install`, `list`,
// `remove` and `unload` work on. Packages follow the .vitplug format v1
// (docs/spec/package-v1.md), read by package vitplug.
//
//	reg, err := registry.Open(dir) // registry.DefaultDir() for the user's
//	e, err := reg.Install(ctx, "hello-1.0.0.vitplug", registry.InstallOptions{
//		Grants: registry.GrantRecord{Host: []string{"test.*"}},
//		Verify: verify, // trust.Verify, wrapped
//	})
//	order, err := reg.LoadOrder() // enabled plugins, dependencies first
//	pkg, err := reg.Package(order[0].Name)
//	// load pkg with order[0].Grants.Grants()
//
// The registry does not verify signatures itself: the caller passes a
// Verify function (the trust package's), so that the two stay apart.
//
// # Layout
//
//	$VITTE_HOME/
//	  lock                    the lock every change takes (flock)
//	  index.json              the index: one Entry per installed plugin
//	  store/<sha256>.vitplug  each installed package, byte for byte as
//	                          installed (signatures included), named by
//	                          the SHA-256 of the file
//
// The store keeps the file rather than its content id so that the
// signatures stay with the package and a stored package can be checked
// again (Package checks its SHA-256, name, version and content id). The
// index is JSON, written by this package only; its "version" field is 1.
//
// # Atomicity
//
// Every file is written whole or not at all: a temporary file
// (".tmp-" prefix) in the same folder, written, synced, closed, renamed
// over the target, and the folder synced. A change (Install, Remove,
// SetEnabled) writes the new package to the store first, then the index;
// replacing the index is the one commit point. So at any moment the
// index names only packages that are in the store, whole and synced, and
// a reader never sees a partial index.
//
// If a change fails before its commit (an I/O error, a full disk), the
// packages it stored are removed and the registry is as it was. If the
// folder's sync fails after the rename, the old index is put back. A
// process killed at any point leaves the registry either as it was or
// fully changed, plus perhaps a temporary file or an unreferenced
// package, which the next Open removes. Readers (List, Get, Refresh)
// need no lock.
//
// # Locking
//
// Changes are serialised by an exclusive flock(2) on $VITTE_HOME/lock,
// held from reading the index to committing it, in every process and
// every Registry value (the lock belongs to the open file, not the
// process). The system releases it when a process dies, so a crash
// never leaves the registry locked. Install verifies the package and
// asks InstallOptions.Confirm without holding it.
//
// flock is not available on Windows and a few other systems: there Open
// fails with ErrUnsupported. Supported: Linux, macOS, FreeBSD, NetBSD,
// OpenBSD, DragonFly. Folders on network file systems where flock does
// not work across machines are not supported either.
//
// # Updates
//
// Installing a plugin of a name that is installed replaces it. The grants
// the user approved for the old version carry over, plus those passed to
// Install, but only so far as they go: the new version's requests that
// they do not cover in full (a new destination, a host-call pattern wider
// than the granted ones, a read-write mount of a read-only grant) form a
// CapabilityDiff, which InstallOptions.Confirm must approve or the update
// is refused (ErrNotApproved). A recorded grant of All stands for what the
// old version requested, not for anything a later version may ask.
// Requests the old version made already and the user did not grant are
// not asked about again: they stay ungranted.
//
// Confirm runs without the lock, so that a prompt does not block other
// processes; the difference is computed again under the lock afterwards,
// and Confirm asked again only if it grew.
//
// # Dependencies
//
// A plugin's [dependencies] must be installed when it is, in versions
// their Masterminds/semver constraints accept; an update must keep the
// plugins that depend on it satisfied; Remove refuses to take away a
// dependency, SetEnabled to disable one that an enabled plugin needs, and
// LoadOrder returns the enabled plugins dependencies first. Errors name
// both sides:
//
//	plugin "app" 1.0.0 needs "base-utils" ^1.2.0, installed: 1.1.0
//
// # Events
//
// Subscribe reports the changes made through one Registry value.
// Changes made by other processes are seen at the next Open or Refresh.
package registry
