package registry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// TestRegistry_Install_update: an update that requests more than the old
// version was granted needs new grants or an approval.
func TestRegistry_Install_update(t *testing.T) {
	pkgs := t.TempDir()
	v1 := pack(t, pkgs, spec{name: "hello", version: "1.0.0", caps: `host = ["test.*"]`})
	v11 := pack(t, pkgs, spec{name: "hello", version: "1.1.0", caps: `host = ["test.*"]` + "\nnet = [\"api.example.com\"]\nenv = [\"LANG\"]"})
	granted := GrantRecord{Host: []string{"test.*"}}

	setup := func(t *testing.T) (*Registry, string) {
		dir := t.TempDir()
		r := openTest(t, dir)
		install(t, r, v1, InstallOptions{Grants: granted})
		return r, dir
	}
	wantDiff := CapabilityDiff{Name: "hello", Version: "1.1.0", OldVersion: "1.0.0", Net: []string{"api.example.com"}, Env: []string{"LANG"}}

	t.Run("refused without Confirm", func(t *testing.T) {
		r, dir := setup(t)
		before := snap(t, dir)
		_, err := r.Install(context.Background(), v11, InstallOptions{Verify: trusting})
		require.ErrorIs(t, err, ErrNotApproved)
		require.EqualError(t, err, `install plugin "hello" 1.1.0: plugin "hello" 1.1.0 requests more than 1.0.0 was granted: net api.example.com, env LANG`)
		var ae *ApprovalError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, wantDiff, ae.Diff)
		require.Equal(t, before, snap(t, dir))
	})
	t.Run("Confirm says no", func(t *testing.T) {
		r, dir := setup(t)
		before := snap(t, dir)
		var asked []CapabilityDiff
		_, err := r.Install(context.Background(), v11, InstallOptions{Verify: trusting, Confirm: func(d CapabilityDiff) bool {
			asked = append(asked, d)
			return false
		}})
		require.ErrorIs(t, err, ErrNotApproved)
		require.Equal(t, []CapabilityDiff{wantDiff}, asked)
		require.Equal(t, before, snap(t, dir))
	})
	t.Run("Confirm says yes", func(t *testing.T) {
		r, _ := setup(t)
		calls := 0
		e := install(t, r, v11, InstallOptions{Confirm: func(d CapabilityDiff) bool { calls++; return true }})
		require.Equal(t, 1, calls)
		require.Equal(t, GrantRecord{Host: []string{"test.*"}, Net: []string{"api.example.com"}, Env: []string{"LANG"}}, e.Grants)
	})
	t.Run("new grants cover it", func(t *testing.T) {
		r, _ := setup(t)
		e := install(t, r, v11, InstallOptions{
			Grants:  GrantRecord{Net: []string{"*.example.com"}, Env: []string{"LANG"}},
			Confirm: func(CapabilityDiff) bool { t.Fatal("Confirm called"); return false },
		})
		require.Equal(t, GrantRecord{Host: []string{"test.*"}, Net: []string{"*.example.com"}, Env: []string{"LANG"}}, e.Grants)
	})
	t.Run("new grants cover part of it", func(t *testing.T) {
		r, _ := setup(t)
		var asked CapabilityDiff
		install(t, r, v11, InstallOptions{
			Grants:  GrantRecord{Env: []string{"LANG"}},
			Confirm: func(d CapabilityDiff) bool { asked = d; return true },
		})
		require.Equal(t, []string{"net api.example.com"}, asked.Items())
	})
	t.Run("old grant of All is not carried over to new requests", func(t *testing.T) {
		dir := t.TempDir()
		r := openTest(t, dir)
		install(t, r, v1, InstallOptions{Grants: GrantRecord{All: true}})
		_, err := r.Install(context.Background(), v11, InstallOptions{Verify: trusting})
		require.ErrorIs(t, err, ErrNotApproved)
		var ae *ApprovalError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, wantDiff, ae.Diff)
		// Approved: All stands for the old requests, the new ones are
		// granted by name.
		e := install(t, r, v11, InstallOptions{Confirm: func(CapabilityDiff) bool { return true }})
		require.Equal(t, GrantRecord{Host: []string{"test.*"}, Net: []string{"api.example.com"}, Env: []string{"LANG"}}, e.Grants)
		// An --allow-all given with the update covers everything.
		v12 := pack(t, t.TempDir(), spec{name: "hello", version: "1.2.0", caps: `env = ["TZ"]`})
		e = install(t, r, v12, InstallOptions{Grants: GrantRecord{All: true}})
		require.True(t, e.Grants.All)
	})
	t.Run("requests the old version made are not asked again", func(t *testing.T) {
		// The user did not grant LANG to 1.0.0; 1.0.1 asks for it again:
		// it stays ungranted, without a question.
		dir := t.TempDir()
		r := openTest(t, dir)
		caps := `host = ["test.*"]` + "\nenv = [\"LANG\"]"
		install(t, r, pack(t, t.TempDir(), spec{name: "hello", version: "1.0.0", caps: caps}), InstallOptions{Grants: granted})
		e := install(t, r, pack(t, t.TempDir(), spec{name: "hello", version: "1.0.1", caps: caps}), InstallOptions{})
		require.Equal(t, granted, e.Grants)
	})
	t.Run("fs: a wider mode or a new path", func(t *testing.T) {
		dir := t.TempDir()
		r := openTest(t, dir)
		data := t.TempDir()
		install(t, r, pack(t, t.TempDir(), spec{name: "files", version: "1.0.0", caps: `fs = [{ path = "/data", mode = "ro" }]`}),
			InstallOptions{Grants: GrantRecord{FS: []FSGrant{{Guest: "/data", Host: data, Mode: manifest.ReadOnly}}}})
		v2 := pack(t, t.TempDir(), spec{name: "files", version: "2.0.0", caps: `fs = [{ path = "/data", mode = "rw" }, { path = "/cache", mode = "rw" }]`})
		var asked CapabilityDiff
		e := install(t, r, v2, InstallOptions{Confirm: func(d CapabilityDiff) bool { asked = d; return true }})
		require.Equal(t, []string{"fs /data (rw)", "fs /cache (rw)"}, asked.Items())
		// /data becomes rw; /cache has no host folder, so it stays denied.
		require.Equal(t, []FSGrant{{Guest: "/data", Host: data, Mode: manifest.ReadWrite}}, e.Grants.FS)
	})
	t.Run("the registry changes during Confirm", func(t *testing.T) {
		r, dir := setup(t)
		other := openTest(t, dir)
		v101 := pack(t, t.TempDir(), spec{name: "hello", version: "1.0.1", caps: `host = ["test.*"]` + "\nenv = [\"TZ\"]"})
		var asked []string
		e := install(t, r, v11, InstallOptions{Confirm: func(d CapabilityDiff) bool {
			asked = append(asked, d.String())
			if len(asked) == 1 {
				// Meanwhile, another process installs 1.0.1 granting TZ:
				// the difference, computed again, did not grow.
				install(t, other, v101, InstallOptions{Grants: GrantRecord{Env: []string{"TZ"}}})
			}
			return true
		}})
		require.Equal(t, []string{"net api.example.com, env LANG"}, asked)
		require.Equal(t, GrantRecord{Host: []string{"test.*"}, Env: []string{"TZ", "LANG"}, Net: []string{"api.example.com"}}, e.Grants)

		// Another process replaces 1.0.0 with 0.5.0, which requested no
		// host calls: the difference grows, and Confirm is asked again.
		r, dir = setup(t)
		other = openTest(t, dir)
		asked = nil
		e = install(t, r, v11, InstallOptions{Confirm: func(d CapabilityDiff) bool {
			asked = append(asked, d.String())
			if len(asked) == 1 {
				require.NoError(t, other.Remove("hello", false))
				install(t, other, pack(t, t.TempDir(), spec{name: "hello", version: "0.5.0", caps: `env = ["TZ"]`}), InstallOptions{})
			}
			return true
		}})
		require.Equal(t, []string{"net api.example.com, env LANG", "net api.example.com, host test.*, env LANG"}, asked)
		require.Equal(t, GrantRecord{Host: []string{"test.*"}, Net: []string{"api.example.com"}, Env: []string{"LANG"}}, e.Grants)
	})
}

func TestUncovered(t *testing.T) {
	tests := []struct {
		name   string
		req    manifest.Capabilities
		grants GrantRecord
		want   []string
	}{
		{name: "nothing granted", req: manifest.Capabilities{Net: []string{"a.example"}, Host: []string{"x.y"}, Env: []string{"E"}, FS: []manifest.FSRequest{{Path: "/d", Mode: "ro"}}},
			want: []string{"fs /d (ro)", "net a.example", "host x.y", "env E"}},
		{name: "all", req: manifest.Capabilities{Net: []string{"a.example"}, Host: []string{"x.y"}, Env: []string{"E"}}, grants: GrantRecord{All: true}},
		{name: "all does not cover fs", req: manifest.Capabilities{FS: []manifest.FSRequest{{Path: "/d", Mode: "ro"}}}, grants: GrantRecord{All: true}, want: []string{"fs /d (ro)"}},
		{name: "fs ro grant of rw request", req: manifest.Capabilities{FS: []manifest.FSRequest{{Path: "/d", Mode: "rw"}}},
			grants: GrantRecord{FS: []FSGrant{{Guest: "/d", Host: "/h", Mode: "ro"}}}, want: []string{"fs /d (rw)"}},
		{name: "fs rw grant of ro request", req: manifest.Capabilities{FS: []manifest.FSRequest{{Path: "/d", Mode: "ro"}}},
			grants: GrantRecord{FS: []FSGrant{{Guest: "/d", Host: "/h", Mode: "rw"}}}},
		{name: "net domain covers host", req: manifest.Capabilities{Net: []string{"api.example.com", "*.a.example.com", "example.com"}},
			grants: GrantRecord{Net: []string{"*.example.com"}}, want: []string{"net example.com"}},
		{name: "net host does not cover domain", req: manifest.Capabilities{Net: []string{"*.example.com"}},
			grants: GrantRecord{Net: []string{"api.example.com"}}, want: []string{"net *.example.com"}},
		{name: "net ports", req: manifest.Capabilities{Net: []string{"a.example", "b.example:8443", "c.example:443", "d.example"}},
			grants: GrantRecord{Net: []string{"a.example:443", "b.example", "c.example", "d.example:443"}}, want: []string{"net a.example", "net b.example:8443", "net d.example"}},
		{name: "net cidr", req: manifest.Capabilities{Net: []string{"10.1.0.0/16", "10.0.0.1", "192.168.0.0/16", "2001:db8::1"}},
			grants: GrantRecord{Net: []string{"10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"}}, want: []string{"net 192.168.0.0/16"}},
		{name: "host patterns", req: manifest.Capabilities{Host: []string{"studio.open", "studio.ui.*", "compiler.*", "x.*"}},
			grants: GrantRecord{Host: []string{"studio.*", "compiler.ast", "x.*"}}, want: []string{"host compiler.*"}},
		{name: "env", req: manifest.Capabilities{Env: []string{"LANG", "TZ"}}, grants: GrantRecord{Env: []string{"TZ"}}, want: []string{"env LANG"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, uncovered(tc.req, tc.grants).Items())
		})
	}
}

func TestGrantRecord_Grants(t *testing.T) {
	req := manifest.Capabilities{
		FS:   []manifest.FSRequest{{Path: "/data", Mode: "rw"}},
		Net:  []string{"api.example.com", "10.0.0.0/8"},
		Host: []string{"studio.*"},
		Env:  []string{"LANG", "TZ"},
	}
	g := GrantRecord{
		FS:      []FSGrant{{Guest: "/data", Host: "/srv/data", Mode: manifest.ReadWrite}},
		Net:     []string{"api.example.com", "10.0.0.0/8"},
		DenyNet: []string{"10.0.0.1"},
		Host:    []string{"studio.open"},
		Env:     []string{"LANG"},
	}
	s, err := capabilities.Resolve(req, g.Grants())
	require.NoError(t, err)
	require.Equal(t, []capabilities.Mount{{Guest: "/data", Host: "/srv/data", Mode: manifest.ReadWrite}}, s.Mounts)
	ok, _ := s.AllowNet("api.example.com", 443)
	require.True(t, ok)
	ok, rule := s.AllowNet("10.0.0.1", 80)
	require.False(t, ok)
	require.Equal(t, "denied by 10.0.0.1", rule)
	require.True(t, s.AllowHostCall("studio.open"))
	require.False(t, s.AllowHostCall("studio.close"))
	require.Equal(t, []string{"LANG"}, s.Env)
	require.Equal(t, []string{"env TZ"}, s.Denied)
	require.Equal(t, "fs /data=/srv/data (rw), net api.example.com, net 10.0.0.0/8, deny-net 10.0.0.1, host studio.open, env LANG", g.String())

	s, err = capabilities.Resolve(req, GrantRecord{All: true}.Grants())
	require.NoError(t, err)
	require.True(t, s.AllowHostCall("studio.close"))
	require.Equal(t, []string{"fs /data (rw)"}, s.Denied)
	require.Equal(t, "none", GrantRecord{}.String())
	require.True(t, GrantRecord{}.IsZero())
}
