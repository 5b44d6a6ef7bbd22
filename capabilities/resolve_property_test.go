package capabilities_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// The effective set is always inside both the request and the grant, and,
// since every two patterns of a kind are nested or disjoint, it is exactly
// their intersection. These tests check that as a property, for every
// capability kind, over every pair of shapes (hosts, wildcards, ports, IP
// addresses and CIDR blocks, schemes; host-call patterns; variables; guest
// paths and modes) and over random lists of them.

// netShapes are request and grant patterns of every shape.
var netShapes = func() []string {
	var out []string
	for _, h := range []string{
		"example.com", "a.example.com", "b.a.example.com", "other.org",
		"*.example.com", "*.a.example.com", "*.org",
		"127.0.0.1", "10.1.2.3", "127.0.0.0/8", "127.0.0.0/24", "10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16",
		"::1", "2001:db8::1", "2001:db8::/32", "2001:db8:1::/48",
	} {
		out = append(out, h)
		for _, port := range []string{"80", "443", "8080", "22"} {
			if p, err := manifest.ParseNetPattern(h); err == nil && p.Prefix.IsValid() && p.Prefix.Addr().Is6() {
				out = append(out, "["+h+"]:"+port)
			} else {
				out = append(out, h+":"+port)
			}
		}
	}
	return out
}()

// netProbes are the destinations the sets are asked about.
var netProbes = []string{
	"example.com", "a.example.com", "x.a.example.com", "b.a.example.com", "y.b.a.example.com", "z.example.com",
	"other.org", "x.other.org", "evil.com", "example.com.evil.com",
	"127.0.0.1", "127.0.0.2", "127.1.0.1", "10.1.2.3", "10.1.9.9", "10.2.0.1", "192.168.1.1", "8.8.8.8",
	"::1", "2001:db8::1", "2001:db8::2", "2001:db8:1::5", "2001:db9::1",
}

var netPorts = []uint16{80, 443, 8080, 22, 8443}

var parsed = map[string]manifest.NetPattern{}

func parse(t *testing.T, s string) manifest.NetPattern {
	t.Helper()
	if p, ok := parsed[s]; ok {
		return p
	}
	p, err := manifest.ParseNetPattern(s)
	require.NoError(t, err)
	parsed[s] = p
	return p
}

func matchesAny(t *testing.T, patterns []string, host string, port uint16) bool {
	t.Helper()
	for _, s := range patterns {
		if parse(t, s).Match(host, port) {
			return true
		}
	}
	return false
}

// checkNet checks s against the definition, probe by probe.
func checkNet(t *testing.T, s *capabilities.Set, req, grant, deny []string, all, urls bool) {
	t.Helper()
	for _, host := range netProbes {
		for _, port := range netPorts {
			want := matchesAny(t, req, host, port) && (all || matchesAny(t, grant, host, port))
			if want {
				for _, d := range deny {
					if p := parse(t, d); p.MatchHost(host) && (p.Port == 0 || p.Port == port) {
						want = false
					}
				}
			}
			got, rule := s.AllowNet(host, port)
			if got != want {
				t.Fatalf("request %q, grant %q (all %v), deny %q: AllowNet(%s, %d) = %v (%s), want %v; effective %v",
					req, grant, all, deny, host, port, got, rule, want, s.Net)
			}
			// What info shows as granted is inside both, too.
			for _, e := range s.Net {
				if e.Match(host, port) && !(matchesAny(t, req, host, port) && (all || matchesAny(t, grant, host, port))) {
					t.Fatalf("request %q, grant %q: effective pattern %s covers %s:%d, which one of them does not", req, grant, e, host, port)
				}
			}
			// A URL reaches the same decision, for http and https only.
			if !urls {
				continue
			}
			for _, scheme := range []string{"http", "https", "ftp", "ws", "file", "gopher"} {
				h := host
				if strings.Contains(host, ":") {
					h = "[" + host + "]"
				}
				u := &url.URL{Scheme: scheme, Host: fmt.Sprintf("%s:%d", h, port)}
				ok, _, err := s.CheckURL(u)
				require.NoError(t, err)
				require.Equal(t, want && (scheme == "http" || scheme == "https"), ok, "CheckURL(%s) with request %q, grant %q", u, req, grant)
			}
		}
	}
}

func TestResolve_netInsideRequestAndGrant(t *testing.T) {
	// Every request shape against every grant shape: this is where a grant
	// without a port was widened to the port a request named.
	for _, r := range netShapes {
		for _, g := range netShapes {
			s, err := capabilities.Resolve(manifest.Capabilities{Net: []string{r}}, capabilities.NewGrants().WithNet(g))
			require.NoError(t, err)
			checkNet(t, s, []string{r}, []string{g}, nil, false, false)
		}
	}
	// Random lists, with deny rules and WithAll.
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(n int) []string {
		var out []string
		for range rng.IntN(n + 1) {
			out = append(out, netShapes[rng.IntN(len(netShapes))])
		}
		return out
	}
	for range 300 {
		req, grant, deny := pick(4), pick(4), pick(2)
		all := rng.IntN(5) == 0
		g := capabilities.NewGrants()
		for _, p := range grant {
			g = g.WithNet(p)
		}
		for _, p := range deny {
			g = g.WithoutNet(p)
		}
		if all {
			g = g.WithAll()
		}
		s, err := capabilities.Resolve(manifest.Capabilities{Net: req}, g)
		require.NoError(t, err)
		checkNet(t, s, req, grant, deny, all, true)
	}
}

func TestResolve_netPortlessGrant(t *testing.T) {
	// The audit's escape, named: "--allow-net 127.0.0.1" means ports 80 and
	// 443, whatever port the manifest asks for.
	for _, tc := range []struct{ req, grant, want string }{
		{"127.0.0.1:8080", "127.0.0.1", ""},
		{"127.0.0.1:8080", "127.0.0.0/8", ""},
		{"api.example.com:8443", "api.example.com", ""},
		{"api.example.com:8443", "*.example.com", ""},
		{"[::1]:8080", "::1", ""},
		{"127.0.0.1:443", "127.0.0.1", "127.0.0.1:443"},
		{"127.0.0.1", "127.0.0.1:80", "127.0.0.1:80"},
		{"127.0.0.1", "127.0.0.1:8080", ""},
		{"127.0.0.1:8080", "127.0.0.1:8080", "127.0.0.1:8080"},
	} {
		t.Run(tc.req+" granted "+tc.grant, func(t *testing.T) {
			s, err := capabilities.Resolve(manifest.Capabilities{Net: []string{tc.req}}, capabilities.NewGrants().WithNet(tc.grant))
			require.NoError(t, err)
			var got []string
			for _, p := range s.Net {
				got = append(got, p.String())
			}
			if tc.want == "" {
				require.Empty(t, got)
				require.Equal(t, []string{"net " + tc.req}, s.Denied)
				return
			}
			require.Equal(t, []string{tc.want}, got)
		})
	}
}

var hostShapes = []string{"a.*", "a.b.*", "a.b", "a.b.c", "a.c", "b.*", "b.x", "a"}
var hostProbes = []string{"a", "a.b", "a.b.c", "a.b.c.d", "a.c", "a.x", "b", "b.x", "b.x.y", "c"}

func TestResolve_hostCallsInsideRequestAndGrant(t *testing.T) {
	subsets := func(pool []string) [][]string {
		var out [][]string
		for m := range 1 << 4 {
			var s []string
			for i := range 4 {
				if m&(1<<i) != 0 {
					s = append(s, pool[(m*7+i*3)%len(pool)])
				}
			}
			out = append(out, s)
		}
		for _, p := range pool {
			out = append(out, []string{p})
		}
		return out
	}
	for _, req := range subsets(hostShapes) {
		for _, grant := range subsets(hostShapes) {
			for _, all := range []bool{false, true} {
				g := capabilities.NewGrants()
				for _, p := range grant {
					g = g.WithHostCall(p)
				}
				if all {
					g = g.WithAll()
				}
				s, err := capabilities.Resolve(manifest.Capabilities{Host: req}, g)
				require.NoError(t, err)
				for _, name := range hostProbes {
					want := capabilities.MatchAnyHostCall(req, name) && (all || capabilities.MatchAnyHostCall(grant, name))
					require.Equal(t, want, s.AllowHostCall(name), "request %q, grant %q (all %v): host call %q", req, grant, all, name)
				}
			}
		}
	}
}

func TestResolve_envInsideRequestAndGrant(t *testing.T) {
	pool := []string{"LANG", "TZ", "HOME", "PATH", "lang"}
	for rm := range 1 << len(pool) {
		for gm := range 1 << len(pool) {
			var req, grant []string
			for i, v := range pool {
				if rm&(1<<i) != 0 {
					req = append(req, v)
				}
				if gm&(1<<i) != 0 {
					grant = append(grant, v)
				}
			}
			for _, all := range []bool{false, true} {
				g := capabilities.NewGrants()
				for _, v := range grant {
					g = g.WithEnv(v)
				}
				if all {
					g = g.WithAll()
				}
				s, err := capabilities.Resolve(manifest.Capabilities{Env: req}, g)
				require.NoError(t, err)
				for _, v := range append(pool, "OTHER") {
					want := slices.Contains(req, v) && (all || slices.Contains(grant, v))
					require.Equal(t, want, s.AllowEnv(v), "request %q, grant %q (all %v): %s", req, grant, all, v)
				}
			}
		}
	}
}

func TestResolve_fsInsideRequestAndGrant(t *testing.T) {
	type entry struct {
		path string
		mode manifest.Mode
	}
	pool := []entry{{"/data", "ro"}, {"/data", "rw"}, {"/cache", "ro"}, {"/cache", "rw"}, {"/data/sub", "rw"}, {"/other", "ro"}}
	for rm := range 1 << len(pool) {
		var req []manifest.FSRequest
		seen := map[string]bool{}
		for i, e := range pool {
			if rm&(1<<i) != 0 && !seen[e.path] {
				seen[e.path] = true
				req = append(req, manifest.FSRequest{Path: e.path, Mode: e.mode})
			}
		}
		for gm := range 1 << len(pool) {
			g := capabilities.NewGrants()
			grant := map[string]manifest.Mode{}
			for i, e := range pool {
				if gm&(1<<i) != 0 {
					// The last grant of a guest path is the one that counts.
					g = g.WithDir(e.path, "/host"+e.path, e.mode)
					grant[e.path] = e.mode
				}
			}
			// WithAll never grants a directory.
			g = g.WithAll()
			s, err := capabilities.Resolve(manifest.Capabilities{FS: req}, g)
			require.NoError(t, err)
			var want []capabilities.Mount
			for _, r := range req {
				gm, ok := grant[r.Path]
				if !ok {
					continue
				}
				mode := manifest.ReadOnly
				if r.Mode == manifest.ReadWrite && gm == manifest.ReadWrite {
					mode = manifest.ReadWrite
				}
				want = append(want, capabilities.Mount{Guest: r.Path, Host: path.Join("/host", r.Path), Mode: mode})
			}
			slices.SortFunc(want, func(a, b capabilities.Mount) int {
				if a.Guest < b.Guest {
					return -1
				}
				return 1
			})
			require.Equal(t, want, s.Mounts, "request %v, grant %v", req, grant)
		}
	}
}

func TestResolve_invalidGrants(t *testing.T) {
	req := manifest.Capabilities{Env: []string{"LANG"}, Host: []string{"studio.*"}, Net: []string{"10.0.0.1"}}
	for _, tc := range []struct {
		name     string
		grants   capabilities.Grants
		expected string
	}{
		{"env pattern", capabilities.NewGrants().WithEnv("*"), `granted env: invalid environment variable name "*"`},
		{"env assignment", capabilities.NewGrants().WithEnv("LANG=fr"), `granted env: invalid environment variable name "LANG=fr"`},
		{"empty env", capabilities.NewGrants().WithEnv(""), `granted env: invalid environment variable name ""`},
		{"host call star", capabilities.NewGrants().WithHostCall("*"), `granted host call: "*" would allow every host call`},
		{"host call case", capabilities.NewGrants().WithHostCall("Studio.*"), `granted host call: invalid host-call pattern "Studio.*": must be lower-case`},
		{"every address", capabilities.NewGrants().WithNet("0.0.0.0/0"), `granted net: invalid net pattern "0.0.0.0/0": 0.0.0.0/0 is too wide`},
		{"this host", capabilities.NewGrants().WithNet("0.0.0.0:8080"), `granted net: invalid net pattern "0.0.0.0:8080": 0.0.0.0 is not a destination`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := capabilities.Resolve(req, tc.grants)
			require.ErrorContains(t, err, tc.expected)
		})
	}
	// Deny rules may be as wide as they like.
	s, err := capabilities.Resolve(req, capabilities.NewGrants().WithNet("10.0.0.1").WithoutNet("0.0.0.0/0"))
	require.NoError(t, err)
	ok, rule := s.AllowNet("10.0.0.1", 80)
	require.False(t, ok)
	require.Equal(t, "denied by 0.0.0.0/0", rule)
}
