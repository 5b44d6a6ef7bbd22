// Package wit holds the WIT world of the plugin ABI v1, vitte-plugin.wit,
// for tools that generate bindings. It has no Go API; its test checks that
// the world and package abi agree.
package wit
