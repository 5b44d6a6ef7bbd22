package abi

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the major version of the ABI this package implements.
const Version = "1"

// Names of the modules a plugin imports its host functions from.
const (
	// HostModule provides log, config-get and call.
	HostModule = "vitte:plugin/host@1.0.0"
	// HTTPModule provides request.
	HTTPModule = "vitte:plugin/http@1.0.0"
	// WASIModule is WASI preview 1, whose functions the capability layer
	// exposes as it decides.
	WASIModule = "wasi_snapshot_preview1"
)

// Names of the host functions.
const (
	FuncLog       = "log"
	FuncConfigGet = "config-get"
	FuncCall      = "call"
	FuncRequest   = "request"
)

// Names of the core exports with a fixed meaning.
const (
	ExportMemory      = "memory"
	ExportRealloc     = "cabi_realloc"
	ExportInitialize  = "_initialize"
	ExportStart       = "_start"
	ExportOnLoad      = "on-load"
	ExportOnUnload    = "on-unload"
	ExportPostPrefix  = "cabi_post_"
	reservedCABI      = "cabi_"
	reservedUnderline = "_"
)

// Sizes and alignment of the memory layouts.
const (
	// ResultSize is the size of a result<list<u8>, string>, result<_, string>
	// or option<string> area.
	ResultSize = 12
	// ResponseResultSize is the size of a result<response, string> area.
	ResponseResultSize = 24
	// TupleSize is the size of a tuple<string, string>.
	TupleSize = 16
	// Align is the alignment of every area above.
	Align = 4
)

// Tags of a result or option.
const (
	TagOK   = 0
	TagErr  = 1
	TagNone = 0
	TagSome = 1
)

// Level is the severity of a host.log message (the WIT enum level).
type Level uint32

// The levels, in the WIT enum's order.
const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

var levelNames = [...]string{"trace", "debug", "info", "warn", "error"}

// String returns the WIT name of the level, or "level(N)" for a value
// outside the enum.
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "level(" + strconv.FormatUint(uint64(l), 10) + ")"
}

// Valid reports whether l is one of the five levels.
func (l Level) Valid() bool { return l <= LevelError }

// ValueType is a WebAssembly core value type, encoded as in the binary format.
type ValueType byte

// The core value types.
const (
	I32       ValueType = 0x7f
	I64       ValueType = 0x7e
	F32       ValueType = 0x7d
	F64       ValueType = 0x7c
	V128      ValueType = 0x7b
	FuncRef   ValueType = 0x70
	ExternRef ValueType = 0x6f
)

// String returns the text-format name of the type.
func (v ValueType) String() string {
	switch v {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("type(0x%02x)", byte(v))
}

// FuncType is the core type of a function.
type FuncType struct {
	Params, Results []ValueType
}

// Equal reports whether two function types are identical.
func (f FuncType) Equal(o FuncType) bool {
	return equalTypes(f.Params, o.Params) && equalTypes(f.Results, o.Results)
}

// String formats the type as "(i32, i32) -> i32", or "() -> ()".
func (f FuncType) String() string {
	var b strings.Builder
	b.WriteString("(")
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
	}
	b.WriteString(") -> ")
	switch len(f.Results) {
	case 0:
		b.WriteString("()")
	case 1:
		b.WriteString(f.Results[0].String())
	default:
		b.WriteString("(")
		for i, r := range f.Results {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(r.String())
		}
		b.WriteString(")")
	}
	return b.String()
}

func equalTypes(a, b []ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sig(results []ValueType, params ...ValueType) FuncType {
	return FuncType{Params: params, Results: results}
}

var (
	none  []ValueType
	i32   = []ValueType{I32}
	i32x3 = []ValueType{I32, I32, I32}
)

// The core types of the ABI's exports.
var (
	TypeRealloc    = sig(i32, I32, I32, I32, I32)
	TypeInitialize = sig(none)
	TypeOnLoad     = sig(i32)
	TypeOnUnload   = sig(none)
	TypeHandler    = sig(i32, I32, I32)
	TypePost       = sig(none, I32)
)

// The core types of the ABI's imports.
var (
	TypeLog       = sig(none, i32x3...)
	TypeConfigGet = sig(none, i32x3...)
	TypeCall      = sig(none, I32, I32, I32, I32, I32)
	TypeRequest   = sig(none, I32, I32, I32, I32, I32, I32, I32, I32, I32)
)

// HostImport is one function the host provides to guests under ABI v1.
type HostImport struct {
	Module, Name string
	Type         FuncType
}

// HostImports lists the ABI v1 host functions, in the order of the spec's
// table.
var HostImports = []HostImport{
	{HostModule, FuncLog, TypeLog},
	{HostModule, FuncConfigGet, TypeConfigGet},
	{HostModule, FuncCall, TypeCall},
	{HTTPModule, FuncRequest, TypeRequest},
}

// LookupHostImport returns the ABI v1 host function with that module and
// name.
func LookupHostImport(module, name string) (HostImport, bool) {
	for _, h := range HostImports {
		if h.Module == module && h.Name == name {
			return h, true
		}
	}
	return HostImport{}, false
}

// IsHandlerName reports whether an export with this name may be a handler:
// names starting with "cabi_" or "_", and the fixed exports, never are.
func IsHandlerName(name string) bool {
	switch name {
	case "", ExportMemory, ExportOnLoad, ExportOnUnload, ExportStart, ExportInitialize:
		return false
	}
	return !strings.HasPrefix(name, reservedCABI) && !strings.HasPrefix(name, reservedUnderline)
}
