package registry

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

func TestRegistry_Install(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	path := pack(t, pkgs, spec{name: "hello", version: "1.0.0", caps: `host = ["test.*"]` + "\nenv = [\"LANG\"]"})
	r := openTest(t, dir)

	var gotSource string
	e := install(t, r, path, InstallOptions{
		Grants: GrantRecord{Host: []string{"test.*"}},
		Verify: func(pkg *vitplug.Package, source string) ([]string, error) {
			gotSource = source
			return []string{"RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"}, nil
		},
	})
	abs, _ := filepath.Abs(path)
	require.Equal(t, "file://"+filepath.ToSlash(abs), gotSource)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
	require.NoError(t, err)
	want := Entry{
		Name:         "hello",
		Version:      "1.0.0",
		ContentID:    pkg.ContentID(),
		SHA256:       hex.EncodeToString(sum[:]),
		Source:       gotSource,
		Signers:      []string{"RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"},
		Grants:       GrantRecord{Host: []string{"test.*"}},
		Enabled:      true,
		Dependencies: []Dependency{},
		InstalledAt:  fixedNow,
	}
	require.Equal(t, want, *e)
	got, ok := r.Get("hello")
	require.True(t, ok)
	require.Equal(t, want, got)
	require.Equal(t, []Entry{want}, r.List())

	// The store holds the file, byte for byte.
	stored, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.StorePath())))
	require.NoError(t, err)
	require.Equal(t, data, stored)
	p, err := r.Package("hello")
	require.NoError(t, err)
	require.Equal(t, pkg.ContentID(), p.ContentID())

	// Another Registry value sees it; so does a fresh Open.
	r2 := openTest(t, dir)
	require.Equal(t, []Entry{want}, r2.List())

	// The grants rebuild.
	set, err := capabilities.Resolve(p.Manifest().Capabilities, got.Grants.Grants())
	require.NoError(t, err)
	require.True(t, set.AllowHostCall("test.echo"))
	require.Equal(t, []string{"env LANG"}, set.Denied)
}

func TestRegistry_Install_again(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	path := pack(t, pkgs, spec{name: "hello", version: "1.0.0"})
	r := openTest(t, dir)
	install(t, r, path, InstallOptions{})
	before := snap(t, dir)
	var events []Event
	r.Subscribe(func(e Event) { events = append(events, e) })

	// The same package again: nothing changes.
	install(t, r, path, InstallOptions{})
	require.Equal(t, before, snap(t, dir))
	require.Empty(t, events)

	// With a new grant: it is added.
	e := install(t, r, path, InstallOptions{Grants: GrantRecord{Host: []string{"test.echo"}}})
	require.Equal(t, []string{"test.echo"}, e.Grants.Host)
	require.Len(t, events, 1)
	require.Equal(t, EventInstalled, events[0].Kind)
	require.NotNil(t, events[0].Previous)
}

// TestRegistry_Install_Errors: each bad install is refused with a clear
// error and leaves the registry as it was.
func TestRegistry_Install_Errors(t *testing.T) {
	pkgs := t.TempDir()
	good := pack(t, pkgs, spec{name: "hello", version: "1.0.0"})
	goodData, err := os.ReadFile(good)
	require.NoError(t, err)
	truncated := filepath.Join(pkgs, "truncated.vitplug")
	require.NoError(t, os.WriteFile(truncated, goodData[:len(goodData)/2], 0o644))
	zipSlip := filepath.Join(pkgs, "zipslip.vitplug")
	require.NoError(t, os.WriteFile(zipSlip, zipSlipPackage(t), 0o644))
	base11 := pack(t, pkgs, spec{name: "base-utils", version: "1.1.0"})
	base12 := pack(t, pkgs, spec{name: "base-utils", version: "1.2.0"})
	app := pack(t, pkgs, spec{name: "app", version: "1.0.0", deps: map[string]string{"base-utils": "^1.2.0"}})
	hello09 := pack(t, pkgs, spec{name: "hello", version: "0.9.0"})
	otherContent := packManifest(t, pkgs, "hello-other", spec{name: "hello", version: "1.0.0", extra: "[config]\nx = \"y\""}.manifest())
	fsReq := pack(t, pkgs, spec{name: "fsreq", version: "1.0.0", caps: `fs = [{ path = "/data", mode = "ro" }]`})
	folder := filepath.Join(pkgs, "folder.vitplug")
	require.NoError(t, os.Mkdir(folder, 0o755))
	huge := filepath.Join(pkgs, "huge.vitplug")
	require.NoError(t, os.WriteFile(huge, nil, 0o644))
	require.NoError(t, os.Truncate(huge, maxPackageFile+1)) // sparse: no disk used

	tests := []struct {
		name string
		// setup installs what the registry holds before.
		setup []string
		path  string
		opts  InstallOptions
		// noVerify passes no Verify at all.
		noVerify bool
		is       error
		msg      string
	}{
		{name: "missing file", path: filepath.Join(pkgs, "nope.vitplug"), is: os.ErrNotExist, msg: "install " + filepath.Join(pkgs, "nope.vitplug") + ": open "},
		{name: "folder", path: folder, is: boundedfile.ErrNotRegular, msg: "install " + folder + ": " + folder + " is not a regular file (folder)"},
		{name: "too large", path: huge, is: boundedfile.ErrTooLarge, msg: fmt.Sprintf("install %s: %s is %d bytes, over the limit of %d bytes", huge, huge, maxPackageFile+1, maxPackageFile)},
		{name: "truncated", setup: []string{good}, path: truncated, is: vitplug.ErrCorrupt, msg: "install " + truncated + ": "},
		{name: "zip slip", setup: []string{good}, path: zipSlip, is: vitplug.ErrUnsafePath, msg: `entry "../evil.wasm": unsafe path`},
		{name: "missing dependency", path: app, is: ErrDependency, msg: `install plugin "app" 1.0.0: plugin "app" 1.0.0 needs "base-utils" ^1.2.0, not installed`},
		{name: "conflicting dependency", setup: []string{base11}, path: app, is: ErrDependency, msg: `install plugin "app" 1.0.0: plugin "app" 1.0.0 needs "base-utils" ^1.2.0, installed: 1.1.0`},
		{name: "update breaks a dependent", setup: []string{base12, app}, path: base11, is: ErrConflict, msg: `1.2.0 is installed, a newer version`},
		{name: "verification fails", setup: []string{good}, path: base12, opts: InstallOptions{Verify: func(*vitplug.Package, string) ([]string, error) {
			return nil, errors.New("no trusted signature")
		}}, is: ErrVerify, msg: `install plugin "base-utils" 1.2.0: verification failed: no trusted signature`},
		{name: "no verifier", path: good, noVerify: true, is: ErrVerify, msg: "verification failed: no verifier"},
		{name: "downgrade", setup: []string{good}, path: hello09, is: ErrConflict, msg: `install plugin "hello" 0.9.0: conflicts with the installed plugin: 1.0.0 is installed, a newer version`},
		{name: "other content", setup: []string{good}, path: otherContent, is: ErrConflict, msg: `1.0.0 is installed with other content`},
		{name: "bad grant", path: fsReq, opts: InstallOptions{Grants: GrantRecord{FS: []FSGrant{{Guest: "/data", Host: "relative", Mode: manifest.ReadOnly}}}},
			msg: `install plugin "fsreq" 1.0.0: grants: grant for /data: host directory "relative" must be an absolute path`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r := openTest(t, dir)
			for _, p := range tc.setup {
				install(t, r, p, InstallOptions{})
			}
			before, list := snap(t, dir), r.List()
			if tc.opts.Verify == nil && !tc.noVerify {
				tc.opts.Verify = trusting
			}
			_, err := r.Install(context.Background(), tc.path, tc.opts)
			require.Error(t, err)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
			require.Contains(t, err.Error(), tc.msg)
			require.Equal(t, before, snap(t, dir), "registry changed")
			require.Equal(t, list, r.List())
			require.Equal(t, list, openTest(t, dir).List())
		})
	}
}

// zipSlipPackage is a package with an entry named "../evil.wasm".
func zipSlipPackage(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct{ name, data string }{
		{"plugin.toml", spec{name: "evil", version: "1.0.0"}.manifest()},
		{"../evil.wasm", "\x00asm\x01\x00\x00\x00"},
	} {
		w, err := zw.Create(f.name)
		require.NoError(t, err)
		_, err = w.Write([]byte(f.data))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestRegistry_Install_dependents(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	r := openTest(t, dir)
	install(t, r, pack(t, pkgs, spec{name: "base-utils", version: "1.2.0"}), InstallOptions{})
	e := install(t, r, pack(t, pkgs, spec{name: "app", version: "1.0.0", deps: map[string]string{"base-utils": "^1.2.0"}}), InstallOptions{})
	require.Equal(t, []Dependency{{Name: "base-utils", Constraint: "^1.2.0", Version: "1.2.0"}}, e.Dependencies)

	// A compatible update is recorded in the dependents.
	install(t, r, pack(t, pkgs, spec{name: "base-utils", version: "1.3.0"}), InstallOptions{})
	app, _ := r.Get("app")
	require.Equal(t, "1.3.0", app.Dependencies[0].Version)

	// An incompatible one is refused, naming both sides, unless forced.
	v2 := pack(t, pkgs, spec{name: "base-utils", version: "2.0.0"})
	before := snap(t, dir)
	_, err := r.Install(context.Background(), v2, InstallOptions{Verify: trusting})
	require.ErrorIs(t, err, ErrDependency)
	require.EqualError(t, err, `install plugin "base-utils" 2.0.0: plugin "app" 1.0.0 needs "base-utils" ^1.2.0, installing: 2.0.0`)
	require.Equal(t, before, snap(t, dir))
	install(t, r, v2, InstallOptions{Force: true})
	_, err = r.LoadOrder()
	require.EqualError(t, err, `load order: plugin "app" 1.0.0 needs "base-utils" ^1.2.0, installed: 2.0.0`)

}

func TestRegistry_Remove(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	r := openTest(t, dir)
	empty := snap(t, dir)
	base := install(t, r, pack(t, pkgs, spec{name: "base-utils", version: "1.2.0"}), InstallOptions{})
	install(t, r, pack(t, pkgs, spec{name: "app", version: "1.0.0", deps: map[string]string{"base-utils": "^1.2.0"}}), InstallOptions{})
	var events []Event
	r.Subscribe(func(e Event) { events = append(events, e) })

	before := snap(t, dir)
	err := r.Remove("base-utils", false)
	require.ErrorIs(t, err, ErrInUse)
	require.EqualError(t, err, `remove plugin "base-utils": plugin is needed by another plugin: needed by "app" 1.0.0 (^1.2.0)`)
	require.Equal(t, before, snap(t, dir))

	err = r.Remove("nope", false)
	require.ErrorIs(t, err, ErrNotFound)
	require.EqualError(t, err, `remove plugin "nope": plugin not installed`)

	require.NoError(t, r.Remove("app", false))
	require.NoError(t, r.Remove("base-utils", false))
	require.Empty(t, r.List())
	require.Equal(t, []EventKind{EventRemoved, EventRemoved}, []EventKind{events[0].Kind, events[1].Kind})
	require.Equal(t, *base, events[1].Entry)
	// The store is empty again; the index is there, empty.
	after := snap(t, dir)
	require.Equal(t, empty.Files, after.Files)

	// Forced, the dependent stays and no longer loads.
	install(t, r, pack(t, pkgs, spec{name: "base-utils", version: "1.2.0"}), InstallOptions{})
	install(t, r, pack(t, pkgs, spec{name: "app", version: "1.0.0", deps: map[string]string{"base-utils": "^1.2.0"}}), InstallOptions{})
	require.NoError(t, r.Remove("base-utils", true))
	_, err = r.LoadOrder()
	require.ErrorIs(t, err, ErrDependency)
	require.EqualError(t, err, `load order: plugin "app" 1.0.0 needs "base-utils" ^1.2.0, not installed`)
}

func TestRegistry_SetEnabled(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	r := openTest(t, dir)
	install(t, r, pack(t, pkgs, spec{name: "base-utils", version: "1.2.0"}), InstallOptions{})
	install(t, r, pack(t, pkgs, spec{name: "app", version: "1.0.0", deps: map[string]string{"base-utils": "^1.2.0"}}), InstallOptions{})
	var events []string
	r.Subscribe(func(e Event) { events = append(events, string(e.Kind)+" "+e.Entry.Name) })

	err := r.SetEnabled("base-utils", false)
	require.ErrorIs(t, err, ErrInUse)
	require.EqualError(t, err, `disable plugin "base-utils": plugin is needed by another plugin: needed by enabled "app" 1.0.0 (^1.2.0)`)

	require.NoError(t, r.SetEnabled("app", false))
	require.NoError(t, r.SetEnabled("app", false)) // no change, no event
	require.NoError(t, r.SetEnabled("base-utils", false))
	err = r.SetEnabled("app", true)
	require.ErrorIs(t, err, ErrDependency)
	require.EqualError(t, err, `enable plugin "app": plugin "app" 1.0.0 needs "base-utils" ^1.2.0, installed: 1.2.0 (disabled)`)
	order, err := r.LoadOrder()
	require.NoError(t, err)
	require.Empty(t, order)

	require.NoError(t, r.SetEnabled("base-utils", true))
	require.NoError(t, r.SetEnabled("app", true))
	require.ErrorIs(t, r.SetEnabled("nope", true), ErrNotFound)
	require.Equal(t, []string{"disabled app", "disabled base-utils", "enabled base-utils", "enabled app"}, events)

	// An update keeps the state.
	require.NoError(t, r.SetEnabled("app", false))
	e := install(t, r, pack(t, pkgs, spec{name: "app", version: "1.0.1", deps: map[string]string{"base-utils": "^1.2.0"}}), InstallOptions{})
	require.False(t, e.Enabled)
}

func TestRegistry_LoadOrder(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	r := openTest(t, dir)
	for _, s := range []spec{
		{name: "zeta", version: "1.0.0"},
		{name: "base", version: "1.0.0"},
		{name: "mid", version: "1.0.0", deps: map[string]string{"base": "1.x"}},
		{name: "app", version: "1.0.0", deps: map[string]string{"mid": ">=1.0.0", "zeta": "^1"}},
		{name: "alpha", version: "2.0.0"},
		{name: "off", version: "1.0.0"},
	} {
		install(t, r, pack(t, pkgs, s), InstallOptions{})
	}
	require.NoError(t, r.SetEnabled("off", false))
	order, err := r.LoadOrder()
	require.NoError(t, err)
	require.Equal(t, []string{"alpha@2.0.0", "base@1.0.0", "mid@1.0.0", "zeta@1.0.0", "app@1.0.0"}, names(order))

	// A cycle, which only Force lets in, is named.
	_, err = r.Install(context.Background(), pack(t, pkgs, spec{name: "base", version: "1.1.0", deps: map[string]string{"app": "*"}}), InstallOptions{Verify: trusting})
	require.ErrorIs(t, err, ErrCycle)
	require.EqualError(t, err, `install plugin "base" 1.1.0: dependency cycle: base -> app -> mid -> base`)
	install(t, r, pack(t, pkgs, spec{name: "base", version: "1.1.0", deps: map[string]string{"app": "*"}}), InstallOptions{Force: true})
	_, err = r.LoadOrder()
	require.ErrorIs(t, err, ErrCycle)
	var ce *CycleError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, []string{"app", "mid", "base", "app"}, ce.Cycle)
	require.EqualError(t, err, `load order: dependency cycle: app -> mid -> base -> app`)
}

func TestRegistry_Subscribe(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	r := openTest(t, dir)
	var got []string
	cancel := r.Subscribe(func(e Event) {
		got = append(got, string(e.Kind)+" "+e.Entry.Name+" "+e.Entry.Version)
		_ = r.List() // reading from a handler is fine
	})
	install(t, r, pack(t, pkgs, spec{name: "hello", version: "1.0.0"}), InstallOptions{})
	install(t, r, pack(t, pkgs, spec{name: "hello", version: "1.0.1"}), InstallOptions{})
	require.NoError(t, r.SetEnabled("hello", false))
	require.NoError(t, r.SetEnabled("hello", true))
	require.NoError(t, r.Remove("hello", false))
	cancel()
	install(t, r, pack(t, pkgs, spec{name: "hello", version: "1.0.0"}), InstallOptions{})
	require.Equal(t, []string{
		"installed hello 1.0.0",
		"installed hello 1.0.1",
		"disabled hello 1.0.1",
		"enabled hello 1.0.1",
		"removed hello 1.0.1",
	}, got)

	// Another Registry's changes are seen at Refresh, not as events.
	r2 := openTest(t, dir)
	var got2 []Event
	r2.Subscribe(func(e Event) { got2 = append(got2, e) })
	require.NoError(t, r.Remove("hello", false))
	require.Len(t, r2.List(), 1)
	require.NoError(t, r2.Refresh())
	require.Empty(t, r2.List())
	require.Empty(t, got2)
}

func TestRegistry_Package_Errors(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	r := openTest(t, dir)
	e := install(t, r, pack(t, pkgs, spec{name: "hello", version: "1.0.0"}), InstallOptions{})

	_, err := r.Package("nope")
	require.ErrorIs(t, err, ErrNotFound)

	// A stored package changed behind the registry's back.
	path := filepath.Join(dir, filepath.FromSlash(e.StorePath()))
	other := pack(t, pkgs, spec{name: "hello", version: "1.0.0", extra: "[config]\nx = \"y\""})
	data, err := os.ReadFile(other)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	_, err = r.Package("hello")
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, `open plugin "hello": registry is corrupt: `+path+" changed since it was installed")

	require.NoError(t, os.Remove(path))
	_, err = r.Package("hello")
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestOpen_Errors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, index, msg string }{
		{"garbage", "{", "unexpected end of JSON input"},
		{"version", `{"version": 2, "plugins": []}`, "index version 2, want 1"},
		{"unknown field", `{"version": 1, "plugins": [], "extra": 1}`, `unknown field "extra"`},
		{"bad sha256", `{"version": 1, "plugins": [{"name": "x", "sha256": "../../etc/passwd"}]}`, `plugin "x": bad sha256 "../../etc/passwd"`},
		{"duplicate", `{"version": 1, "plugins": [{"name": "x", "sha256": "` + zeros + `"}, {"name": "x", "sha256": "` + zeros + `"}]}`, `duplicate name "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, indexName), []byte(tc.index), 0o600))
			_, err := Open(dir)
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, tc.msg)
		})
	}

	// An index over its limit is corrupt; one that is not a file, an error.
	index := filepath.Join(dir, indexName)
	require.NoError(t, os.Truncate(index, maxIndexSize+1)) // sparse: no disk used
	_, err := Open(dir)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, fmt.Sprintf("read index: registry is corrupt: %s is %d bytes, over the limit of %d bytes", index, maxIndexSize+1, maxIndexSize))
	require.NoError(t, os.Remove(index))
	require.NoError(t, os.Mkdir(index, 0o700))
	_, err = Open(dir)
	require.ErrorIs(t, err, boundedfile.ErrNotRegular)
	require.ErrorContains(t, err, "read index: "+index+" is not a regular file (folder)")

	_, err = Open("")
	require.EqualError(t, err, "open plugin registry: empty folder name")
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func TestDefaultDir(t *testing.T) {
	t.Setenv(EnvHome, "")
	home, err := os.UserHomeDir()
	if err == nil {
		d, err := DefaultDir()
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(home, ".vitte"), d)
	}
	t.Setenv(EnvHome, "/srv/vitte")
	d, err := DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, "/srv/vitte", d)
}
