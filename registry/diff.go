package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// CapabilityDiff is what an update requests beyond what the installed
// version was granted: the requests of the new version's [capabilities]
// that neither the old grants nor the grants passed to Install cover, and
// that the old version did not already make. InstallOptions.Confirm is
// shown one before they are granted.
type CapabilityDiff struct {
	// Name is the plugin, Version the version being installed, OldVersion
	// the installed one whose grants were compared.
	Name, Version, OldVersion string
	// The requests not covered, in manifest syntax.
	FS   []manifest.FSRequest
	Net  []string
	Host []string
	Env  []string
}

// Empty reports whether there is nothing in d.
func (d CapabilityDiff) Empty() bool {
	return len(d.FS) == 0 && len(d.Net) == 0 && len(d.Host) == 0 && len(d.Env) == 0
}

// Items lists the requests of d, one string each, as capabilities.Set
// lists denials: "fs /data (rw)", "net api.example.com", "host studio.*",
// "env LANG".
func (d CapabilityDiff) Items() []string {
	var out []string
	for _, f := range d.FS {
		out = append(out, fmt.Sprintf("fs %s (%s)", f.Path, f.Mode))
	}
	for _, n := range d.Net {
		out = append(out, "net "+n)
	}
	for _, h := range d.Host {
		out = append(out, "host "+h)
	}
	for _, e := range d.Env {
		out = append(out, "env "+e)
	}
	return out
}

// String returns Items joined with ", ".
func (d CapabilityDiff) String() string { return strings.Join(d.Items(), ", ") }

// covers reports whether every request of d is in o.
func (d CapabilityDiff) coveredBy(o CapabilityDiff) bool {
	for _, f := range d.FS {
		if !slices.Contains(o.FS, f) {
			return false
		}
	}
	return subset(d.Net, o.Net) && subset(d.Host, o.Host) && subset(d.Env, o.Env)
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// uncovered returns the requests of req that g does not grant in full:
// the plugin would get less than it asks for, or nothing. A request that
// g grants only in part (a read-only mount for a read-write request,
// one host of a requested domain, one port of the two default ones) is
// uncovered.
func uncovered(req manifest.Capabilities, g GrantRecord) CapabilityDiff {
	var d CapabilityDiff
	for _, r := range req.FS {
		if !slices.ContainsFunc(g.FS, func(f FSGrant) bool {
			return f.Guest == r.Path && (r.Mode == manifest.ReadOnly || f.Mode == manifest.ReadWrite)
		}) {
			d.FS = append(d.FS, r)
		}
	}
	for _, n := range req.Net {
		if !g.All && !netCovered(n, g.Net) {
			d.Net = append(d.Net, n)
		}
	}
	for _, h := range req.Host {
		if !g.All && !slices.ContainsFunc(g.Host, func(p string) bool { return hostCovers(p, h) }) {
			d.Host = append(d.Host, h)
		}
	}
	for _, e := range req.Env {
		if !g.All && !slices.Contains(g.Env, e) {
			d.Env = append(d.Env, e)
		}
	}
	return d
}

// without returns d less the requests that old also makes: those the user
// saw, and granted or not, when the old version was installed.
func (d CapabilityDiff) without(old manifest.Capabilities) CapabilityDiff {
	out := d
	out.FS = slices.DeleteFunc(slices.Clone(d.FS), func(f manifest.FSRequest) bool { return slices.Contains(old.FS, f) })
	out.Net = slices.DeleteFunc(slices.Clone(d.Net), func(n string) bool { return slices.Contains(old.Net, n) })
	out.Host = slices.DeleteFunc(slices.Clone(d.Host), func(n string) bool { return slices.Contains(old.Host, n) })
	out.Env = slices.DeleteFunc(slices.Clone(d.Env), func(n string) bool { return slices.Contains(old.Env, n) })
	return out
}

// caps returns the requests of d as a manifest request.
func (d CapabilityDiff) caps() manifest.Capabilities {
	return manifest.Capabilities{FS: d.FS, Net: d.Net, Host: d.Host, Env: d.Env}
}

// grant returns g extended to cover the approved requests of d: net, host
// and env requests as written, and a read-write mode for an fs request
// whose guest path g already maps. An fs request for a path g does not map
// stays ungranted: only the user knows which host directory it should be.
func (g GrantRecord) grant(d CapabilityDiff) GrantRecord {
	out := g.clone()
	for _, r := range d.FS {
		if i := slices.IndexFunc(out.FS, func(f FSGrant) bool { return f.Guest == r.Path }); i >= 0 && r.Mode == manifest.ReadWrite {
			out.FS[i].Mode = manifest.ReadWrite
		}
	}
	out.Net = appendNew(out.Net, d.Net...)
	out.Host = appendNew(out.Host, d.Host...)
	out.Env = appendNew(out.Env, d.Env...)
	return out
}

// netCovered reports whether the granted patterns cover every destination
// the requested pattern req matches. Bad patterns cover nothing.
func netCovered(req string, grants []string) bool {
	rp, err := manifest.ParseNetPattern(req)
	if err != nil {
		return false
	}
	for _, g := range grants {
		gp, err := manifest.ParseNetPattern(g)
		if err == nil && netContains(gp, rp) {
			return true
		}
	}
	return false
}

// netContains reports whether every destination r matches, g matches too.
func netContains(g, r manifest.NetPattern) bool {
	// A pattern without a port means 80 and 443.
	switch {
	case g.Port == 0 && r.Port != 0 && r.Port != 80 && r.Port != 443:
		return false
	case g.Port != 0 && (r.Port == 0 || r.Port != g.Port):
		return false
	}
	switch {
	case r.Prefix.IsValid() || g.Prefix.IsValid():
		if !r.Prefix.IsValid() || !g.Prefix.IsValid() || r.Prefix.Addr().Is4() != g.Prefix.Addr().Is4() {
			return false
		}
		return g.Prefix.Bits() <= r.Prefix.Bits() && g.Prefix.Contains(r.Prefix.Masked().Addr())
	case !g.Wildcard:
		return !r.Wildcard && r.Host == g.Host
	default: // g is *.domain: subdomains of domain, at any depth
		return strings.HasSuffix(r.Host, "."+g.Host) || (r.Wildcard && r.Host == g.Host)
	}
}

// hostCovers reports whether the host-call pattern p matches every name
// the request pattern req matches.
func hostCovers(p, req string) bool {
	reqPrefix, reqWild := strings.CutSuffix(req, "*")
	if !reqWild {
		return capabilities.MatchHostCall(p, req)
	}
	pPrefix, pWild := strings.CutSuffix(p, "*")
	return pWild && strings.HasPrefix(reqPrefix, pPrefix)
}
