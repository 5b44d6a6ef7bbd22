package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

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
	Limits       infoLimits        `json:"limits"`
	Config       map[string]string `json:"config"`
	Dependencies map[string]string `json:"dependencies"`
	Handlers     []infoHandler     `json:"handlers"`
	Hooks        infoHooks         `json:"hooks"`
	Imports      []infoImport      `json:"imports"`
	ModuleSize   int               `json:"module_size"`
	ModuleSHA256 string            `json:"module_sha256"`
	Problems     []string          `json:"problems,omitempty"`
}

type infoCapabilities struct {
	FS   []infoFS `json:"fs"`
	Net  []string `json:"net"`
	Host []string `json:"host"`
	Env  []string `json:"env"`
}

type infoFS struct {
	Path string `json:"path"`
	Mode string `json:"mode"`
}

type infoLimits struct {
	Memory  string `json:"memory"`
	Timeout string `json:"timeout"`
	Output  string `json:"output"`
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

func newInfo(ins *runtime.Inspection) *info {
	m := ins.Manifest
	in := &info{
		Name: m.Plugin.Name, Version: m.Plugin.Version, Kind: string(m.Plugin.Kind), Module: m.Plugin.Module,
		Description: m.Plugin.Description, Authors: m.Plugin.Authors, License: m.Plugin.License,
		Homepage: m.Plugin.Homepage, ABI: m.Plugin.ABI,
		Capabilities: infoCapabilities{FS: []infoFS{}, Net: nonNil(m.Capabilities.Net), Host: nonNil(m.Capabilities.Host), Env: nonNil(m.Capabilities.Env)},
		Limits:       infoLimits{Memory: m.Limits.Memory.String(), Timeout: m.Limits.Timeout.String(), Output: m.Limits.Output.String()},
		Config:       m.Config,
		Dependencies: map[string]string{},
		Handlers:     []infoHandler{},
		Imports:      []infoImport{},
		ModuleSize:   ins.ModuleSize,
		ModuleSHA256: hex.EncodeToString(ins.ModuleSHA256[:]),
	}
	for _, f := range m.Capabilities.FS {
		in.Capabilities.FS = append(in.Capabilities.FS, infoFS{Path: f.Path, Mode: string(f.Mode)})
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
	var asJSON bool
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
			in := newInfo(ins)
			if ierr != nil {
				in.Problems = problemLines(ierr)
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
			if ierr != nil {
				return withCode(ExitVerify, fmt.Errorf("plugin %q has %d problem(s)", in.Name, len(in.Problems)))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
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
	fmt.Fprintln(w, "capabilities requested:")
	if len(in.Capabilities.FS)+len(in.Capabilities.Net)+len(in.Capabilities.Host)+len(in.Capabilities.Env) == 0 {
		fmt.Fprintln(w, "  none (compute, log and stdout/stderr only)")
	}
	for _, f := range in.Capabilities.FS {
		fmt.Fprintf(w, "  fs    %s (%s)\n", f.Path, f.Mode)
	}
	for _, n := range in.Capabilities.Net {
		fmt.Fprintf(w, "  net   %s\n", n)
	}
	for _, h := range in.Capabilities.Host {
		fmt.Fprintf(w, "  host  %s\n", h)
	}
	for _, v := range in.Capabilities.Env {
		fmt.Fprintf(w, "  env   %s\n", v)
	}
	fmt.Fprintf(w, "limits:       memory %s, timeout %s, output %s\n", in.Limits.Memory, in.Limits.Timeout, in.Limits.Output)
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
