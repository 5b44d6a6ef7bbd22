package registry

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// Entry is one installed plugin, as the index records it. The JSON names
// are those of the index file and of `vitte plugin list --json`.
type Entry struct {
	// Name and Version come from the package's plugin.toml.
	Name    string `json:"name"`
	Version string `json:"version"`
	// ContentID is the package's content id ("h1:..."), what signatures
	// sign.
	ContentID string `json:"content_id"`
	// SHA256 is the hexadecimal SHA-256 of the .vitplug file, signatures
	// included, which names it in the store.
	SHA256 string `json:"sha256"`
	// Source is where the package came from, as the caller said
	// ("file:///srv/plugins/hello-1.0.0.vitplug").
	Source string `json:"source"`
	// Signers are what InstallOptions.Verify returned: the trusted keys
	// whose signatures were accepted. Empty for an unsigned package.
	Signers []string `json:"signers"`
	// Grants are the capabilities the user approved.
	Grants GrantRecord `json:"grants"`
	// Enabled plugins are those LoadOrder returns.
	Enabled bool `json:"enabled"`
	// Dependencies are the plugin's [dependencies], each with the version
	// installed when it was resolved.
	Dependencies []Dependency `json:"dependencies"`
	// InstalledAt is when this version was installed, in UTC.
	InstalledAt time.Time `json:"installed_at"`
	// Quarantine is set while a host that runs the plugin has it
	// quarantined (see SetQuarantine); nil otherwise. Installing a version
	// clears it.
	Quarantine *Quarantine `json:"quarantine,omitempty"`
}

// Dependency is one entry of a plugin's [dependencies], resolved.
type Dependency struct {
	Name       string `json:"name"`
	Constraint string `json:"constraint"`
	// Version is the version of Name that satisfied Constraint at install
	// time.
	Version string `json:"version"`
}

// StorePath returns the path, relative to the registry folder, of the
// entry's package in the store.
func (e Entry) StorePath() string { return storeRel(e.SHA256) }

// normalize makes the lists of e empty rather than nil, so that they are
// written as [] rather than null.
func (e *Entry) normalize() {
	if e.Signers == nil {
		e.Signers = []string{}
	}
	if e.Dependencies == nil {
		e.Dependencies = []Dependency{}
	}
}

func (e Entry) clone() Entry {
	e.Signers = slices.Clone(e.Signers)
	e.Dependencies = slices.Clone(e.Dependencies)
	e.Grants = e.Grants.clone()
	if e.Quarantine != nil {
		q := *e.Quarantine
		e.Quarantine = &q
	}
	return e
}

// GrantRecord is the serialisable form of the capabilities.Grants a user
// approved for a plugin: what the index records, and what Grants rebuilds.
// The zero value grants nothing.
//
// A GrantRecord can hold grants that would not resolve (a relative host
// directory, a bad net pattern): Install checks it with
// capabilities.Resolve before recording it.
type GrantRecord struct {
	// FS maps guest paths to host directories.
	FS []FSGrant `json:"fs,omitempty"`
	// Net and DenyNet are net patterns (manifest syntax) allowed and denied.
	Net     []string `json:"net,omitempty"`
	DenyNet []string `json:"deny_net,omitempty"`
	// Host are host-call patterns ("compiler.ast", "studio.*").
	Host []string `json:"host,omitempty"`
	// Env are names of environment variables.
	Env []string `json:"env,omitempty"`
	// All grants every net, host and env request of the manifest
	// (capabilities.Grants.WithAll). An update never carries it over to
	// requests the old version did not make: see Install.
	All bool `json:"all,omitempty"`
}

// FSGrant maps a guest path to a host directory.
type FSGrant struct {
	Guest string        `json:"guest"`
	Host  string        `json:"host"`
	Mode  manifest.Mode `json:"mode"`
}

// Grants rebuilds the capabilities.Grants that g records.
func (g GrantRecord) Grants() capabilities.Grants {
	out := capabilities.NewGrants()
	for _, f := range g.FS {
		out = out.WithDir(f.Guest, f.Host, f.Mode)
	}
	for _, n := range g.Net {
		out = out.WithNet(n)
	}
	for _, n := range g.DenyNet {
		out = out.WithoutNet(n)
	}
	for _, h := range g.Host {
		out = out.WithHostCall(h)
	}
	for _, e := range g.Env {
		out = out.WithEnv(e)
	}
	if g.All {
		out = out.WithAll()
	}
	return out
}

// IsZero reports whether g grants nothing.
func (g GrantRecord) IsZero() bool {
	return len(g.FS) == 0 && len(g.Net) == 0 && len(g.DenyNet) == 0 && len(g.Host) == 0 && len(g.Env) == 0 && !g.All
}

// String summarises g on one line: "fs /data=/srv/data (ro), net api.example.com, env LANG",
// or "none".
func (g GrantRecord) String() string {
	items := g.items()
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

func (g GrantRecord) items() []string {
	var out []string
	if g.All {
		out = append(out, "all (net, host, env)")
	}
	for _, f := range g.FS {
		out = append(out, fmt.Sprintf("fs %s=%s (%s)", f.Guest, f.Host, f.Mode))
	}
	for _, n := range g.Net {
		out = append(out, "net "+n)
	}
	for _, n := range g.DenyNet {
		out = append(out, "deny-net "+n)
	}
	for _, h := range g.Host {
		out = append(out, "host "+h)
	}
	for _, e := range g.Env {
		out = append(out, "env "+e)
	}
	return out
}

func (g GrantRecord) clone() GrantRecord {
	g.FS = slices.Clone(g.FS)
	g.Net = slices.Clone(g.Net)
	g.DenyNet = slices.Clone(g.DenyNet)
	g.Host = slices.Clone(g.Host)
	g.Env = slices.Clone(g.Env)
	return g
}

// merge returns g with the grants of o added, without duplicates. An FS
// grant of o replaces g's grant of the same guest path.
func (g GrantRecord) merge(o GrantRecord) GrantRecord {
	out := g.clone()
	for _, f := range o.FS {
		if i := slices.IndexFunc(out.FS, func(x FSGrant) bool { return x.Guest == f.Guest }); i >= 0 {
			out.FS[i] = f
		} else {
			out.FS = append(out.FS, f)
		}
	}
	out.Net = appendNew(out.Net, o.Net...)
	out.DenyNet = appendNew(out.DenyNet, o.DenyNet...)
	out.Host = appendNew(out.Host, o.Host...)
	out.Env = appendNew(out.Env, o.Env...)
	out.All = out.All || o.All
	return out
}

// expand returns g with All replaced by the net, host and env requests of
// req it stood for.
func (g GrantRecord) expand(req manifest.Capabilities) GrantRecord {
	if !g.All {
		return g.clone()
	}
	out := g.clone()
	out.All = false
	out.Net = appendNew(out.Net, req.Net...)
	out.Host = appendNew(out.Host, req.Host...)
	out.Env = appendNew(out.Env, req.Env...)
	return out
}

func appendNew(s []string, add ...string) []string {
	for _, a := range add {
		if !slices.Contains(s, a) {
			s = append(s, a)
		}
	}
	return s
}
