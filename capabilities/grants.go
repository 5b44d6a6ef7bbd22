package capabilities

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

// Grants is what the user or the embedding application allows one plugin.
// It is immutable: each With method returns a changed copy. The zero value
// grants nothing.
//
// What a plugin gets is the intersection of its manifest's request and the
// grants ([Resolve]): grants can narrow a request, never widen it, and deny
// rules win over allow rules.
type Grants struct {
	dirs    []Mount
	net     []string
	denyNet []string
	host    []string
	env     []string
	all     bool
}

// NewGrants returns grants that allow nothing.
func NewGrants() Grants { return Grants{} }

// Mount maps a guest path to a host directory.
type Mount struct {
	Guest string        // absolute clean guest path, "/data"
	Host  string        // host directory
	Mode  manifest.Mode // manifest.ReadOnly or manifest.ReadWrite
}

// WithDir grants the guest path guest, mapped to the host directory host,
// in mode (read-only or read-write). The plugin gets it only if its
// manifest requests guest; a read-write grant of a read-only request
// stays read-only.
func (g Grants) WithDir(guest, host string, mode manifest.Mode) Grants {
	g.dirs = append(slices.Clone(g.dirs), Mount{Guest: guest, Host: host, Mode: mode})
	return g
}

// WithNet allows network destinations matching pattern (manifest net
// syntax: host, *.domain, IP or CIDR, optional :port).
func (g Grants) WithNet(pattern string) Grants {
	g.net = append(slices.Clone(g.net), pattern)
	return g
}

// WithoutNet denies destinations matching pattern, whatever else allows
// them.
func (g Grants) WithoutNet(pattern string) Grants {
	g.denyNet = append(slices.Clone(g.denyNet), pattern)
	return g
}

// WithHostCall allows host calls whose names match pattern (manifest host
// syntax: "compiler.ast", "studio.*").
func (g Grants) WithHostCall(pattern string) Grants {
	g.host = append(slices.Clone(g.host), pattern)
	return g
}

// WithEnv allows the plugin to read the environment variable name.
func (g Grants) WithEnv(name string) Grants {
	g.env = append(slices.Clone(g.env), name)
	return g
}

// WithAll grants every net, host and env request of the manifest. File
// system requests still need WithDir, since only the user knows which host
// directory a guest path should be.
func (g Grants) WithAll() Grants {
	g.all = true
	return g
}

// Set is a plugin's effective capabilities: its request intersected with
// its grants. Create it with Resolve.
type Set struct {
	// Mounts are the directories the plugin sees, sorted by guest path.
	Mounts []Mount
	// Net, DenyNet: allowed and denied destinations.
	Net, DenyNet []manifest.NetPattern
	// hostRequest and hostGrant: a host call needs both to match.
	hostRequest, hostGrant []string
	// Env lists the environment variables the plugin may read.
	Env []string
	// Denied lists requests that were not granted, for display.
	Denied []string
}

// None is the set that allows nothing.
func None() *Set { return &Set{} }

// Resolve intersects a manifest's request with grants. It fails when a
// grant is malformed (a bad net or host-call pattern, an invalid variable
// name such as "*" or "A=B", a relative host directory, an unknown mode); a request without a grant is simply not in the set, and listed in
// Set.Denied.
func Resolve(req manifest.Capabilities, g Grants) (*Set, error) {
	s := &Set{}
	var errs []error

	for _, r := range req.FS {
		var found *Mount
		for i := range g.dirs {
			if g.dirs[i].Guest == r.Path {
				found = &g.dirs[i]
			}
		}
		if found == nil {
			s.Denied = append(s.Denied, fmt.Sprintf("fs %s (%s)", r.Path, r.Mode))
			continue
		}
		if found.Mode != manifest.ReadOnly && found.Mode != manifest.ReadWrite {
			errs = append(errs, fmt.Errorf("grant for %s: mode %q: want ro or rw", found.Guest, found.Mode))
			continue
		}
		if found.Host == "" || !filepath.IsAbs(found.Host) {
			errs = append(errs, fmt.Errorf("grant for %s: host directory %q must be an absolute path", found.Guest, found.Host))
			continue
		}
		mode := manifest.ReadOnly
		if r.Mode == manifest.ReadWrite && found.Mode == manifest.ReadWrite {
			mode = manifest.ReadWrite
		}
		s.Mounts = append(s.Mounts, Mount{Guest: r.Path, Host: filepath.Clean(found.Host), Mode: mode})
	}
	for _, d := range g.dirs {
		if path.Clean(d.Guest) != d.Guest || !path.IsAbs(d.Guest) {
			errs = append(errs, fmt.Errorf("grant for guest path %q: want an absolute clean path like /data", d.Guest))
		}
	}
	slices.SortFunc(s.Mounts, func(a, b Mount) int { return strings.Compare(a.Guest, b.Guest) })

	parseWith := func(parse func(string) (manifest.NetPattern, error), pats []string, what string) []manifest.NetPattern {
		var out []manifest.NetPattern
		for _, p := range pats {
			np, err := parse(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", what, err))
				continue
			}
			out = append(out, np)
		}
		return out
	}
	parse := func(pats []string, what string) []manifest.NetPattern {
		return parseWith(manifest.ParseNetPattern, pats, what)
	}
	reqNet := parse(req.Net, "requested net")
	s.DenyNet = parseWith(manifest.ParseDenyNetPattern, g.denyNet, "denied net")
	if g.all {
		s.Net = reqNet
	} else {
		granted := parse(g.net, "granted net")
		// A destination must match both a request and a grant: keep the
		// requested patterns that some grant covers, narrowed to it.
		for _, rp := range reqNet {
			covered := false
			for _, gp := range granted {
				if n, ok := narrowNet(rp, gp); ok {
					s.Net = append(s.Net, n)
					covered = true
				}
			}
			if !covered {
				s.Denied = append(s.Denied, "net "+rp.String())
			}
		}
	}

	for _, h := range g.host {
		if err := manifest.CheckHostPattern(h); err != nil {
			errs = append(errs, fmt.Errorf("granted host call: %w", err))
		}
	}
	for _, e := range g.env {
		if err := manifest.CheckEnvName(e); err != nil {
			errs = append(errs, fmt.Errorf("granted env: %w", err))
		}
	}
	s.hostRequest = slices.Clone(req.Host)
	if g.all {
		s.hostGrant = slices.Clone(req.Host)
	} else {
		s.hostGrant = slices.Clone(g.host)
		for _, h := range req.Host {
			if !slices.ContainsFunc(g.host, func(p string) bool { return patternsOverlap(h, p) }) {
				s.Denied = append(s.Denied, "host "+h)
			}
		}
	}

	for _, e := range req.Env {
		if g.all || slices.Contains(g.env, e) {
			s.Env = append(s.Env, e)
		} else {
			s.Denied = append(s.Denied, "env "+e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// narrowNet returns the intersection of a requested and a granted net
// pattern when one contains the other.
func narrowNet(req, grant manifest.NetPattern) (manifest.NetPattern, bool) {
	// A pattern without a port covers ports 80 and 443: the ports both
	// cover are those of the one with a port, if the other covers it.
	port, ok := narrowPort(req.Port, grant.Port)
	if !ok {
		return manifest.NetPattern{}, false
	}
	var out manifest.NetPattern
	switch {
	case req.Prefix.IsValid() || grant.Prefix.IsValid():
		if !req.Prefix.IsValid() || !grant.Prefix.IsValid() || req.Prefix.Addr().Is4() != grant.Prefix.Addr().Is4() {
			return out, false
		}
		switch {
		case grant.Prefix.Bits() <= req.Prefix.Bits() && grant.Prefix.Contains(req.Prefix.Addr()):
			out.Prefix = req.Prefix
		case req.Prefix.Bits() <= grant.Prefix.Bits() && req.Prefix.Contains(grant.Prefix.Addr()):
			out.Prefix = grant.Prefix
		default:
			return out, false
		}
	case !req.Wildcard && !grant.Wildcard:
		if req.Host != grant.Host {
			return out, false
		}
		out.Host = req.Host
	case req.Wildcard && grant.Wildcard:
		switch {
		case req.Host == grant.Host || strings.HasSuffix(req.Host, "."+grant.Host):
			out.Host, out.Wildcard = req.Host, true
		case strings.HasSuffix(grant.Host, "."+req.Host):
			out.Host, out.Wildcard = grant.Host, true
		default:
			return out, false
		}
	case req.Wildcard: // grant names one host
		if !strings.HasSuffix(grant.Host, "."+req.Host) {
			return out, false
		}
		out.Host = grant.Host
	default: // request names one host, grant a domain
		if !strings.HasSuffix(req.Host, "."+grant.Host) {
			return out, false
		}
		out.Host = req.Host
	}
	out.Port = port
	return out, true
}

// narrowPort returns the ports two net patterns both cover, as a pattern's
// port: 0 for ports 80 and 443.
func narrowPort(a, b uint16) (uint16, bool) {
	defaultPort := func(p uint16) bool { return p == 80 || p == 443 }
	switch {
	case a == b:
		return a, true
	case a == 0 && defaultPort(b):
		return b, true
	case b == 0 && defaultPort(a):
		return a, true
	}
	return 0, false
}

// patternsOverlap reports whether two host-call patterns can match a
// common name.
func patternsOverlap(a, b string) bool {
	pa, wa := strings.CutSuffix(a, "*")
	pb, wb := strings.CutSuffix(b, "*")
	switch {
	case wa && wb:
		return strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa)
	case wa:
		return MatchHostCall(a, b)
	case wb:
		return MatchHostCall(b, a)
	}
	return a == b
}

// AllowHostCall reports whether the plugin may call the host function
// name: its manifest requests it and a grant allows it.
func (s *Set) AllowHostCall(name string) bool {
	return MatchAnyHostCall(s.hostRequest, name) && MatchAnyHostCall(s.hostGrant, name)
}

// HostGrants returns the granted host-call patterns that can match a name
// the request pattern req matches.
func (s *Set) HostGrants(req string) []string {
	var out []string
	for _, g := range s.hostGrant {
		if patternsOverlap(req, g) {
			out = append(out, g)
		}
	}
	return out
}

// AllowEnv reports whether the plugin may read the variable name.
func (s *Set) AllowEnv(name string) bool { return slices.Contains(s.Env, name) }

// denies reports whether the deny rule d covers host on port. Unlike a
// grant, a deny rule without a port covers every port: "--deny-net
// 169.254.169.254" must not leave port 8080 open.
func denies(d manifest.NetPattern, host string, port uint16) bool {
	if d.Port != 0 && d.Port != port {
		return false
	}
	return d.MatchHost(host)
}

// AllowNet reports whether a connection to host (a name or an address) on
// port is allowed, and the rule that decided.
func (s *Set) AllowNet(host string, port uint16) (bool, string) {
	for _, d := range s.DenyNet {
		if denies(d, host, port) {
			return false, "denied by " + d.String()
		}
	}
	for _, a := range s.Net {
		if a.Match(host, port) {
			return true, "allowed by " + a.String()
		}
	}
	return false, "no net grant matches"
}
