package abi

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ExternKind is the kind of an import or export.
type ExternKind byte

// The kinds, encoded as in the binary format.
const (
	KindFunc ExternKind = iota
	KindTable
	KindMemory
	KindGlobal
	KindTag
)

// String returns the text-format keyword of the kind.
func (k ExternKind) String() string {
	switch k {
	case KindFunc:
		return "func"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	case KindTag:
		return "tag"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Import is one import of a module. Type is set for functions.
type Import struct {
	Module, Name string
	Kind         ExternKind
	Type         FuncType
}

// Export is one export of a module. Type is set for functions.
type Export struct {
	Name string
	Kind ExternKind
	Type FuncType
}

// Errors of the contract check; a *ContractError wraps each that applies.
var (
	// ErrCommand: the module is a WASI command (_start without _initialize).
	ErrCommand = errors.New("module is a WASI command, not a plugin")
	// ErrMissingExport: a required export (memory, cabi_realloc) is absent.
	ErrMissingExport = errors.New("missing required export")
	// ErrExportType: an export with a fixed meaning has the wrong type.
	ErrExportType = errors.New("export has the wrong type")
	// ErrUnknownImport: the module imports something the host does not provide.
	ErrUnknownImport = errors.New("import not provided by the host")
	// ErrImportType: an import the host provides, with the wrong type.
	ErrImportType = errors.New("import has the wrong type")
)

// Contract is what a module offers and needs under ABI v1, as found from its
// imports and exports by [CheckContract].
type Contract struct {
	// Handlers are the handler names, sorted.
	Handlers []string
	// Post maps a handler name to true when cabi_post_<name> is exported.
	Post map[string]bool
	// Initialize, OnLoad and OnUnload tell which optional exports exist.
	Initialize, OnLoad, OnUnload bool
	// Interfaces lists the host modules the plugin imports from
	// (HostModule, HTTPModule, WASIModule), sorted.
	Interfaces []string
	// Imports lists every import, in module order.
	Imports []Import
	// Ignored lists function exports that are neither fixed exports nor
	// handlers (their type is not (i32, i32) -> i32), sorted.
	Ignored []string
}

// HasHandler reports whether name is one of the handlers.
func (c *Contract) HasHandler(name string) bool {
	i := sort.SearchStrings(c.Handlers, name)
	return i < len(c.Handlers) && c.Handlers[i] == name
}

// Imports reports whether the module imports from the given host module.
func (c *Contract) ImportsFrom(module string) bool {
	for _, m := range c.Interfaces {
		if m == module {
			return true
		}
	}
	return false
}

// ContractError lists every way a module breaks the ABI v1 contract.
type ContractError struct {
	Problems []error
}

// Error joins the problems, one per line when there are several.
func (e *ContractError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d ABI problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, so errors.Is finds each sentinel.
func (e *ContractError) Unwrap() []error { return e.Problems }

// WASIFuncs resolves the type of a wasi_snapshot_preview1 function the host
// provides, or reports false when it provides no function of that name.
type WASIFuncs func(name string) (FuncType, bool)

// CheckContract checks a module's imports and exports against ABI v1 and
// returns what it found. wasi resolves the WASI functions the host can
// provide; nil means none.
//
// It refuses: a WASI command (_start without _initialize); a module without
// an exported memory or cabi_realloc; a fixed export of the wrong type
// (cabi_realloc, _initialize, on-load, on-unload, cabi_post_*); any import
// that is not one of the ABI's host functions or a WASI function the host
// provides, with its exact type (so tables, memories, globals and tags are
// never imported). Every problem is reported, each naming the import or
// export.
func CheckContract(imports []Import, exports []Export, wasi WASIFuncs) (*Contract, error) {
	c := &Contract{Post: map[string]bool{}, Imports: imports}
	var problems []error
	add := func(err error, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err))
	}

	ifaces := map[string]bool{}
	for _, im := range imports {
		where := fmt.Sprintf("import %q.%q", im.Module, im.Name)
		if im.Kind != KindFunc {
			add(ErrUnknownImport, "%s (%s)", where, im.Kind)
			continue
		}
		var want FuncType
		var ok bool
		if im.Module == WASIModule {
			if wasi != nil {
				want, ok = wasi(im.Name)
			}
		} else {
			var h HostImport
			h, ok = LookupHostImport(im.Module, im.Name)
			want = h.Type
		}
		if !ok {
			add(ErrUnknownImport, "%s (func %s)", where, im.Type)
			continue
		}
		if !im.Type.Equal(want) {
			add(ErrImportType, "%s is func %s, the host provides func %s", where, im.Type, want)
			continue
		}
		ifaces[im.Module] = true
	}
	for m := range ifaces {
		c.Interfaces = append(c.Interfaces, m)
	}
	sort.Strings(c.Interfaces)

	byName := map[string]Export{}
	for _, ex := range exports {
		byName[ex.Name] = ex
	}
	fixed := func(name string, want FuncType, required bool) bool {
		ex, ok := byName[name]
		switch {
		case !ok:
			if required {
				add(ErrMissingExport, "export %q (func %s)", name, want)
			}
			return false
		case ex.Kind != KindFunc:
			add(ErrExportType, "export %q is a %s, want func %s", name, ex.Kind, want)
			return false
		case !ex.Type.Equal(want):
			add(ErrExportType, "export %q is func %s, want func %s", name, ex.Type, want)
			return false
		}
		return true
	}

	if _, ok := byName[ExportStart]; ok {
		if _, ok := byName[ExportInitialize]; !ok {
			add(ErrCommand, "module exports %q but not %q (build it as a reactor, e.g. clang -mexec-model=reactor or go build -buildmode=c-shared)", ExportStart, ExportInitialize)
		}
	}
	if ex, ok := byName[ExportMemory]; !ok {
		add(ErrMissingExport, "export %q (memory)", ExportMemory)
	} else if ex.Kind != KindMemory {
		add(ErrExportType, "export %q is a %s, want memory", ExportMemory, ex.Kind)
	}
	fixed(ExportRealloc, TypeRealloc, true)
	c.Initialize = fixed(ExportInitialize, TypeInitialize, false)
	c.OnLoad = fixed(ExportOnLoad, TypeOnLoad, false)
	c.OnUnload = fixed(ExportOnUnload, TypeOnUnload, false)

	for _, ex := range exports {
		if ex.Kind != KindFunc {
			continue
		}
		if strings.HasPrefix(ex.Name, ExportPostPrefix) {
			if fixed(ex.Name, TypePost, false) {
				c.Post[strings.TrimPrefix(ex.Name, ExportPostPrefix)] = true
			}
			continue
		}
		if !IsHandlerName(ex.Name) {
			continue
		}
		if ex.Type.Equal(TypeHandler) {
			c.Handlers = append(c.Handlers, ex.Name)
		} else {
			c.Ignored = append(c.Ignored, ex.Name)
		}
	}
	sort.Strings(c.Handlers)
	sort.Strings(c.Ignored)
	if len(problems) > 0 {
		return c, &ContractError{Problems: problems}
	}
	return c, nil
}
