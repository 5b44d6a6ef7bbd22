package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"

	"github.com/vitte-lang/vitte-plugin/adapters/python"
	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// infoPython is what info shows of a plugin of kind "python".
type infoPython struct {
	Entry        string `json:"entry"`
	ScriptSize   int    `json:"script_size"`
	ScriptSHA256 string `json:"script_sha256"`
	Interpreter  string `json:"interpreter"`
	CPython      string `json:"cpython"`
	Source       string `json:"debian_source"`
	// Handlers come from importing the script (see pythonHandlers).
	HandlersFrom string `json:"handlers_from"`
}

// addPythonInfo fills in the Python part of in. A Python script declares
// its handlers when it runs, so info imports it, as load would but with no
// grants and no configuration override, to list them; if that fails the
// failure is a problem of the plugin.
func addPythonInfo(ctx context.Context, rt *runtime.Runtime, path string, ins *runtime.Inspection, in *info) {
	py := ins.Python
	if py == nil {
		return
	}
	in.Python = &infoPython{
		Entry: py.Entry, ScriptSize: py.ScriptSize, ScriptSHA256: hex.EncodeToString(py.ScriptSHA256[:]),
		Interpreter: py.Interpreter, CPython: py.Build.Get("cpython"), Source: py.Build.Get("debian-source"),
		HandlersFrom: "importing " + py.Entry + " with no grants",
	}
	// The module that runs is the interpreter; the script is shown apart.
	in.Module = filepath.Join(py.Interpreter, python.ModuleFile)
	var (
		p   *runtime.Plugin
		err error
	)
	if runtime.IsPackage(path) {
		var pkg *vitplug.Package
		if pkg, err = vitplug.OpenFile(path, vitplug.Limits{}); err == nil {
			p, err = rt.LoadPackage(ctx, pkg, runtime.NewLoadConfig())
		}
	} else {
		p, err = rt.Load(ctx, path)
	}
	if err != nil {
		in.Problems = append(in.Problems, problemLines(fmt.Errorf("list the handlers: %w", err))...)
		return
	}
	defer p.Close(ctx)
	m := ins.Manifest
	in.Handlers = []infoHandler{}
	for _, h := range p.Handlers() {
		in.Handlers = append(in.Handlers, infoHandler{Name: h, Description: m.Exports[h].Description})
	}
}

func printPythonInfo(w io.Writer, in *info) {
	if in.Python == nil {
		return
	}
	py := in.Python
	fmt.Fprintf(w, "%-13s %s (%d bytes, sha256 %s)\n", "script:", py.Entry, py.ScriptSize, py.ScriptSHA256)
	fmt.Fprintf(w, "%-13s CPython %s (Debian source %s)\n", "python:", py.CPython, py.Source)
}
