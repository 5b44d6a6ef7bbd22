package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// InstallOptions configures one Install.
type InstallOptions struct {
	// Grants are the capabilities the user approves for the plugin. For a
	// first install they are what is recorded; for an update they are
	// added to the grants carried over from the installed version.
	Grants GrantRecord
	// Verify checks the package and returns its signers (trusted key ids,
	// or nothing for a package accepted unsigned); an error refuses it.
	// source is InstallOptions.Source. It is required: pass trust.Verify,
	// or a function that accepts unsigned packages when the user said so.
	Verify func(pkg *vitplug.Package, source string) (signers []string, err error)
	// Source is where the package comes from, recorded and given to
	// Verify. Default: "file://" and the package's absolute path.
	Source string
	// Force allows a downgrade, replacing a version with other content
	// under the same version, an update that breaks a plugin depending on
	// this one, and a dependency cycle. It never skips Verify or Confirm.
	Force bool
	// Confirm is called when an update requests capabilities that the
	// installed version's grants and Grants do not cover (a
	// CapabilityDiff); true grants them. Nil refuses them, as false does.
	Confirm func(diff CapabilityDiff) bool
}

// Install installs the .vitplug package at pkgPath: it opens and checks the
// package (vitplug.Open), calls opts.Verify, resolves the manifest's
// [dependencies] against the installed plugins, stores the package, and
// records it in the index with its grants, enabled. Installing the package
// that is installed already, with no new grants, changes nothing.
//
// Installing a plugin of a name already installed updates it: the new
// entry keeps the enabled state and the grants of the old one, plus
// opts.Grants. The old grants are not carried over to what the old
// version did not request: the new version's requests that they do not
// cover in full, and that opts.Grants does not cover either, form a
// CapabilityDiff that opts.Confirm must approve, or Install fails with an
// *ApprovalError (ErrNotApproved). A grant of All recorded for the old
// version stands for the requests that version made, not for new ones.
// Confirm is called without the registry's lock held, so it may take its
// time; if the registry changes meanwhile, the difference is computed
// again and Confirm is called again if it grew.
//
// Install refuses, with the registry unchanged: a package that does not
// open (vitplug's errors), one Verify refuses (ErrVerify), grants that do
// not resolve, a missing, disabled-or-not or conflicting dependency
// (*DependencyError, ErrDependency), an update that breaks a plugin
// depending on this one (*DependencyError) or makes a dependency cycle
// (*CycleError), a downgrade or other content under the installed version
// (ErrConflict): the last three unless opts.Force.
//
// It returns the entry recorded.
func (r *Registry) Install(ctx context.Context, pkgPath string, opts InstallOptions) (*Entry, error) {
	data, err := boundedfile.Read(pkgPath, maxPackageFile)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", pkgPath, err)
	}
	pkg, err := vitplug.Open(bytes.NewReader(data), int64(len(data)), vitplug.Limits{})
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", pkgPath, err)
	}
	m := pkg.Manifest()
	fail := func(err error) (*Entry, error) {
		return nil, fmt.Errorf("install plugin %q %s: %w", m.Plugin.Name, m.Plugin.Version, err)
	}
	source := opts.Source
	if source == "" {
		abs, err := filepath.Abs(pkgPath)
		if err != nil {
			return fail(err)
		}
		source = "file://" + filepath.ToSlash(abs)
	}
	if opts.Verify == nil {
		return fail(fmt.Errorf("%w: no verifier", ErrVerify))
	}
	signers, err := opts.Verify(pkg, source)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrVerify, err))
	}
	if _, err := capabilities.Resolve(m.Capabilities, opts.Grants.Grants()); err != nil {
		return fail(fmt.Errorf("grants: %w", err))
	}
	version, err := semver.StrictNewVersion(m.Plugin.Version)
	if err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(data)
	in := &installing{
		pkg:     pkg,
		m:       m,
		version: version,
		data:    data,
		sha:     hex.EncodeToString(sum[:]),
		source:  source,
		signers: slices.Clone(signers),
		opts:    opts,
	}
	// Asking the user happens outside the lock: plan, and if the plan
	// needs an approval, ask, then plan again with it.
	for range 8 {
		var (
			need   *CapabilityDiff
			result Entry
		)
		err := r.update(ctx, func(x *index, c *change) error {
			e, diff, err := r.plan(x, c, in)
			if err != nil {
				return err
			}
			if diff != nil {
				need = diff
				return nil
			}
			result = e
			return nil
		})
		if err != nil {
			return fail(err)
		}
		if need == nil {
			return &result, nil
		}
		if opts.Confirm == nil || !opts.Confirm(*need) {
			return fail(&ApprovalError{Diff: *need})
		}
		in.approved = need
	}
	return fail(errors.New("the registry kept changing during the approval; try again"))
}

// installing is one Install under way.
type installing struct {
	pkg     *vitplug.Package
	m       *manifest.Manifest
	version *semver.Version
	data    []byte
	sha     string
	source  string
	signers []string
	opts    InstallOptions
	// approved is what Confirm approved, if it was asked.
	approved *CapabilityDiff
}

// plan installs in into x, writing the package to the store, or returns
// the difference that needs an approval first.
func (r *Registry) plan(x *index, c *change, in *installing) (Entry, *CapabilityDiff, error) {
	name, m := in.m.Plugin.Name, in.m
	e := Entry{
		Name:      name,
		Version:   m.Plugin.Version,
		ContentID: in.pkg.ContentID(),
		SHA256:    in.sha,
		Source:    in.source,
		Signers:   in.signers,
		Grants:    in.opts.Grants.clone(),
		Enabled:   true,
	}
	old, update := x.get(name)
	if update {
		ov, err := semver.StrictNewVersion(old.Version)
		if err != nil {
			return e, nil, fmt.Errorf("%w: installed version %q: %w", ErrCorrupt, old.Version, err)
		}
		switch cmp := in.version.Compare(ov); {
		case cmp < 0 && !in.opts.Force:
			return e, nil, fmt.Errorf("%w: %s is installed, a newer version", ErrConflict, old.Version)
		case cmp == 0 && old.ContentID != e.ContentID && !in.opts.Force:
			return e, nil, fmt.Errorf("%w: %s is installed with other content (%s, this is %s)", ErrConflict, old.Version, old.ContentID, e.ContentID)
		}
		// Carry the old grants over, All narrowed to what the old
		// version requested; what the new version requests beyond
		// them needs new grants or an approval.
		var oldReq manifest.Capabilities
		if p, err := r.openStored(old); err == nil {
			oldReq = p.Manifest().Capabilities
		} // else: an unreadable old package requested nothing; ask about everything.
		base := old.Grants.expand(oldReq)
		e.Grants = base.merge(in.opts.Grants)
		diff := uncovered(m.Capabilities, base).without(oldReq)
		diff = uncovered(diff.caps(), e.Grants)
		if !diff.Empty() {
			diff.Name, diff.Version, diff.OldVersion = name, e.Version, old.Version
			if in.approved == nil || !diff.coveredBy(*in.approved) {
				return e, &diff, nil
			}
			e.Grants = e.Grants.grant(diff)
		}
		e.Enabled = old.Enabled
		if old.SHA256 == e.SHA256 && old.Source == e.Source && slices.Equal(old.Signers, e.Signers) && grantsEqual(old.Grants, e.Grants) {
			return old, nil, nil // installed already: nothing to do
		}
	}
	deps, err := resolve(x, name, m.Plugin.Version, m.Dependencies)
	if err != nil {
		return e, nil, err
	}
	e.Dependencies = deps
	// The plugins that depend on this one must accept the new version.
	for i, d := range x.Plugins {
		for j, dep := range d.Dependencies {
			if dep.Name != name {
				continue
			}
			cs, err := semver.NewConstraint(dep.Constraint)
			if err != nil || !cs.Check(in.version) {
				if !in.opts.Force {
					return e, nil, &DependencyError{Plugin: d.Name, Version: d.Version, Dependency: name, Constraint: dep.Constraint, Installed: e.Version, Installing: true}
				}
				continue
			}
			x.Plugins[i].Dependencies[j].Version = e.Version
		}
	}
	e.InstalledAt = r.now().UTC().Truncate(time.Second)
	e.normalize()
	x.put(e)
	if cycle := findCycle(x, name); cycle != nil && !in.opts.Force {
		return e, nil, &CycleError{Cycle: cycle}
	}
	if err := r.store(c, in.sha, in.data); err != nil {
		return e, nil, err
	}
	c.write = true
	ev := Event{Kind: EventInstalled, Entry: e.clone()}
	if update {
		prev := old.clone()
		ev.Previous = &prev
	}
	c.events = append(c.events, ev)
	return e.clone(), nil, nil
}

// store writes data to the store as <sha>.vitplug, unless a file of that
// content is there already.
func (r *Registry) store(c *change, sha string, data []byte) error {
	dir := filepath.Join(r.dir, storeDir)
	name := sha + packageExt
	if have, err := boundedfile.Read(filepath.Join(dir, name), int64(len(data))); err == nil && bytes.Equal(have, data) {
		return nil
	}
	_, err := r.writeAtomic(dir, name, data, "store", func() { c.created = append(c.created, name) })
	if err != nil {
		return fmt.Errorf("store the package: %w", err)
	}
	return nil
}

// resolve checks the dependencies of plugin name against the installed
// plugins of x, and returns them resolved, sorted by name.
func resolve(x *index, name, version string, deps map[string]manifest.Dependency) ([]Dependency, error) {
	names := make([]string, 0, len(deps))
	for n := range deps {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []Dependency
	for _, n := range names {
		d := deps[n]
		if n == name {
			return nil, &CycleError{Cycle: []string{name, name}}
		}
		derr := &DependencyError{Plugin: name, Version: version, Dependency: n, Constraint: d.Constraint}
		got, ok := x.get(n)
		if !ok {
			return nil, derr
		}
		derr.Installed = got.Version
		v, err := semver.StrictNewVersion(got.Version)
		if err != nil || d.Constraints == nil || !d.Constraints.Check(v) {
			return nil, derr
		}
		out = append(out, Dependency{Name: n, Constraint: d.Constraint, Version: got.Version})
	}
	return out, nil
}

func grantsEqual(a, b GrantRecord) bool {
	return slices.Equal(a.FS, b.FS) && slices.Equal(a.Net, b.Net) && slices.Equal(a.DenyNet, b.DenyNet) &&
		slices.Equal(a.Host, b.Host) && slices.Equal(a.Env, b.Env) && a.All == b.All
}
