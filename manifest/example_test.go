package manifest_test

import (
	"errors"
	"fmt"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

func ExampleParse() {
	data := []byte(`
[plugin]
name    = "hello"
version = "0.1.0"
kind    = "vitte"
module  = "hello.wasm"

[capabilities]
fs  = [ { path = "/data", mode = "ro" } ]
net = [ "api.example.com" ]

[limits]
timeout = "5s"
`)
	m, err := manifest.Parse("hello/plugin.toml", data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Plugin.Name, m.Plugin.Version, m.Plugin.Kind, m.Plugin.Module)
	fmt.Println(m.Capabilities.FS[0].Path, m.Capabilities.FS[0].Mode, m.Capabilities.Net)
	fmt.Println(m.Limits.Memory, m.Limits.Timeout, m.Limits.Output)
	// Output:
	// hello 0.1.0 vitte hello.wasm
	// /data ro [api.example.com]
	// 64MiB 5s 16MiB
}

// Every problem is reported at once, located, in file order.
func ExampleParse_errors() {
	data := []byte(`[plugin]
name    = "Hello"
version = "0.1"
kind    = "vitte"
module  = "../hello.wasm"

[capabilities]
fss = [ { path = "/data", mode = "ro" } ]
`)
	_, err := manifest.Parse("plugin.toml", data)
	fmt.Println(err)

	var merr *manifest.Error
	if errors.As(err, &merr) {
		p := merr.Problems[0]
		fmt.Printf("%d problems, the first at line %d, column %d, key %s\n", len(merr.Problems), p.Line, p.Column, p.Key)
	}
	// Output:
	// plugin.toml:2:11: plugin.name: invalid plugin name "Hello": want a lower-case letter, then up to 63 lower-case letters, digits or '-'
	// plugin.toml:3:11: plugin.version: invalid version "0.1": want a semantic version 2.0.0 like "1.2.3" or "1.0.0-rc.1"
	// plugin.toml:5:11: plugin.module: invalid path "../hello.wasm": ".." would leave the plugin folder
	// plugin.toml:8:1: capabilities.fss: unknown key
	// 4 problems, the first at line 2, column 11, key plugin.name
}

func ExampleParseSize() {
	for _, s := range []string{"64MiB", "512KiB", "1kB", "4096", "1.5GiB"} {
		n, err := manifest.ParseSize(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(uint64(n), n)
	}
	// Output:
	// 67108864 64MiB
	// 524288 512KiB
	// 1000 1000B
	// 4096 4KiB
	// invalid size "1.5GiB": must be a whole number: use a smaller unit, like "1536MiB"
}

func ExampleParseNetPattern() {
	p, err := manifest.ParseNetPattern("*.example.org:8443")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Host, p.Wildcard, p.Port)
	fmt.Println(p.Match("api.example.org", 8443), p.Match("example.org", 8443))
	// Output:
	// example.org true 8443
	// true false
}

func ExampleManifest_Validate() {
	m := &manifest.Manifest{
		Plugin: manifest.Plugin{Name: "hello", Version: "0.1.0", Kind: manifest.KindGo, Module: "hello.wasm"},
		Limits: manifest.DefaultLimits(),
	}
	m.Capabilities.FS = []manifest.FSRequest{{Path: "/", Mode: manifest.ReadWrite}}
	fmt.Println(m.Validate())
	// Output:
	// capabilities.fs[0].path: a plugin cannot ask for the whole guest root "/": name a directory, like "/data"
}
