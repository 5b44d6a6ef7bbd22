// Package check type-checks a parsed Vitte file and lowers it to a small
// typed tree (Program, Stmt, Expr) that the code generator turns into
// WebAssembly. It resolves names, checks types and the plugin attributes,
// desugars the conveniences of the language (format strings, for loops,
// compound assignments, method-call syntax, tail expressions) and records
// which built-ins are used.
//
// Every error goes to a syntax.Reporter with its position; checking goes
// on after each one, and an expression that already has an error has the
// type Invalid, so one mistake is reported once.
package check

import (
	"fmt"
	"strings"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/syntax"
)

// Check checks f and returns the program; errors go to r. The program is
// fit for code generation only when r has no errors.
//
// When r already holds syntax errors, f is partial (declarations and
// statements that did not parse are missing), so the errors that would
// only follow from that (undefined names, a missing give, an unused value)
// are not reported; every other error is.
func Check(f *syntax.File, r *syntax.Reporter) *Program {
	c := &checker{
		r:       r,
		partial: r.Len() > 0,
		prog:    &Program{Uses: map[Builtin]bool{}},
		procs:   map[string]*Proc{},
		consts:  map[string]*constant{},
	}
	c.collect(f)
	c.fileAttrs(f.Attrs)
	for _, p := range c.prog.Procs {
		c.procAttrs(p)
	}
	for _, p := range c.prog.Procs {
		c.body(p)
	}
	for _, k := range c.constOrder {
		c.resolveConst(k)
	}
	c.mayFail()
	return c.prog
}

type checker struct {
	r          *syntax.Reporter
	prog       *Program
	procs      map[string]*Proc
	consts     map[string]*constant
	constOrder []string
	pluginAttr *syntax.Attr
	partial    bool

	// The proc being checked.
	proc   *Proc
	scopes []map[string]*Var
	loops  []*LoopStmt
	direct bool // the proc calls fail or host_call itself
}

type constant struct {
	decl  *syntax.ConstDecl
	state int // 0 unresolved, 1 resolving, 2 done
	value *Const
}

func (c *checker) errorf(p syntax.Pos, format string, args ...any) {
	c.r.Errorf(p, format, args...)
}

// collect declares every proc and constant, so that order does not matter.
func (c *checker) collect(f *syntax.File) {
	where := map[string]syntax.Pos{}
	declare := func(name string, at syntax.Pos, what string) bool {
		if name == "_" {
			return false
		}
		if _, ok := builtins[name]; ok {
			c.errorf(at, "%s %s redeclares the built-in %s: choose another name", what, name, name)
			return false
		}
		if prev, ok := where[name]; ok {
			line, _ := c.r.Source().Position(prev)
			c.errorf(at, "%s redeclared: the first declaration is at line %d", name, line)
			return false
		}
		where[name] = at
		return true
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *syntax.ProcDecl:
			p := &Proc{Name: d.Name.Name, At: d.Name.NamePos, decl: d}
			c.prog.Procs = append(c.prog.Procs, p)
			if declare(d.Name.Name, d.Name.NamePos, "proc") {
				c.procs[d.Name.Name] = p
			}
			seen := map[string]bool{}
			for _, prm := range d.Params {
				t := c.typeOf(prm.Type)
				if t == Unit {
					c.errorf(prm.Type.At, "parameter %s cannot have the type (): give it a value type", prm.Name.Name)
					t = Invalid
				}
				v := &Var{Name: prm.Name.Name, Type: t, Index: len(p.Locals)}
				if seen[v.Name] && v.Name != "_" {
					c.errorf(prm.Name.NamePos, "duplicate parameter %s in proc %s", v.Name, p.Name)
				}
				seen[v.Name] = true
				p.Params = append(p.Params, v)
				p.Locals = append(p.Locals, v)
			}
			p.Result = Unit
			if d.Result != nil {
				p.Result = c.typeOf(d.Result)
			}
		case *syntax.ConstDecl:
			for _, a := range d.Attrs {
				c.errorf(a.Hash, "attribute #[%s] cannot be used on a constant", a.Name.Name)
			}
			if declare(d.Name.Name, d.Name.NamePos, "constant") {
				c.consts[d.Name.Name] = &constant{decl: d}
				c.constOrder = append(c.constOrder, d.Name.Name)
			}
		}
	}
}

// typeOf resolves a type name.
func (c *checker) typeOf(t *syntax.TypeExpr) Type {
	if t == nil {
		return Invalid
	}
	switch t.Name {
	case "i32":
		return I32
	case "i64", "int":
		return I64
	case "f64", "float":
		return F64
	case "bool":
		return Bool
	case "str", "string", "String":
		return Str
	case "()":
		return Unit
	case "?":
		return Invalid // already reported
	case "u8", "u16", "u32", "u64", "i8", "i16", "f32", "usize", "isize", "char", "uint", "byte":
		c.errorf(t.At, "type %s is not supported by the plugin compiler yet: use i32, i64 (int), f64, bool or str", t.Name)
		return Invalid
	}
	c.errorf(t.At, "unknown type %s: expected i32, i64, int, f64, bool or str", t.Name)
	return Invalid
}

// ignoredAttrs are attributes of the language that do not change the
// compiled plugin.
var ignoredAttrs = map[string]bool{
	"inline": true, "allow": true, "warn": true, "doc": true, "deprecated": true,
	"must_use": true, "cold": true, "test": false,
}

func (c *checker) plugin() *Plugin {
	if c.prog.Plugin == nil {
		c.prog.Plugin = &Plugin{KeyPos: map[string]syntax.Pos{}}
	}
	return c.prog.Plugin
}

func (c *checker) fileAttrs(attrs []*syntax.Attr) {
	for _, a := range attrs {
		switch name := a.Name.Name; name {
		case "plugin":
			c.pluginAttrArgs(a)
		case "config":
			p := c.plugin()
			for _, arg := range a.Args {
				if arg.Key == nil {
					c.errorf(arg.Pos(), `#![config] takes key = "value" pairs, as in #![config(greeting = "Hello")]`)
					continue
				}
				v, ok := c.attrString(arg, "a config value")
				if !ok {
					continue
				}
				key := "config." + arg.Key.Name
				if _, dup := p.KeyPos[key]; dup {
					c.errorf(arg.Pos(), "duplicate config key %s", arg.Key.Name)
					continue
				}
				p.KeyPos[key] = arg.Value.At
				p.Config = append(p.Config, KeyValue{At: arg.Value.At, Key: arg.Key.Name, Value: v})
			}
			if len(a.Args) == 0 {
				c.errorf(a.Hash, `#![config] needs key = "value" pairs, as in #![config(greeting = "Hello")]`)
			}
		case "capabilities":
			p := c.plugin()
			for _, arg := range a.Args {
				if arg.Key == nil || arg.Key.Name != "host" {
					c.errorf(arg.Pos(), `unknown capability: #![capabilities] takes host = ["pattern", ...] (the host calls the plugin makes)`)
					continue
				}
				for _, v := range c.attrStrings(arg) {
					p.KeyPos[fmt.Sprintf("capabilities.host[%d]", len(p.Host))] = v.At
					p.Host = append(p.Host, v.Value)
				}
			}
		case "limits":
			p := c.plugin()
			for _, arg := range a.Args {
				if arg.Key == nil || (arg.Key.Name != "memory" && arg.Key.Name != "timeout" && arg.Key.Name != "output") {
					c.errorf(arg.Pos(), `unknown limit: #![limits] takes memory = "16MiB", timeout = "5s" and output = "1MiB"`)
					continue
				}
				v, ok := c.attrString(arg, "a limit")
				if !ok {
					continue
				}
				key := "limits." + arg.Key.Name
				if _, dup := p.KeyPos[key]; dup {
					c.errorf(arg.Pos(), "duplicate limit %s", arg.Key.Name)
					continue
				}
				p.KeyPos[key] = arg.Value.At
				p.Limits = append(p.Limits, KeyValue{At: arg.Value.At, Key: arg.Key.Name, Value: v})
			}
		case "export", "on_load", "on_unload":
			c.errorf(a.Hash, "#![%s] is not a module attribute: write #[%s] before a proc", name, name)
		default:
			if !ignoredAttrs[name] {
				c.errorf(a.Name.NamePos, "unknown module attribute #![%s]: expected plugin, config, capabilities or limits", name)
			}
		}
	}
}

// pluginAttrArgs reads #[plugin(name = "...", version = "...", ...)].
func (c *checker) pluginAttrArgs(a *syntax.Attr) {
	if c.pluginAttr != nil {
		line, _ := c.r.Source().Position(c.pluginAttr.Hash)
		c.errorf(a.Hash, "a module has at most one plugin attribute: the first is at line %d", line)
		return
	}
	c.pluginAttr = a
	p := c.plugin()
	p.At = a.Hash
	seen := map[string]bool{}
	for _, arg := range a.Args {
		if arg.Key == nil {
			c.errorf(arg.Pos(), `plugin attribute arguments are key = "value" pairs, as in #[plugin(name = "hello", version = "0.1.0")]`)
			continue
		}
		k := arg.Key.Name
		if seen[k] {
			c.errorf(arg.Pos(), "duplicate plugin key %s", k)
			continue
		}
		seen[k] = true
		switch k {
		case "name", "version", "description", "license", "homepage":
			v, ok := c.attrString(arg, "the plugin "+k)
			if !ok {
				continue
			}
			p.KeyPos["plugin."+k] = arg.Value.At
			switch k {
			case "name":
				// The manifest check (adapters/vitte) reports a bad name.
				p.Name = v
			case "version":
				p.Version = v
			case "description":
				p.Description = v
			case "license":
				p.License = v
			case "homepage":
				p.Homepage = v
			}
		case "authors", "author":
			for _, v := range c.attrStrings(arg) {
				p.KeyPos[fmt.Sprintf("plugin.authors[%d]", len(p.Authors))] = v.At
				p.Authors = append(p.Authors, v.Value)
			}
		default:
			c.errorf(arg.Key.NamePos, "unknown plugin key %s: expected name, version, description, license, homepage or authors", k)
		}
	}
	if !seen["name"] {
		c.errorf(a.Name.NamePos, `the plugin attribute needs a name, as in #[plugin(name = "hello", version = "0.1.0")]`)
	}
	if !seen["version"] {
		c.errorf(a.Name.NamePos, `the plugin attribute needs a version, as in #[plugin(name = "hello", version = "0.1.0")]`)
	}
}

func (c *checker) attrString(arg *syntax.AttrArg, what string) (string, bool) {
	if arg.Value.Kind != syntax.AttrString {
		key := ""
		if arg.Key != nil {
			key = arg.Key.Name + " = "
		}
		c.errorf(arg.Value.At, `expected a string for %s, as in %s"..."`, what, key)
		return "", false
	}
	return arg.Value.Text, true
}

type posString struct {
	At    syntax.Pos
	Value string
}

// attrStrings reads a string or a list of strings.
func (c *checker) attrStrings(arg *syntax.AttrArg) []posString {
	vals := []*syntax.AttrValue{arg.Value}
	if arg.Value.Kind == syntax.AttrList {
		vals = arg.Value.List
	}
	var out []posString
	for _, v := range vals {
		if v.Kind != syntax.AttrString {
			c.errorf(v.At, `expected a string or a list of strings, as in %s = ["a", "b"]`, arg.Key.Name)
			continue
		}
		out = append(out, posString{v.At, v.Text})
	}
	return out
}

func (c *checker) procAttrs(p *Proc) {
	d := p.decl
	isHook := func(a *syntax.Attr, what string) bool {
		ok := true
		if len(p.Params) != 0 {
			c.errorf(d.Params[0].Name.NamePos, "%s hook %s takes no parameters", what, p.Name)
			ok = false
		}
		if p.Result != Unit && p.Result != Invalid {
			c.errorf(d.Result.At, "%s hook %s gives no value: remove -> %s", what, p.Name, p.Result)
			ok = false
		}
		return ok
	}
	setHook := func(slot **Proc, a *syntax.Attr, what string) {
		if *slot != nil {
			line, _ := c.r.Source().Position((*slot).At)
			c.errorf(a.Hash, "a module has at most one %s hook: %s at line %d is the first", what, (*slot).Name, line)
			return
		}
		if isHook(a, what) {
			*slot = p
		}
	}
	for _, a := range d.Attrs {
		switch name := a.Name.Name; name {
		case "plugin":
			had := c.pluginAttr != nil
			c.pluginAttrArgs(a)
			if !had {
				setHook(&c.prog.OnLoad, a, "on-load")
			}
		case "on_load":
			setHook(&c.prog.OnLoad, a, "on-load")
		case "on_unload":
			setHook(&c.prog.OnUnload, a, "on-unload")
		case "export":
			c.exportAttr(p, a)
		case "config", "capabilities", "limits":
			c.errorf(a.Hash, "#[%s] is a module attribute: write #![%s(...)] at the top of the file", name, name)
		default:
			if !ignoredAttrs[name] {
				c.errorf(a.Name.NamePos, "unknown attribute #[%s]: expected plugin, export, on_load or on_unload", name)
			}
		}
	}
}

func (c *checker) exportAttr(p *Proc, a *syntax.Attr) {
	e := &Export{At: a.Hash, Name: p.Name, Proc: p}
	for _, arg := range a.Args {
		switch {
		case arg.Key == nil:
			if v, ok := c.attrString(arg, "the export name"); ok {
				e.Name, e.At = v, arg.Value.At
			}
		case arg.Key.Name == "name":
			if v, ok := c.attrString(arg, "the export name"); ok {
				e.Name, e.At = v, arg.Value.At
			}
		case arg.Key.Name == "description":
			if v, ok := c.attrString(arg, "the description"); ok {
				e.Description = v
			}
		default:
			c.errorf(arg.Key.NamePos, `unknown export key %s: expected #[export], #[export("name")] or #[export(name = "...", description = "...")]`, arg.Key.Name)
		}
	}
	if err := checkExportName(e.Name); err != nil {
		c.errorf(e.At, "export name %q: %v", e.Name, err)
		return
	}
	for _, x := range c.prog.Exports {
		if x.Name == e.Name {
			line, _ := c.r.Source().Position(x.At)
			c.errorf(e.At, "handler %s is exported twice: the first export is at line %d", e.Name, line)
			return
		}
	}
	ok := true
	switch {
	case len(p.Params) > 1:
		c.errorf(p.decl.Params[1].Name.NamePos, "handler %s takes one parameter, the input: proc %s(input: str) -> str", e.Name, p.Name)
		ok = false
	case len(p.Params) == 1 && p.Params[0].Type != Str && p.Params[0].Type != Invalid:
		c.errorf(p.decl.Params[0].Type.At, "the input of handler %s is a str, not %s: proc %s(input: str) -> str", e.Name, p.Params[0].Type, p.Name)
		ok = false
	}
	if p.Result != Str && p.Result != Unit && p.Result != Invalid {
		c.errorf(p.decl.Result.At, "handler %s gives a str (or nothing), not %s: proc %s(input: str) -> str", e.Name, p.Result, p.Name)
		ok = false
	}
	if ok {
		c.prog.Exports = append(c.prog.Exports, e)
	}
}

// checkExportName applies the ABI's and the manifest's rules on handler
// names.
func checkExportName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty name")
	case len(s) > 256:
		return fmt.Errorf("longer than 256 bytes")
	case s == abi.ExportOnLoad || s == abi.ExportOnUnload:
		return fmt.Errorf("a lifecycle hook, not a handler: use #[on_load] or #[on_unload]")
	case !abi.IsHandlerName(s) || s == abi.ExportMemory:
		return fmt.Errorf("reserved for the module's internals (memory, _*, cabi_*)")
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("control characters are not allowed")
		}
	}
	return nil
}

// mayFail computes which procs may end with an error, through calls, and
// checks that on-unload cannot.
func (c *checker) mayFail() {
	for changed := true; changed; {
		changed = false
		for _, p := range c.prog.Procs {
			if p.MayFail {
				continue
			}
			for _, q := range p.calls {
				if q.MayFail {
					p.MayFail = true
					changed = true
					break
				}
			}
		}
	}
	if u := c.prog.OnUnload; u != nil && u.MayFail {
		c.errorf(u.At, "on-unload hook %s cannot fail: it calls fail or host_call (directly or through another proc), and on-unload has no way to report an error", u.Name)
	}
}

// describeParams renders a proc's parameters for messages: "(a: i32, s: str)".
func describeParams(p *Proc) string {
	var parts []string
	for _, v := range p.Params {
		parts = append(parts, v.Name+": "+v.Type.String())
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
