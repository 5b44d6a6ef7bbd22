package capabilities

import "strings"

// MatchHostCall reports whether the host-call name matches pattern, as
// [capabilities].host patterns are written: dotted segments compared
// exactly, except that a last segment "*" matches one or more segments.
// "studio.*" matches "studio.open" and "studio.ui.open" but not "studio".
func MatchHostCall(pattern, name string) bool {
	if name == "" || pattern == "" {
		return false
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		if prefix == "" {
			return true // "*" alone: any name of one or more segments
		}
		if !strings.HasSuffix(prefix, ".") {
			return false // "*" must be a whole segment
		}
		rest, ok := strings.CutPrefix(name, prefix)
		return ok && rest != "" && !strings.HasPrefix(rest, ".") && !strings.HasSuffix(rest, ".") && !strings.Contains(rest, "..")
	}
	return pattern == name
}

// MatchAnyHostCall reports whether any of patterns matches name.
func MatchAnyHostCall(patterns []string, name string) bool {
	for _, p := range patterns {
		if MatchHostCall(p, name) {
			return true
		}
	}
	return false
}
