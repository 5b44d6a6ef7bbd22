package vitplug_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// Pack a plugin folder, then open the package as a host would.
func Example() {
	dir, err := os.MkdirTemp("", "hello")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	for name, data := range map[string]string{
		"plugin.toml":      "[plugin]\nname = \"hello\"\nversion = \"0.1.0\"\nkind = \"c\"\nmodule = \"hello.wasm\"\n",
		"hello.wasm":       "\x00asm\x01\x00\x00\x00",
		"hello.c":          "/* not packed */\n",
		"files/greeting":   "Bonjour\n",
		"files/sub/data.0": "0\n",
	} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			panic(err)
		}
	}

	var archive bytes.Buffer
	if _, err := vitplug.Pack(dir, &archive, vitplug.Limits{}); err != nil {
		fmt.Println(err)
		return
	}

	pkg, err := vitplug.Open(bytes.NewReader(archive.Bytes()), int64(archive.Len()), vitplug.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := pkg.Manifest()
	fmt.Println(m.Plugin.Name, m.Plugin.Version, len(pkg.Module()), "bytes of module")
	fmt.Println(pkg.Files())
	fmt.Println(pkg.ContentID())
	fmt.Print(string(pkg.Checksums()))
	// Output:
	// hello 0.1.0 8 bytes of module
	// [files/greeting files/sub/data.0 hello.wasm plugin.toml]
	// h1:VGBo5zNr7KerHMrjemk9ZHF7jJEUNwjT6KZ9FObG6kw=
	// 8dc2a6966f1be1644ec6b1f7223f47e53de5ad05e1c976736d948e7977a13dd3  files/greeting
	// 9a271f2a916b0b6ee6cecb2426f0b3206ef074578be55d9bc94f6f3fe3ab86aa  files/sub/data.0
	// 93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476  hello.wasm
	// dc7846d6ffda0f49c3f52db8631ec57f8c730b954b93a150dfc2a1a6e43e0a64  plugin.toml
}

// A hostile archive is refused with an error that names the entry, and a
// sentinel to branch on.
func ExampleOpen_errors() {
	// A package whose second entry climbs out of any folder it is extracted to.
	archive, _ := os.ReadFile("../testdata/spec/package-v1/unsafe-dotdot.vitplug")
	_, err := vitplug.Open(bytes.NewReader(archive), int64(len(archive)), vitplug.Limits{})
	fmt.Println(err)
	fmt.Println(errors.Is(err, vitplug.ErrUnsafePath))
	var ee *vitplug.EntryError
	if errors.As(err, &ee) {
		fmt.Printf("%q\n", ee.Entry)
	}
	// Output:
	// entry "files/../../evil": unsafe path: ".." segment
	// true
	// "files/../../evil"
}

// Embed a signature: the content id, which signatures vouch for, stays the
// same.
func ExamplePackage_WithSignature() {
	archive, _ := os.ReadFile("../testdata/spec/package-v1/valid-minimal.vitplug")
	pkg, err := vitplug.Open(bytes.NewReader(archive), int64(len(archive)), vitplug.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	minisig := []byte("untrusted comment: ...\n...\ntrusted comment: ...\n...\n")
	signed, err := pkg.WithSignature("E7620F1842B4E81F", minisig)
	if err != nil {
		fmt.Println(err)
		return
	}
	var out bytes.Buffer
	if _, err := signed.WriteTo(&out); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(signed.ContentID() == pkg.ContentID())
	for id := range signed.Signatures() {
		fmt.Println(id)
	}
	// Output:
	// true
	// E7620F1842B4E81F
}
