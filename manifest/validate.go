package manifest

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// validator checks a Manifest built in Go, for Manifest.Validate.
type validator struct {
	problems []problem
}

func (v *validator) check(key string, err error) {
	if err != nil {
		v.problems = append(v.problems, problem{off: -1, key: key, msg: err.Error()})
	}
}

var errMissing = errors.New("missing required key")

// required checks s with check, or reports it missing when empty.
func required(s string, check func(string) error) error {
	if s == "" {
		return errMissing
	}
	return check(s)
}

// optional checks s with check, unless it is empty.
func optional(s string, check func(string) error) error {
	if s == "" {
		return nil
	}
	return check(s)
}

// list checks each string of l, and refuses duplicates.
func (v *validator) list(key string, l []string, check func(string) error) {
	seen := map[string]int{}
	for i, s := range l {
		ekey := key + "[" + strconv.Itoa(i) + "]"
		if j, dup := seen[s]; dup {
			v.check(ekey, fmt.Errorf("duplicate entry: already listed as %s[%d]", key, j))
			continue
		}
		seen[s] = i
		v.check(ekey, check(s))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (v *validator) manifest(m *Manifest) {
	p := m.Plugin
	v.check("plugin.name", required(p.Name, checkName))
	v.check("plugin.version", required(p.Version, checkVersion))
	v.check("plugin.kind", required(string(p.Kind), func(s string) error { return checkKind(Kind(s)) }))
	v.check("plugin.module", required(p.Module, func(s string) error { return checkModule(s, p.Kind) }))
	v.check("plugin.description", optional(p.Description, checkDescription))
	v.list("plugin.authors", p.Authors, checkAuthor)
	v.check("plugin.license", optional(p.License, checkLicense))
	v.check("plugin.homepage", optional(p.Homepage, checkHomepage))
	v.check("plugin.abi", optional(p.ABI, checkABI))

	c := m.Capabilities
	paths := make([]string, len(c.FS))
	for i, r := range c.FS {
		key := "capabilities.fs[" + strconv.Itoa(i) + "]"
		err := required(r.Path, checkGuestPath)
		v.check(key+".path", err)
		v.check(key+".mode", required(string(r.Mode), func(s string) error { return checkMode(Mode(s)) }))
		if err == nil {
			paths[i] = r.Path
		}
	}
	for _, cf := range fsConflicts(paths) {
		v.check(fmt.Sprintf("capabilities.fs[%d].path", cf.i), errors.New(cf.message("capabilities.fs", paths)))
	}
	v.list("capabilities.net", c.Net, checkNet)
	v.list("capabilities.host", c.Host, checkHostPattern)
	v.list("capabilities.env", c.Env, checkEnvName)

	l := m.Limits
	v.check("limits.memory", checkMemory(l.Memory))
	if l.Timeout <= 0 {
		v.check("limits.timeout", fmt.Errorf("must be positive, not %v", l.Timeout))
	}
	v.check("limits.output", checkOutput(l.Output))
	if l.Fuel > MaxFuel {
		v.check("limits.fuel", fmt.Errorf("%d is over the most, %d", l.Fuel, uint64(MaxFuel)))
	}

	for _, k := range sortedKeys(m.Config) {
		key := joinKey("config", k)
		v.check(key, checkConfigKey(k))
		v.check(key, checkConfigValue(m.Config[k]))
	}
	for _, k := range sortedKeys(m.Dependencies) {
		key := joinKey("dependencies", k)
		v.check(key, checkName(k))
		if k == p.Name {
			v.check(key, errors.New("a plugin cannot depend on itself"))
		}
		_, err := parseConstraint(m.Dependencies[k].Constraint)
		v.check(key, err)
	}
	for _, k := range sortedKeys(m.Exports) {
		key := joinKey("exports", k)
		v.check(key, checkExportName(k))
		v.check(key+".description", optional(m.Exports[k].Description, checkDescription))
	}
}
