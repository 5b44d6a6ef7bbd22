package trust_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"aead.dev/minisign"

	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// Sign a package, embed the signature, then verify it under a trust policy
// that trusts the key for packages under /srv/plugins.
func Example() {
	pub, key, err := minisign.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	// A plugin folder, packed.
	dir, err := os.MkdirTemp("", "hello")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte("[plugin]\nname = \"hello\"\nversion = \"0.1.0\"\nkind = \"wasm\"\nmodule = \"hello.wasm\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "hello.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	var archive bytes.Buffer
	pkg, err := vitplug.Pack(dir, &archive, vitplug.Limits{})
	if err != nil {
		panic(err)
	}

	// The publisher signs.
	signedAt := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	sig, err := trust.Sign(pkg, key, signedAt)
	if err != nil {
		panic(err)
	}
	pkg, err = pkg.WithSignature(trust.KeyID(key.ID()), sig)
	if err != nil {
		panic(err)
	}

	// The user trusts the publisher's key for one folder.
	pol, err := trust.Parse("trust.toml", []byte(`
[keys.publisher]
minisign = "`+pub.String()+`"

[[policy]]
scopes = ["file:///srv/plugins/*"]
level = "strict"
keys = ["publisher"]
threshold = 1
`))
	if err != nil {
		panic(err)
	}
	verdict, err := trust.Verify(pkg, "file:///srv/plugins/hello-0.1.0.vitplug", nil, pol, signedAt.Add(time.Hour))
	fmt.Println("allowed:", err == nil, "signers:", len(verdict.Signers), verdict.Signers[0].Key.Name)
	fmt.Println(verdict.Checks[1].Name[:len("signature by publisher")], verdict.Checks[1].Detail)
	fmt.Println(verdict.Checks[2])

	// Elsewhere, no policy covers it: nothing is trusted.
	_, err = trust.Verify(pkg, "file:///tmp/hello-0.1.0.vitplug", nil, pol, signedAt.Add(time.Hour))
	fmt.Println(errors.Is(err, trust.ErrUntrusted), errors.Is(err, trust.ErrThreshold))
	// Output:
	// allowed: true signers: 1 publisher
	// signature by publisher hello 0.1.0, signed 2026-03-01T10:00:00Z
	// ok   threshold: 1 of 1 distinct trusted keys required: publisher
	// true true
}
