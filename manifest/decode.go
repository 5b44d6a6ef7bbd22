package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

// decoder checks a document against the manifest schema and fills a
// Manifest. Every problem goes to the document, located.
type decoder struct {
	d *document
	m *Manifest
}

// decode checks d and returns the manifest it describes. The manifest is
// meaningful only if d has no problems.
func decode(d *document) *Manifest {
	m := &Manifest{
		Plugin:       Plugin{ABI: ABI},
		Limits:       DefaultLimits(),
		Config:       map[string]string{},
		Dependencies: map[string]Dependency{},
		Exports:      map[string]Export{},
	}
	dc := &decoder{d: d, m: m}
	dc.root(d.root)
	return m
}

func (dc *decoder) problem(off int, key string, err error) {
	dc.d.problem(off, key, err.Error())
}

func (dc *decoder) unknown(v *tvalue, key string) {
	dc.d.problem(v.pos(), key, "unknown key")
}

// missing reports the required keys absent from table t, named path. After
// a syntax error the keys may have been further down: nothing is reported.
func (dc *decoder) missing(t *tvalue, path string, keys ...string) {
	if dc.d.partial {
		return
	}
	for _, k := range keys {
		if t.fields[k] == nil {
			dc.d.problem(t.off, joinKey(path, k), "missing required key")
		}
	}
}

// want reports whether v is of kind k, and reports a problem if not.
func (dc *decoder) want(v *tvalue, key string, k vkind) bool {
	if v.kind == k {
		return true
	}
	found := v.kind.String()
	if v.aot {
		found = "array of tables"
	}
	msg := fmt.Sprintf("expected %s, found %s", withArticle(k), found)
	if k == vString && (v.kind == vInteger || v.kind == vFloat) {
		msg += fmt.Sprintf(": quote it, like %s", quote(v.str))
	}
	dc.d.problem(v.off, key, msg)
	return false
}

func withArticle(k vkind) string {
	if k == vArray || k == vInteger {
		return "an " + k.String()
	}
	return "a " + k.String()
}

// str returns the string v, if it is one and passes check (when not nil).
func (dc *decoder) str(v *tvalue, key string, check func(string) error) (string, bool) {
	if !dc.want(v, key, vString) {
		return "", false
	}
	if check != nil {
		if err := check(v.str); err != nil {
			dc.problem(v.off, key, err)
			return "", false
		}
	}
	return v.str, true
}

// list returns the array of strings v, checking each and refusing
// duplicates.
func (dc *decoder) list(v *tvalue, key string, check func(string) error) []string {
	if !dc.want(v, key, vArray) {
		return nil
	}
	out := []string{}
	seen := map[string]int{}
	for i, e := range v.elems {
		ekey := key + "[" + strconv.Itoa(i) + "]"
		s, ok := dc.str(e, ekey, check)
		if !ok {
			continue
		}
		if j, dup := seen[s]; dup {
			dc.d.problem(e.off, ekey, fmt.Sprintf("duplicate entry: already listed as %s[%d]", key, j))
			continue
		}
		seen[s] = i
		out = append(out, s)
	}
	return out
}

// table calls f for each key of the table v, if v is a table.
func (dc *decoder) table(v *tvalue, key string, f func(k string, v *tvalue, key string)) bool {
	if !dc.want(v, key, vTable) {
		return false
	}
	for _, k := range v.keys {
		f(k, v.fields[k], joinKey(key, k))
	}
	return true
}

func (dc *decoder) root(root *tvalue) {
	var deps *tvalue
	dc.table(root, "", func(k string, v *tvalue, key string) {
		switch k {
		case "plugin":
			dc.plugin(v, key)
		case "capabilities":
			dc.table(v, key, dc.capabilities)
		case "limits":
			dc.table(v, key, dc.limits)
		case "config":
			dc.table(v, key, dc.config)
		case "dependencies":
			if dc.table(v, key, dc.dependency) {
				deps = v
			}
		case "exports":
			dc.table(v, key, dc.export)
		default:
			dc.unknown(v, key)
		}
	})
	if root.fields["plugin"] == nil && !dc.d.partial {
		dc.d.problem(-1, "plugin", "missing required table")
	}
	if name := dc.m.Plugin.Name; name != "" && deps != nil {
		if v := deps.fields[name]; v != nil {
			dc.d.problem(v.pos(), joinKey("dependencies", name), "a plugin cannot depend on itself")
		}
	}
}

func checkDescription(s string) error { return checkText(s, maxTextLen, true) }

func (dc *decoder) plugin(t *tvalue, key string) {
	p := &dc.m.Plugin
	var module *tvalue
	ok := dc.table(t, key, func(k string, v *tvalue, key string) {
		switch k {
		case "name":
			p.Name, _ = dc.str(v, key, checkName)
		case "version":
			p.Version, _ = dc.str(v, key, checkVersion)
		case "kind":
			s, _ := dc.str(v, key, func(s string) error { return checkKind(Kind(s)) })
			p.Kind = Kind(s)
		case "module":
			if dc.want(v, key, vString) {
				module = v
			}
		case "description":
			p.Description, _ = dc.str(v, key, checkDescription)
		case "authors":
			p.Authors = dc.list(v, key, checkAuthor)
		case "license":
			p.License, _ = dc.str(v, key, checkLicense)
		case "homepage":
			p.Homepage, _ = dc.str(v, key, checkHomepage)
		case "abi":
			p.ABI, _ = dc.str(v, key, checkABI)
		default:
			dc.unknown(v, key)
		}
	})
	if !ok {
		return
	}
	dc.missing(t, key, "name", "version", "kind", "module")
	if module != nil {
		// The extension depends on the kind, which may come later.
		p.Module, _ = dc.str(module, joinKey(key, "module"), func(s string) error { return checkModule(s, p.Kind) })
	}
}

func (dc *decoder) capabilities(k string, v *tvalue, key string) {
	c := &dc.m.Capabilities
	switch k {
	case "fs":
		c.FS = dc.fs(v, key)
	case "net":
		c.Net = dc.list(v, key, checkNet)
	case "host":
		c.Host = dc.list(v, key, checkHostPattern)
	case "env":
		c.Env = dc.list(v, key, checkEnvName)
	default:
		dc.unknown(v, key)
	}
}

func (dc *decoder) fs(v *tvalue, key string) []FSRequest {
	if !dc.want(v, key, vArray) {
		return nil
	}
	reqs := []FSRequest{}
	paths := make([]string, len(v.elems)) // "" for a bad entry
	for i, e := range v.elems {
		ekey := key + "[" + strconv.Itoa(i) + "]"
		var r FSRequest
		ok := dc.table(e, ekey, func(k string, v *tvalue, key string) {
			switch k {
			case "path":
				r.Path, _ = dc.str(v, key, checkGuestPath)
			case "mode":
				s, _ := dc.str(v, key, func(s string) error { return checkMode(Mode(s)) })
				r.Mode = Mode(s)
			default:
				dc.unknown(v, key)
			}
		})
		if !ok {
			continue
		}
		dc.missing(e, ekey, "path", "mode")
		paths[i] = r.Path
		reqs = append(reqs, r)
	}
	for _, c := range fsConflicts(paths) {
		dc.d.problem(v.elems[c.i].fields["path"].off, fmt.Sprintf("%s[%d].path", key, c.i), c.message(key, paths))
	}
	return reqs
}

// fsConflict is an fs request i that repeats, or lies inside, request j.
type fsConflict struct {
	i, j int
	dup  bool
}

func (c fsConflict) message(key string, paths []string) string {
	if c.dup {
		return fmt.Sprintf("duplicate path: already requested by %s[%d]", key, c.j)
	}
	return fmt.Sprintf("%s is inside %s requested by %s[%d]: nested requests make the mounts ambiguous, keep only one",
		quote(paths[c.i]), quote(paths[c.j]), key, c.j)
}

// fsConflicts finds the paths that repeat an earlier one, or lie inside
// another. Empty paths are skipped. Its cost is linear in the total length
// of the paths.
func fsConflicts(paths []string) []fsConflict {
	first := map[string]int{}
	var out []fsConflict
	for i, p := range paths {
		if p == "" {
			continue
		}
		if j, ok := first[p]; ok {
			out = append(out, fsConflict{i: i, j: j, dup: true})
			continue
		}
		first[p] = i
	}
	for i, p := range paths {
		if p == "" || first[p] != i {
			continue
		}
		for d := p[:strings.LastIndexByte(p, '/')]; d != ""; d = d[:strings.LastIndexByte(d, '/')] {
			if j, ok := first[d]; ok {
				out = append(out, fsConflict{i: i, j: j})
				break
			}
		}
	}
	return out
}

func (dc *decoder) limits(k string, v *tvalue, key string) {
	l := &dc.m.Limits
	switch k {
	case "memory":
		if s, ok := dc.str(v, key, nil); ok {
			if n, err := ParseSize(s); err != nil {
				dc.problem(v.off, key, err)
			} else if err := checkMemory(n); err != nil {
				dc.problem(v.off, key, err)
			} else {
				l.Memory = n
			}
		}
	case "timeout":
		if s, ok := dc.str(v, key, nil); ok {
			if d, err := ParseDuration(s); err != nil {
				dc.problem(v.off, key, err)
			} else {
				l.Timeout = d
			}
		}
	case "output":
		if s, ok := dc.str(v, key, nil); ok {
			if n, err := ParseSize(s); err != nil {
				dc.problem(v.off, key, err)
			} else if err := checkOutput(n); err != nil {
				dc.problem(v.off, key, err)
			} else {
				l.Output = n
			}
		}
	case "fuel":
		if dc.want(v, key, vInteger) {
			if n, err := parseFuel(v.str); err != nil {
				dc.problem(v.off, key, err)
			} else {
				l.Fuel = n
			}
		}
	default:
		dc.unknown(v, key)
	}
}

// MaxFuel is the largest limits.fuel: 2^62, beyond any call's reach and
// far from overflowing the guest's signed 64-bit counter.
const MaxFuel = 1 << 62

func parseFuel(s string) (uint64, error) {
	n, err := strconv.ParseInt(s, 0, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s is not a whole number of fuel units", quote(s))
	case n <= 0:
		return 0, fmt.Errorf("must be positive, not %d (leave it out for no budget)", n)
	case n > MaxFuel:
		return 0, fmt.Errorf("%d is over the most, %d", n, int64(MaxFuel))
	}
	return uint64(n), nil
}

func (dc *decoder) config(k string, v *tvalue, key string) {
	if err := checkConfigKey(k); err != nil {
		dc.problem(v.pos(), key, err)
	}
	if s, ok := dc.str(v, key, checkConfigValue); ok {
		dc.m.Config[k] = s
	}
}

func (dc *decoder) dependency(k string, v *tvalue, key string) {
	if err := checkName(k); err != nil {
		dc.problem(v.pos(), key, err)
	}
	s, ok := dc.str(v, key, nil)
	if !ok {
		return
	}
	c, err := parseConstraint(s)
	if err != nil {
		dc.problem(v.off, key, err)
		return
	}
	dc.m.Dependencies[k] = Dependency{Constraint: s, Constraints: c}
}

func (dc *decoder) export(k string, v *tvalue, key string) {
	if err := checkExportName(k); err != nil {
		dc.problem(v.pos(), key, err)
	}
	var e Export
	ok := dc.table(v, key, func(k string, v *tvalue, key string) {
		if k != "description" {
			dc.unknown(v, key)
			return
		}
		e.Description, _ = dc.str(v, key, checkDescription)
	})
	if ok {
		dc.m.Exports[k] = e
	}
}
