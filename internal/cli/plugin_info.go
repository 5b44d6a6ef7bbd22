package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// info is the --json form of vitte plugin info.
type info struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	Kind         string            `json:"kind"`
	Module       string            `json:"module"`
	Description  string            `json:"description,omitempty"`
	Authors      []string          `json:"authors,omitempty"`
	License      string            `json:"license,omitempty"`
	Homepage     string            `json:"homepage,omitempty"`
	ABI          string            `json:"abi"`
	Capabilities infoCapabilities  `json:"capabilities"`
	Granted      infoGranted       `json:"granted"`
	Limits       infoLimits        `json:"limits"`           // as plugin.toml says
	Effective    infoLimits        `json:"effective_limits"` // what the plugin gets, under the --max-* ceilings
	Lowered      []string          `json:"lowered,omitempty"`
	Config       map[string]string `json:"config"`
	Dependencies map[string]string `json:"dependencies"`
	Handlers     []infoHandler     `json:"handlers"`
	Hooks        infoHooks         `json:"hooks"`
	Imports      []infoImport      `json:"imports"`
	ModuleSize   int               `json:"module_size"`
	ModuleSHA256 string            `json:"module_sha256"`
	Compiler     string            `json:"compiler,omitempty"` // how the runtime compiles the module, and why (runtime.CompileLimits)
	Problems     []string          `json:"problems,omitempty"`
	Python       *infoPython       `json:"python,omitempty"` // kind "python" (plugin_info_python.go)
}

type infoCapabilities struct {
	FS   []infoFS `json:"fs"`
	Net  []string `json:"net"`
	Host []string `json:"host"`
	Env  []string `json:"env"`
}

// infoGranted is what the grant flags give, intersected with the request.
type infoGranted struct {
	FS     []infoMount `json:"fs"`
	Net    []string    `json:"net"`
	Host   []infoHost  `json:"host"`
	Env    []string    `json:"env"`
	Denied []string    `json:"denied"`
	// Warnings: mounts that overlap with different modes
	// (capabilities.Set.MountWarnings).
	Warnings []string `json:"warnings,omitempty"`
}

// infoHost is a requested host-call pattern and the grants that cover it.
type infoHost struct {
	Request string   `json:"request"`
	Grants  []string `json:"grants"`
}

type infoMount struct {
	Path string `json:"path"`
	Mode string `json:"mode"`
	Host string `json:"host"`
}

type infoFS struct {
	Path string `json:"path"`
	Mode string `json:"mode"`
}

type infoLimits struct {
	Memory  string `json:"memory"`
	Timeout string `json:"timeout"`
	Output  string `json:"output"`
	Fuel    uint64 `json:"fuel,omitempty"`
}

type infoHandler struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Post        bool   `json:"post"`
}

type infoHooks struct {
	Initialize bool `json:"initialize"`
	OnLoad     bool `json:"on_load"`
	OnUnload   bool `json:"on_unload"`
}

type infoImport struct {
	Module string `json:"module"`
	Name   string `json:"name"`
	Type   string `json:"type"`
}

func newInfo(ins *runtime.Inspection, set *capabilities.Set) *info {
	m := ins.Manifest
	in := &info{
		Name: m.Plugin.Name, Version: m.Plugin.Version, Kind: string(m.Plugin.Kind), Module: m.Plugin.Module,
		Description: m.Plugin.Description, Authors: m.Plugin.Authors, License: m.Plugin.License,
		Homepage: m.Plugin.Homepage, ABI: m.Plugin.ABI,
		Capabilities: infoCapabilities{FS: []infoFS{}, Net: nonNil(m.Capabilities.Net), Host: nonNil(m.Capabilities.Host), Env: nonNil(m.Capabilities.Env)},
		Limits:       infoLimits{Memory: m.Limits.Memory.String(), Timeout: m.Limits.Timeout.String(), Output: m.Limits.Output.String(), Fuel: m.Limits.Fuel},
		Effective: infoLimits{Memory: manifest.Size(ins.Limits.Memory).String(), Timeout: ins.Limits.Timeout.String(),
			Output: manifest.Size(ins.Limits.Output).String(), Fuel: ins.Limits.Fuel},
		Lowered:      loweredLines(ins.Limits),
		Config:       m.Config,
		Dependencies: map[string]string{},
		Handlers:     []infoHandler{},
		Imports:      []infoImport{},
		ModuleSize:   ins.ModuleSize,
		ModuleSHA256: hex.EncodeToString(ins.ModuleSHA256[:]),
		Compiler:     ins.Compiler.String(),
	}
	for _, f := range m.Capabilities.FS {
		in.Capabilities.FS = append(in.Capabilities.FS, infoFS{Path: f.Path, Mode: string(f.Mode)})
	}
	in.Granted = infoGranted{FS: []infoMount{}, Net: []string{}, Host: []infoHost{}, Env: nonNil(set.Env), Denied: nonNil(set.Denied)}
	for _, mt := range set.Mounts {
		in.Granted.FS = append(in.Granted.FS, infoMount{Path: mt.Guest, Mode: string(mt.Mode), Host: mt.Host})
	}
	in.Granted.Warnings = set.MountWarnings()
	for _, n := range set.Net {
		in.Granted.Net = append(in.Granted.Net, n.String())
	}
	for _, h := range m.Capabilities.Host {
		if gs := set.HostGrants(h); len(gs) > 0 {
			in.Granted.Host = append(in.Granted.Host, infoHost{Request: h, Grants: gs})
		}
	}
	for name, d := range m.Dependencies {
		in.Dependencies[name] = d.Constraint
	}
	if c := ins.Contract; c != nil {
		for _, h := range c.Handlers {
			in.Handlers = append(in.Handlers, infoHandler{Name: h, Description: m.Exports[h].Description, Post: c.Post[h]})
		}
		in.Hooks = infoHooks{Initialize: c.Initialize, OnLoad: c.OnLoad, OnUnload: c.OnUnload}
		for _, im := range c.Imports {
			in.Imports = append(in.Imports, infoImport{Module: im.Module, Name: im.Name, Type: im.Kind.String() + " " + im.Type.String()})
		}
	}
	return in
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func newInfoCmd(e *env) *cobra.Command {
	var (
		asJSON bool
		gf     grantFlags
	)
	c := &cobra.Command{
		Use:   "info <dir>",
		Short: "Show what a plugin is, asks for and offers",
		Long: `Info reads the plugin in <dir> without running it and shows its manifest
fields, the capabilities it requests, its limits, the handlers and hooks
found in its module, the module's imports, and the module's size and
SHA-256. A plugin with problems is still shown, with its problems listed,
and the exit status is 3.`,
		Example: `  vitte plugin info testdata/wasm/hello-c
  vitte plugin info --json testdata/wasm/hello-c | jq .handlers`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			rt, err := e.runtime(cmd.Context(), true)
			if err != nil {
				return classify(err)
			}
			defer rt.Close(cmd.Context())
			ins, ierr := rt.Inspect(a[0])
			if ins == nil {
				return withCode(ExitVerify, ierr)
			}
			g, err := gf.grants()
			if err != nil {
				return err
			}
			set, err := capabilities.Resolve(ins.Manifest.Capabilities, g)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			in := newInfo(ins, set)
			if ierr != nil {
				in.Problems = problemLines(ierr)
			} else {
				addPythonInfo(cmd.Context(), rt, a[0], ins, in)
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(in); err != nil {
					return withCode(ExitError, err)
				}
			} else {
				printInfo(e.stdout, in)
			}
			if len(in.Problems) > 0 {
				return withCode(ExitVerify, fmt.Errorf("plugin %q has %d problem(s)", in.Name, len(in.Problems)))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	gf.register(c.Flags())
	return c
}

func printInfo(w io.Writer, in *info) {
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-13s %s\n", k+":", v)
		}
	}
	row("name", in.Name)
	row("version", in.Version)
	row("kind", in.Kind)
	row("description", in.Description)
	row("authors", strings.Join(in.Authors, ", "))
	row("license", in.License)
	row("homepage", in.Homepage)
	row("abi", in.ABI)
	row("module", fmt.Sprintf("%s (%d bytes, sha256 %s)", in.Module, in.ModuleSize, in.ModuleSHA256))
	row("compiler", in.Compiler)
	printPythonInfo(w, in)
	fmt.Fprintln(w, "capabilities:  requested -> granted (by the --allow-* flags)")
	if len(in.Capabilities.FS)+len(in.Capabilities.Net)+len(in.Capabilities.Host)+len(in.Capabilities.Env) == 0 {
		fmt.Fprintln(w, "  none (compute, log and stdout/stderr only)")
	}
	denied := func(what string) bool { return slices.Contains(in.Granted.Denied, what) }
	verdict := func(what, granted string) string {
		if denied(what) {
			return "denied"
		}
		return granted
	}
	for _, f := range in.Capabilities.FS {
		g := "denied"
		for _, mt := range in.Granted.FS {
			if mt.Path == f.Path {
				g = fmt.Sprintf("%s (%s)", mt.Host, mt.Mode)
			}
		}
		fmt.Fprintf(w, "  fs    %s (%s) -> %s\n", f.Path, f.Mode, g)
	}
	for _, n := range in.Capabilities.Net {
		g := "denied"
		if !denied("net " + n) {
			g = "granted"
		}
		fmt.Fprintf(w, "  net   %s -> %s\n", n, g)
	}
	for _, h := range in.Capabilities.Host {
		g := "denied"
		for _, hg := range in.Granted.Host {
			if hg.Request == h {
				g = "granted as " + strings.Join(hg.Grants, ", ")
			}
		}
		fmt.Fprintf(w, "  host  %s -> %s\n", h, g)
	}
	for _, v := range in.Capabilities.Env {
		fmt.Fprintf(w, "  env   %s -> %s\n", v, verdict("env "+v, "granted"))
	}
	for _, wa := range in.Granted.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", wa)
	}
	fmt.Fprintf(w, "limits:       memory %s, timeout %s, output %s", in.Effective.Memory, in.Effective.Timeout, in.Effective.Output)
	if in.Effective.Fuel > 0 {
		fmt.Fprintf(w, ", fuel %d", in.Effective.Fuel)
	}
	fmt.Fprintln(w)
	for _, l := range in.Lowered {
		fmt.Fprintf(w, "  %s\n", l)
	}
	if len(in.Config) > 0 {
		fmt.Fprintln(w, "config:")
		keys := make([]string, 0, len(in.Config))
		for k := range in.Config {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s = %q\n", k, in.Config[k])
		}
	}
	if len(in.Dependencies) > 0 {
		fmt.Fprintln(w, "dependencies:")
		keys := make([]string, 0, len(in.Dependencies))
		for k := range in.Dependencies {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s %s\n", k, in.Dependencies[k])
		}
	}
	var hooks []string
	for _, h := range []struct {
		on   bool
		name string
	}{{in.Hooks.Initialize, "_initialize"}, {in.Hooks.OnLoad, "on-load"}, {in.Hooks.OnUnload, "on-unload"}} {
		if h.on {
			hooks = append(hooks, h.name)
		}
	}
	if len(hooks) == 0 {
		hooks = []string{"none"}
	}
	row("hooks", strings.Join(hooks, ", "))
	fmt.Fprintf(w, "handlers:     %d\n", len(in.Handlers))
	for _, h := range in.Handlers {
		if h.Description != "" {
			fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Description)
		} else {
			fmt.Fprintf(w, "  %s\n", h.Name)
		}
	}
	fmt.Fprintf(w, "imports:      %d\n", len(in.Imports))
	for _, im := range in.Imports {
		fmt.Fprintf(w, "  %s.%s %s\n", im.Module, im.Name, im.Type)
	}
	if len(in.Problems) > 0 {
		fmt.Fprintf(w, "problems:     %d\n", len(in.Problems))
		for _, p := range in.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// problemLines splits an error listing several problems into one line
// each.
func problemLines(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
