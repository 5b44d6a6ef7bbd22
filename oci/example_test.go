package oci_test

import (
	"context"
	"fmt"
	"log"

	"github.com/vitte-lang/vitte-plugin/oci"
)

func ExampleParseReference() {
	ref, err := oci.ParseReference("oci://ghcr.io/acme/plugins/hello:1.2.0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ref.Registry, ref.Repository, ref.Tag, ref.IsLoopback())
	_, err = oci.ParseReference("oci://ghcr.io/Acme/hello")
	fmt.Println(err)
	// Output:
	// ghcr.io acme/plugins/hello 1.2.0 false
	// invalid reference "oci://ghcr.io/Acme/hello": repository "Acme/hello": component "Acme": want it to start and end with a-z or 0-9
}

// Pull the highest 1.x version of a plugin into the blob cache, with the
// signatures stored next to it in the registry: what `vitte plugin
// install oci://ghcr.io/acme/plugins/hello@^1` does before it verifies and
// installs the file as a local one.
func ExampleClient_Pull() {
	ctx := context.Background()
	cache, err := oci.DefaultCacheDir()
	if err != nil {
		log.Fatal(err)
	}
	creds, err := oci.DefaultCredentials() // VITTE_REGISTRY_USER/PASSWORD or ~/.docker/config.json
	if err != nil {
		log.Fatal(err)
	}
	c := oci.NewClient(oci.Options{Cache: cache, Credentials: creds})
	ref, err := oci.ParseReference("oci://ghcr.io/acme/plugins/hello")
	if err != nil {
		log.Fatal(err)
	}
	ref, err = c.Resolve(ctx, ref, "^1")
	if err != nil {
		log.Fatal(err) // resolve oci://ghcr.io/acme/plugins/hello ^1: version mismatch: no version matches (3 versions)
	}
	p, err := c.Pull(ctx, ref)
	if err != nil {
		log.Fatal(err) // pull oci://...:1.4.0: blob sha256:...: digest mismatch: ...
	}
	sigs, err := c.Signatures(ctx, p.Ref, p.Manifest)
	if err != nil {
		log.Fatal(err)
	}
	// p.Path is the checked package; give it and sigs (as detached
	// signatures) to trust.Verify and registry.Registry.Install.
	fmt.Println(p.Path, len(sigs))
}

// Push a package under its version, then a signature of it.
func ExampleClient_Push() {
	ctx := context.Background()
	c := oci.NewClient(oci.Options{})
	ref, err := oci.ParseReference("oci://127.0.0.1:5000/vitte/hello:1.2.0") // loopback: plain HTTP
	if err != nil {
		log.Fatal(err)
	}
	d, err := c.Push(ctx, "hello-1.2.0.vitplug", ref, oci.PushOptions{})
	if err != nil {
		log.Fatal(err) // push ...: version mismatch: the tag is "1.2.0", the package's version 1.2.1: ...
	}
	var minisig []byte // trust.Sign(pkg, key, time.Now())
	if _, err := c.PushSignature(ctx, ref.WithDigest(d.Digest), minisig); err != nil {
		log.Fatal(err)
	}
}
