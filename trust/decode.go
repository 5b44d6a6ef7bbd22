package trust

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

// Parse decodes and checks a trust.toml. filename is used in error
// messages only; it defaults to [FileName] when empty.
//
// The schema is in docs/trust.md. Parsing is strict: an unknown key, a
// value of the wrong type, a missing required key, a duplicate, a key a
// rule names but [keys] does not define, a scope used by two rules are all
// errors. On failure the error is a [*PolicyError] listing every problem,
// located, in file order; a TOML syntax error stops the parsing and is the
// only problem reported.
func Parse(filename string, data []byte) (p *Policy, err error) {
	if filename == "" {
		filename = FileName
	}
	if len(data) > MaxFileSize {
		return nil, fileTooLarge(filename, int64(len(data)))
	}
	defer func() {
		// Parse never panics. A panic here is a bug, turned into a problem
		// so that the fuzz test finds it.
		if r := recover(); r != nil {
			p, err = nil, &PolicyError{Problems: []Problem{{File: filename, Message: fmt.Sprintf("internal error: %v", r)}}}
		}
	}()
	// A byte order mark is invisible in editors: skip it, so that columns
	// are those the user sees.
	data = []byte(strings.TrimPrefix(string(data), "\uFEFF"))
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		pr := Problem{File: filename, Message: "syntax error: " + strings.TrimPrefix(err.Error(), "toml: ")}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			pr.Line, pr.Column = de.Position()
		}
		return nil, &PolicyError{Problems: []Problem{pr}}
	}
	d := &decoder{file: filename, data: data, pos: indexPositions(data)}
	p = d.policy(doc)
	if len(d.problems) > 0 {
		return nil, d.error()
	}
	p.file = filename
	return p, nil
}

// fileTooLarge is the problem of the trust file filename of size bytes
// (-1: unknown), over MaxFileSize.
func fileTooLarge(filename string, size int64) *PolicyError {
	msg := "file too large: a trust file is at most 1MiB"
	if size >= 0 {
		msg = fmt.Sprintf("file too large (%d bytes): a trust file is at most 1MiB", size)
	}
	return &PolicyError{Problems: []Problem{{File: filename, Message: msg}}}
}

// decoder checks a decoded document against the schema. Every problem is
// located through pos, which maps the path of each key to where it is
// written.
type decoder struct {
	file     string
	data     []byte
	pos      positions
	problems []problem
}

type problem struct {
	off int // -1 when unknown
	key string
	msg string
}

// maxProblems bounds the problems reported for one file.
const maxProblems = 1000

// at reports a problem about the value of key; unknown reports a key.
func (d *decoder) at(key, format string, args ...any) {
	d.problems = append(d.problems, problem{off: d.pos.value(key), key: key, msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) unknown(key string) {
	d.problems = append(d.problems, problem{off: d.pos.key(key), key: key, msg: "unknown key"})
}

func (d *decoder) error() *PolicyError {
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
		more, ps = len(ps)-maxProblems, ps[:maxProblems]
	}
	e := &PolicyError{}
	lines := lineStarts(d.data)
	for _, p := range ps {
		line, col := position(lines, len(d.data), p.off)
		e.Problems = append(e.Problems, Problem{File: d.file, Line: line, Column: col, Key: p.key, Message: p.msg})
	}
	if more > 0 {
		e.Problems = append(e.Problems, Problem{File: d.file, Message: fmt.Sprintf("too many problems: %d more not shown", more)})
	}
	return e
}

// typeName names the Go type go-toml decodes a TOML value to.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "an offset date-time"
	case toml.LocalDate:
		return "a local date"
	case toml.LocalDateTime:
		return "a local date-time"
	case toml.LocalTime:
		return "a local time"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func (d *decoder) wrongType(key, want string, v any) {
	msg := fmt.Sprintf("expected %s, found %s", want, typeName(v))
	if _, ok := v.(int64); ok && want == "a string" {
		msg += ": quote it"
	}
	d.at(key, "%s", msg)
}

// table returns v as a table, or reports it.
func (d *decoder) table(key string, v any) (map[string]any, bool) {
	t, ok := v.(map[string]any)
	if !ok {
		d.wrongType(key, "a table", v)
	}
	return t, ok
}

func (d *decoder) str(key string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.wrongType(key, "a string", v)
	}
	return s, ok
}

// strings returns the array of strings v, without duplicates.
func (d *decoder) strings(key string, v any) ([]string, bool) {
	a, ok := v.([]any)
	if !ok {
		d.wrongType(key, "an array of strings", v)
		return nil, false
	}
	out := []string{}
	seen := map[string]int{}
	good := true
	for i, e := range a {
		ekey := key + "[" + strconv.Itoa(i) + "]"
		s, ok := d.str(ekey, e)
		if !ok {
			good = false
			continue
		}
		if j, dup := seen[s]; dup {
			d.at(ekey, "duplicate entry: already listed as %s[%d]", key, j)
			good = false
			continue
		}
		seen[s] = i
		out = append(out, s)
	}
	return out, good
}

// sortedKeys returns the keys of t in the order they are written.
func (d *decoder) sortedKeys(path string, t map[string]any) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := d.pos.key(joinKey(path, keys[i])), d.pos.key(joinKey(path, keys[j]))
		if a != b {
			return a < b
		}
		return keys[i] < keys[j]
	})
	return keys
}

func (d *decoder) policy(doc map[string]any) *Policy {
	p := &Policy{}
	var rules []any
	var rulesKey string
	for _, k := range d.sortedKeys("", doc) {
		v := doc[k]
		key := joinKey("", k)
		switch k {
		case "keys":
			if t, ok := d.table(key, v); ok {
				p.keys = d.keys(t)
			}
		case "policy":
			a, ok := v.([]any)
			if !ok {
				d.wrongType(key, "an array of tables [[policy]]", v)
				continue
			}
			rules, rulesKey = a, key
		default:
			d.unknown(key)
		}
	}
	sort.Slice(p.keys, func(i, j int) bool { return p.keys[i].Name < p.keys[j].Name })
	scopes := map[string]string{} // scope → key of its first use
	for i, v := range rules {
		key := rulesKey + "[" + strconv.Itoa(i) + "]"
		if r, ok := d.rule(key, v, p, scopes); ok {
			p.rules = append(p.rules, r)
		}
	}
	return p
}

func (d *decoder) keys(t map[string]any) []Key {
	var keys []Key
	ids := map[uint64]string{}
	for _, name := range d.sortedKeys("keys", t) {
		key := joinKey("keys", name)
		if err := checkKeyName(name); err != nil {
			d.problems = append(d.problems, problem{off: d.pos.key(key), key: key, msg: err.Error()})
		}
		kt, ok := d.table(key, t[name])
		if !ok {
			continue
		}
		k := Key{Name: name}
		good := true
		for _, f := range d.sortedKeys(key, kt) {
			v, fkey := kt[f], joinKey(key, f)
			switch f {
			case "minisign":
				s, ok := d.str(fkey, v)
				if !ok {
					good = false
					break
				}
				if strings.ContainsAny(s, "\r\n") || strings.HasPrefix(s, "untrusted comment:") {
					d.at(fkey, "write the key alone, like \"RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\", the second line of a .pub file")
					good = false
					break
				}
				pub, err := ParsePublicKey([]byte(s))
				if err != nil {
					d.at(fkey, "%s: %s", quote(s), strings.TrimPrefix(err.Error(), "parse public key: "))
					good = false
					break
				}
				k.PublicKey = pub
				if other, dup := ids[pub.ID()]; dup {
					d.at(fkey, "the same key id %s as keys.%s: one key, one name", KeyID(pub.ID()), other)
					good = false
				} else {
					ids[pub.ID()] = name
				}
			case "not_before", "not_after":
				tm, ok := d.date(fkey, v)
				if !ok {
					good = false
				} else if f == "not_before" {
					k.NotBefore = tm
				} else {
					k.NotAfter = tm
				}
			case "revoked":
				b, ok := v.(bool)
				if !ok {
					d.wrongType(fkey, "a boolean", v)
					good = false
				}
				k.Revoked = b
			default:
				d.unknown(fkey)
				good = false
			}
		}
		if _, ok := kt["minisign"]; !ok {
			d.problems = append(d.problems, problem{off: d.pos.key(key), key: joinKey(key, "minisign"), msg: "missing required key"})
			good = false
		}
		if !k.NotBefore.IsZero() && !k.NotAfter.IsZero() && !k.NotBefore.Before(k.NotAfter) {
			d.at(joinKey(key, "not_after"), "%s is not after not_before %s", k.NotAfter.Format(time.RFC3339), k.NotBefore.Format(time.RFC3339))
			good = false
		}
		if good {
			keys = append(keys, k)
		}
	}
	return keys
}

// date accepts an offset date-time (2027-01-01T00:00:00Z) or a local date
// (2027-01-01, which is 00:00:00 UTC that day).
func (d *decoder) date(key string, v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC(), true
	case toml.LocalDate:
		return t.AsTime(time.UTC), true
	case toml.LocalDateTime:
		d.at(key, "a date-time needs a time zone: add \"Z\" for UTC, like %sZ", t.String())
	case string:
		d.at(key, "expected a date, found a string: write it without quotes, like 2027-01-01 or 2027-01-01T00:00:00Z")
	default:
		d.wrongType(key, "a date (2027-01-01) or an offset date-time (2027-01-01T00:00:00Z)", v)
	}
	return time.Time{}, false
}

func (d *decoder) rule(key string, v any, p *Policy, scopes map[string]string) (Rule, bool) {
	t, ok := d.table(key, v)
	if !ok {
		return Rule{}, false
	}
	r := Rule{Level: Strict, Threshold: 1}
	good := true
	var thresholdSet bool
	for _, f := range d.sortedKeys(key, t) {
		v, fkey := t[f], joinKey(key, f)
		switch f {
		case "scopes":
			l, ok := d.strings(fkey, v)
			good = good && ok
			for i, s := range l {
				ekey := fkey + "[" + strconv.Itoa(i) + "]"
				if _, err := parseScope(s); err != nil {
					d.at(ekey, "%s", err.Error())
					good = false
					continue
				}
				if first, dup := scopes[s]; dup {
					d.at(ekey, "scope %s is already used by %s: one scope, one policy", quote(s), first)
					good = false
					continue
				}
				scopes[s] = key
				r.Scopes = append(r.Scopes, s)
			}
			if len(l) == 0 && ok {
				d.at(fkey, "empty: a policy covers at least one scope")
				good = false
			}
		case "level":
			s, ok := d.str(fkey, v)
			if ok && !Level(s).valid() {
				d.at(fkey, "unknown level %s: want strict, permissive, audit or skip", quote(s))
				ok = false
			}
			good = good && ok
			r.Level = Level(s)
		case "keys":
			l, ok := d.strings(fkey, v)
			good = good && ok
			for i, name := range l {
				if _, found := p.Key(name); !found {
					d.at(fkey+"["+strconv.Itoa(i)+"]", "no key named %s: define it in a [keys.%s] table", quote(name), name)
					good = false
				}
			}
			r.Keys = l
		case "threshold":
			n, ok := v.(int64)
			if !ok {
				d.wrongType(fkey, "an integer", v)
				good = false
				break
			}
			if n < 1 || n > 1000 {
				d.at(fkey, "%d: want at least 1 distinct key", n)
				good = false
				break
			}
			r.Threshold, thresholdSet = int(n), true
		case "max_capabilities":
			c, ok := d.capabilities(joinKey(key, f), v)
			good = good && ok
			r.MaxCapabilities = c
		default:
			d.unknown(fkey)
			good = false
		}
	}
	if _, ok := t["scopes"]; !ok {
		d.problems = append(d.problems, problem{off: d.pos.key(key), key: joinKey(key, "scopes"), msg: "missing required key"})
		good = false
	}
	if r.Keys == nil {
		r.Keys = []string{}
	}
	if good && len(r.Keys) == 0 && (r.Level == Strict || r.Level == Permissive) {
		d.at(joinKey(key, "keys"), "level %s needs at least one key", r.Level)
		good = false
	}
	if good && len(r.Keys) > 0 && r.Threshold > len(r.Keys) {
		d.at(joinKey(key, "threshold"), "%d distinct keys required but only %d listed in keys", r.Threshold, len(r.Keys))
		good = false
	}
	if good && len(r.Keys) == 0 && thresholdSet && r.Threshold != 1 {
		d.at(joinKey(key, "threshold"), "%d distinct keys required but keys is empty", r.Threshold)
		good = false
	}
	return r, good
}

// capabilities decodes max_capabilities, which has the shape of
// plugin.toml's [capabilities], and checks it as the manifest package
// checks a request.
func (d *decoder) capabilities(key string, v any) (*manifest.Capabilities, bool) {
	t, ok := d.table(key, v)
	if !ok {
		return nil, false
	}
	c := &manifest.Capabilities{}
	good := true
	for _, f := range d.sortedKeys(key, t) {
		v, fkey := t[f], joinKey(key, f)
		switch f {
		case "fs":
			a, ok := v.([]any)
			if !ok {
				d.wrongType(fkey, "an array of tables { path = ..., mode = ... }", v)
				good = false
				break
			}
			for i, e := range a {
				ekey := fkey + "[" + strconv.Itoa(i) + "]"
				et, ok := d.table(ekey, e)
				if !ok {
					good = false
					continue
				}
				var r manifest.FSRequest
				for _, g := range d.sortedKeys(ekey, et) {
					gkey := joinKey(ekey, g)
					switch g {
					case "path":
						r.Path, ok = d.str(gkey, et[g])
					case "mode":
						var s string
						s, ok = d.str(gkey, et[g])
						r.Mode = manifest.Mode(s)
					default:
						d.unknown(gkey)
						ok = false
					}
					good = good && ok
				}
				c.FS = append(c.FS, r)
			}
		case "net", "host", "env":
			l, ok := d.strings(fkey, v)
			good = good && ok
			if len(l) == 0 {
				l = nil // absent or empty: the same cap, nothing
			}
			switch f {
			case "net":
				c.Net = l
			case "host":
				c.Host = l
			default:
				c.Env = l
			}
		default:
			d.unknown(fkey)
			good = false
		}
	}
	if !good {
		return nil, false
	}
	// The manifest package knows what a request may hold: check the cap as
	// the [capabilities] of a manifest that is otherwise valid.
	m := &manifest.Manifest{
		Plugin:       manifest.Plugin{Name: "cap", Version: "0.0.0", Kind: manifest.KindWasm, Module: "cap.wasm"},
		Capabilities: *c,
		Limits:       manifest.DefaultLimits(),
	}
	if err := m.Validate(); err != nil {
		var me *manifest.Error
		if !errors.As(err, &me) {
			d.at(key, "%s", err.Error())
			return nil, false
		}
		for _, pr := range me.Problems {
			k := pr.Key
			if rest, ok := strings.CutPrefix(k, "capabilities"); ok {
				k = key + rest
			}
			d.at(k, "%s", pr.Message)
		}
		return nil, false
	}
	return c, true
}

// joinKey returns the path of key under path, quoting key unless it is a
// bare TOML key, as problems name keys.
func joinKey(path, key string) string {
	bare := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			bare = false
			break
		}
	}
	if !bare {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// positions maps the path of each key of a document ("policy[1].level") to
// the offset of the key, and of its value when that is known.
type positions struct {
	keys, values map[string]int
}

// key returns the offset of the key at path, or of the nearest enclosing
// key, or -1.
func (p positions) key(path string) int {
	for path != "" {
		if off, ok := p.keys[path]; ok {
			return off
		}
		path = parentPath(path)
	}
	return -1
}

// value returns the offset of the value at path, or else of its key.
func (p positions) value(path string) int {
	if off, ok := p.values[path]; ok {
		return off
	}
	return p.key(path)
}

// parentPath cuts the last key or index off path.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if strings.HasSuffix(path, "\"") {
		// A quoted key: find its opening quote, not escaped.
		for i := len(path) - 2; i >= 0; i-- {
			if path[i] == '"' && (i == 0 || path[i-1] != '\\') {
				return strings.TrimSuffix(path[:i], ".")
			}
		}
		return ""
	}
	if i := strings.LastIndexAny(path, ".]"); i >= 0 {
		if path[i] == ']' {
			return path[:i+1]
		}
		return path[:i]
	}
	return ""
}

// indexPositions walks the TOML text of a document that go-toml decoded
// without error and records where each key and value is written, with the
// paths the decoder uses.
func indexPositions(data []byte) positions {
	pos := positions{keys: map[string]int{}, values: map[string]int{}}
	aot := map[string]int{} // array-of-tables path → elements so far
	var p unstable.Parser
	p.Reset(data)
	cur := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			path := ""
			segs := keySegments(e.Key())
			for i, s := range segs {
				path = joinKey(path, s.name)
				last := i == len(segs)-1
				if last && e.Kind == unstable.ArrayTable {
					aot[path]++
					if _, ok := pos.keys[path]; !ok {
						pos.keys[path] = s.off
					}
					path += "[" + strconv.Itoa(aot[path]-1) + "]"
				} else if n, ok := aot[path]; ok && n > 0 {
					path += "[" + strconv.Itoa(n-1) + "]"
				}
				if _, ok := pos.keys[path]; !ok {
					pos.keys[path] = s.off
				}
			}
			cur = path
		case unstable.KeyValue:
			pos.keyValue(cur, e)
		}
	}
	return pos
}

func (pos positions) keyValue(table string, kv *unstable.Node) {
	path := table
	segs := keySegments(kv.Key())
	for _, s := range segs {
		path = joinKey(path, s.name)
		if _, ok := pos.keys[path]; !ok {
			pos.keys[path] = s.off
		}
	}
	pos.record(path, kv.Value(), -1)
}

// record records the value node v at path; off is the offset to use when v
// has none (arrays carry no range).
func (pos positions) record(path string, v *unstable.Node, off int) {
	if v.Kind != unstable.Array {
		off = int(v.Raw.Offset)
	}
	if off >= 0 {
		if _, ok := pos.values[path]; !ok {
			pos.values[path] = off
		}
	}
	switch v.Kind {
	case unstable.Array:
		i := 0
		for it := v.Children(); it.Next(); i++ {
			pos.record(path+"["+strconv.Itoa(i)+"]", it.Node(), off)
		}
	case unstable.InlineTable:
		for it := v.Children(); it.Next(); {
			pos.keyValue(path, it.Node())
		}
	}
}

type segment struct {
	name string
	off  int
}

func keySegments(it unstable.Iterator) []segment {
	var segs []segment
	for it.Next() {
		k := it.Node()
		segs = append(segs, segment{name: string(k.Data), off: int(k.Raw.Offset)})
	}
	return segs
}

// lineStarts returns the offset of the start of each line of data.
func lineStarts(data []byte) []int {
	lines := []int{0}
	for i, c := range data {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// position returns the 1-based line and column of the byte at off in a
// text of size bytes whose lines start at lines, or zeros when off is
// unknown.
func position(lines []int, size, off int) (line, col int) {
	if off < 0 || off > size {
		return 0, 0
	}
	i := sort.Search(len(lines), func(i int) bool { return lines[i] > off }) - 1
	return i + 1, off - lines[i] + 1
}
