// Package capabilities decides what a plugin may touch: it matches the
// requests of a manifest's [capabilities] (docs/spec/manifest-v1.md)
// against what a plugin reaches for at run time. Everything that is not
// requested and granted is denied.
package capabilities
