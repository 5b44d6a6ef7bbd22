package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// Install a package, update it to a version that asks for more, and list
// the load order.
func Example() {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "registry-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmp)
	v1 := packHello(tmp, "1.0.0", `host = ["test.*"]`)
	v2 := packHello(tmp, "1.1.0", `host = ["test.*"]`+"\n"+`env = ["LANG"]`)

	reg, err := registry.Open(filepath.Join(tmp, "home")) // registry.DefaultDir() for the user's
	if err != nil {
		panic(err)
	}
	// The caller verifies signatures: here, everything is accepted.
	verify := func(*vitplug.Package, string) ([]string, error) { return nil, nil }

	e, err := reg.Install(ctx, v1, registry.InstallOptions{
		Grants: registry.GrantRecord{Host: []string{"test.*"}},
		Verify: verify,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("installed", e.Name, e.Version, "granted:", e.Grants)

	// 1.1.0 requests LANG, which 1.0.0 was not granted: without an
	// approval, the update is refused.
	_, err = reg.Install(ctx, v2, registry.InstallOptions{Verify: verify})
	fmt.Println(err)

	e, err = reg.Install(ctx, v2, registry.InstallOptions{
		Verify: verify,
		Confirm: func(d registry.CapabilityDiff) bool {
			fmt.Println("approve?", d)
			return true
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("installed", e.Name, e.Version, "granted:", e.Grants)

	order, err := reg.LoadOrder()
	if err != nil {
		panic(err)
	}
	for _, e := range order {
		fmt.Println("load", e.Name, e.Version)
	}
	// Output:
	// installed hello 1.0.0 granted: host test.*
	// install plugin "hello" 1.1.0: plugin "hello" 1.1.0 requests more than 1.0.0 was granted: env LANG
	// approve? env LANG
	// installed hello 1.1.0 granted: host test.*, env LANG
	// load hello 1.1.0
}

// packHello packs the hello-c fixture as plugin hello, version version,
// with the [capabilities] caps.
func packHello(dir, version, caps string) string {
	src := filepath.Join(dir, "hello-"+version)
	if err := os.MkdirAll(src, 0o755); err != nil {
		panic(err)
	}
	wasm, err := os.ReadFile(filepath.Join("..", "testdata", "wasm", "hello-c", "hello-c.wasm"))
	if err != nil {
		panic(err)
	}
	m := fmt.Sprintf("[plugin]\nname = \"hello\"\nversion = %q\nkind = \"c\"\nmodule = \"hello-c.wasm\"\n\n[capabilities]\n%s\n", version, caps)
	if err := os.WriteFile(filepath.Join(src, "plugin.toml"), []byte(m), 0o644); err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(src, "hello-c.wasm"), wasm, 0o644); err != nil {
		panic(err)
	}
	out := src + ".vitplug"
	if _, err := vitplug.PackFile(src, out, vitplug.Limits{}); err != nil {
		panic(err)
	}
	return out
}
