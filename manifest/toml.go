package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// This file turns the TOML text into a tree of values that remember where
// they were written, enforcing the TOML rules on keys and tables (no key
// defined twice, no table defined twice, inline tables closed) that the
// unstable parser leaves to its user. decode.go then checks the tree against
// the manifest schema.

// vkind is the type of a TOML value.
type vkind uint8

const (
	vString vkind = iota
	vInteger
	vFloat
	vBool
	vDateTime
	vArray
	vTable
)

func (k vkind) String() string {
	switch k {
	case vString:
		return "string"
	case vInteger:
		return "integer"
	case vFloat:
		return "float"
	case vBool:
		return "boolean"
	case vDateTime:
		return "date-time"
	case vArray:
		return "array"
	default:
		return "table"
	}
}

// tableDef is how a table came to be.
type tableDef uint8

const (
	defImplicit tableDef = iota // named on the way to another table: [a] in [a.b]
	defHeader                   // by a [header]
	defDotted                   // by dotted keys: a in a.b = 1
	defInline                   // by an inline table { ... }
)

// tvalue is a TOML value and where it was written.
type tvalue struct {
	kind   vkind
	off    int // offset of the value ('[' of a table header); -1 when unknown
	keyOff int // offset of the key naming the value; -1 for array elements

	str string // string value, or the text of another scalar

	elems []*tvalue // array elements
	aot   bool      // array of tables, made by [[header]]

	keys   []string // table keys in file order
	fields map[string]*tvalue
	def    tableDef
	sealed bool // inline table, or table inside one: closed to additions
}

func newTable(def tableDef, off, keyOff int) *tvalue {
	return &tvalue{kind: vTable, def: def, off: off, keyOff: keyOff, fields: map[string]*tvalue{}}
}

func (t *tvalue) add(key string, v *tvalue) {
	t.keys = append(t.keys, key)
	t.fields[key] = v
}

// pos returns the offset of the key naming v, or else of v.
func (v *tvalue) pos() int {
	if v.keyOff >= 0 {
		return v.keyOff
	}
	return v.off
}

// problem is a Problem before its offset is turned into a line and column.
type problem struct {
	off int // -1 when unknown
	key string
	msg string
}

// document is a parsed TOML file.
type document struct {
	data     []byte
	root     *tvalue
	problems []problem
	partial  bool  // a syntax error stopped the parsing
	lines    []int // offset of the start of each line, computed on demand
}

// segment is one part of a dotted key.
type segment struct {
	name string
	off  int
}

// maxProblems bounds the problems reported for one file.
const maxProblems = 1000

// maxKeyParts bounds the parts of one dotted key or table header. The
// deepest key of the schema has three ("exports.greet.description"); the
// bound keeps a hostile key of half a million parts from building as many
// nested tables (it took 5.6 s and 340 MB to refuse).
const maxKeyParts = 16

func (d *document) problem(off int, key, msg string) {
	d.problems = append(d.problems, problem{off: off, key: key, msg: msg})
}

// line returns the 1-based line and column of the byte at off.
func (d *document) position(off int) (line, col int) {
	if off < 0 || off > len(d.data) {
		return 0, 0
	}
	if d.lines == nil {
		d.lines = []int{0}
		for i, c := range d.data {
			if c == '\n' {
				d.lines = append(d.lines, i+1)
			}
		}
	}
	i := sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off }) - 1
	return i + 1, off - d.lines[i] + 1
}

func (d *document) line(off int) int {
	l, _ := d.position(off)
	return l
}

// error returns the problems of d as an *Error, in file order.
func (d *document) error(filename string) *Error {
	sort.SliceStable(d.problems, func(i, j int) bool {
		a, b := d.problems[i].off, d.problems[j].off
		if a < 0 || b < 0 {
			return a >= 0 && b < 0
		}
		return a < b
	})
	ps := d.problems
	more := 0
	if len(ps) > maxProblems {
		more = len(ps) - maxProblems
		ps = ps[:maxProblems]
	}
	e := &Error{Problems: make([]Problem, 0, len(ps)+1)}
	for _, p := range ps {
		line, col := d.position(p.off)
		e.Problems = append(e.Problems, Problem{File: filename, Line: line, Column: col, Key: p.key, Message: p.msg})
	}
	if more > 0 {
		e.Problems = append(e.Problems, Problem{File: filename, Message: fmt.Sprintf("too many problems: %d more not shown", more)})
	}
	return e
}

// parseDocument parses data into a tree, recording every problem met. It
// stops at the first syntax error.
func parseDocument(data []byte) *document {
	// A UTF-8 byte order mark is invisible in editors: skip it so that the
	// columns of the first line are those the user sees.
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		data = data[3:]
	}
	// TOML allows CRLF line endings, and a multi-line string written with
	// them holds the newlines of its lines: normalised to LF here, as the
	// spec allows, they are not refused as a control character (U+000D)
	// later. A CR is valid TOML nowhere else than before an LF, so no
	// other meaning changes; lines and columns stay those of the file.
	if bytes.Contains(data, []byte("\r\n")) {
		data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	}
	d := &document{data: data, root: newTable(defImplicit, -1, -1)}

	var p unstable.Parser // KeepComments is false: no comment nodes
	p.Reset(data)
	cur, curPath := d.root, (*keyPath)(nil)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.KeyValue:
			if cur == nil {
				continue // under a table header that was refused
			}
			segs, ok := d.segments(e.Key())
			if !ok {
				continue
			}
			v := d.value(e.Value(), d.valueOff(e), curPath.keys(segs))
			d.setKey(cur, curPath, segs, v)
		case unstable.Table, unstable.ArrayTable:
			segs, ok := d.segments(e.Key())
			if !ok {
				cur, curPath = nil, nil
				continue
			}
			cur, curPath = d.header(segs, d.headerOff(segs[0].off), e.Kind == unstable.ArrayTable)
		}
	}
	if err := p.Error(); err != nil {
		d.partial = true
		off := -1
		msg := err.Error()
		var perr *unstable.ParserError
		if errors.As(err, &perr) {
			off = d.offsetOf(perr.Highlight)
			msg = perr.Message
		}
		d.problem(off, "", "syntax error: "+msg)
	}
	return d
}

// offsetOf returns the offset of b in d.data, or -1 if b is not part of it.
func (d *document) offsetOf(b []byte) int {
	off := cap(d.data) - cap(b)
	if b == nil || off < 0 || off > len(d.data) {
		return -1
	}
	return off
}

// segments returns the parts of a key. A key of more than maxKeyParts
// parts is a problem, and ok is false.
func (d *document) segments(it unstable.Iterator) (segs []segment, ok bool) {
	n := 0
	for it.Next() {
		k := it.Node()
		if n++; n <= maxKeyParts {
			segs = append(segs, segment{name: string(k.Data), off: int(k.Raw.Offset)})
		}
	}
	if n > maxKeyParts {
		d.problem(segs[0].off, segs[0].name, fmt.Sprintf("key of %d dotted parts: at most %d", n, maxKeyParts))
		return nil, false
	}
	return segs, true
}

// headerOff returns the offset of the '[' opening a table header whose key
// starts at keyOff.
func (d *document) headerOff(keyOff int) int {
	i := keyOff
	for i > 0 && (d.data[i-1] == ' ' || d.data[i-1] == '\t') {
		i--
	}
	for n := 0; n < 2 && i > 0 && d.data[i-1] == '['; n++ {
		i--
	}
	return i
}

// valueOff returns the offset of the value of the key-value kv.
func (d *document) valueOff(kv *unstable.Node) int {
	v := kv.Value()
	if v.Kind != unstable.Array {
		return int(v.Raw.Offset)
	}
	// Arrays carry no range: the value starts after "key =".
	var last *unstable.Node
	for it := kv.Key(); it.Next(); {
		last = it.Node()
	}
	i := int(last.Raw.Offset + last.Raw.Length)
	for i < len(d.data) && (d.data[i] == ' ' || d.data[i] == '\t' || d.data[i] == '=') {
		i++
	}
	if i >= len(d.data) {
		return -1
	}
	return i
}

// value converts a value node. off is its offset, needed for arrays, which
// carry no range; path names it in problems.
func (d *document) value(n *unstable.Node, off int, path *keyPath) *tvalue {
	v := &tvalue{off: off, keyOff: -1, str: string(n.Data)}
	switch n.Kind {
	case unstable.String:
	case unstable.Integer:
		v.kind = vInteger
	case unstable.Float:
		v.kind = vFloat
	case unstable.Bool:
		v.kind = vBool
	case unstable.Array:
		v.kind, v.str = vArray, ""
		i := 0
		for it := n.Children(); it.Next(); i++ {
			c := it.Node()
			coff := off // a nested array has no range: use its parent's
			if c.Kind != unstable.Array {
				coff = int(c.Raw.Offset)
			}
			v.elems = append(v.elems, d.value(c, coff, path.elem(i)))
		}
	case unstable.InlineTable:
		t := newTable(defInline, off, -1)
		for it := n.Children(); it.Next(); {
			kv := it.Node()
			segs, ok := d.segments(kv.Key())
			if !ok {
				continue
			}
			d.setKey(t, path, segs, d.value(kv.Value(), d.valueOff(kv), path.keys(segs)))
		}
		seal(t)
		return t
	default: // dates and times
		v.kind = vDateTime
	}
	return v
}

// seal closes t and the tables dotted keys made in it. Inline tables in it
// are sealed already.
func seal(t *tvalue) {
	t.sealed = true
	for _, v := range t.fields {
		if v.kind == vTable && !v.sealed {
			seal(v)
		}
	}
}

// setKey sets the dotted key segs to v in table t, named path.
func (d *document) setKey(t *tvalue, path *keyPath, segs []segment, v *tvalue) {
	for i, s := range segs[:len(segs)-1] {
		child := t.fields[s.name]
		if child == nil {
			child = newTable(defDotted, s.off, s.off)
			t.add(s.name, child)
		} else if child.kind != vTable || child.sealed || child.def != defDotted {
			d.problem(s.off, path.keys(segs[:i+1]).String(), d.conflict(child, "dotted keys cannot add to it"))
			return
		}
		t = child
	}
	s := segs[len(segs)-1]
	if prev := t.fields[s.name]; prev != nil {
		d.problem(s.off, path.keys(segs).String(), fmt.Sprintf("duplicate key: already defined at line %d", d.line(prev.pos())))
		return
	}
	v.keyOff = s.off
	t.add(s.name, v)
}

// header opens the table named by a [header] or [[header]] at off. It
// returns the table and its path, or nil if the header is refused.
func (d *document) header(segs []segment, off int, array bool) (*tvalue, *keyPath) {
	t, path := d.root, (*keyPath)(nil)
	for i, s := range segs {
		path = path.key(s.name)
		child := t.fields[s.name]
		if i < len(segs)-1 {
			if child == nil {
				child = newTable(defImplicit, off, s.off)
				t.add(s.name, child)
			}
			switch {
			case child.kind == vArray && child.aot:
				t = child.elems[len(child.elems)-1]
				path = path.elem(len(child.elems) - 1)
			case child.kind != vTable || child.sealed:
				d.problem(off, path.String(), d.conflict(child, "a table header cannot add to it"))
				return nil, nil
			default:
				t = child
			}
			continue
		}
		if array {
			if child == nil {
				child = &tvalue{kind: vArray, aot: true, off: off, keyOff: s.off}
				t.add(s.name, child)
			} else if child.kind != vArray || !child.aot {
				d.problem(off, path.String(), d.conflict(child, "[[...]] cannot append to it"))
				return nil, nil
			}
			elem := newTable(defHeader, off, -1)
			child.elems = append(child.elems, elem)
			return elem, path.elem(len(child.elems) - 1)
		}
		if child == nil {
			child = newTable(defHeader, off, s.off)
			t.add(s.name, child)
			return child, path
		}
		if child.kind != vTable || child.def != defImplicit {
			d.problem(off, path.String(), fmt.Sprintf("duplicate table: already defined at line %d", d.line(child.pos())))
			return nil, nil
		}
		child.def, child.off, child.keyOff = defHeader, off, s.off
		return child, path
	}
	return nil, nil // unreachable: a header has at least one segment
}

// conflict explains why an existing value cannot be added to.
func (d *document) conflict(v *tvalue, why string) string {
	line := d.line(v.pos())
	switch {
	case v.aot:
		return fmt.Sprintf("already defined at line %d as an array of tables: %s", line, why)
	case v.kind != vTable:
		return fmt.Sprintf("already defined at line %d as %s: %s", line, withArticle(v.kind), why)
	case v.sealed:
		return fmt.Sprintf("inline table defined at line %d is closed: %s", line, why)
	default:
		return fmt.Sprintf("table already defined at line %d: %s", line, why)
	}
}

// keyPath names a value for problems: "capabilities.fs[1].mode". It is a
// linked list, rendered only when a problem is reported, so that naming
// deeply nested values costs nothing. The root is nil.
type keyPath struct {
	parent *keyPath
	name   string
	index  int // of an array element; -1 for a key
}

func (p *keyPath) key(k string) *keyPath { return &keyPath{parent: p, name: k, index: -1} }
func (p *keyPath) elem(i int) *keyPath   { return &keyPath{parent: p, index: i} }

// keys returns the path of the dotted key segs under p.
func (p *keyPath) keys(segs []segment) *keyPath {
	for _, s := range segs {
		p = p.key(s.name)
	}
	return p
}

func (p *keyPath) String() string {
	var parts []*keyPath
	for ; p != nil; p = p.parent {
		parts = append(parts, p)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		switch p := parts[i]; {
		case p.index >= 0:
			b.WriteString("[" + strconv.Itoa(p.index) + "]")
		case b.Len() == 0:
			b.WriteString(joinKey("", p.name))
		default:
			b.WriteString("." + joinKey("", p.name))
		}
	}
	return b.String()
}

// joinKey returns the path of key under path, quoting key unless it is a
// bare TOML key.
func joinKey(path, key string) string {
	if !isBareKey(key) {
		key = quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func isBareKey(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}
