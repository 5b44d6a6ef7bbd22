package vitplug_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// The vectors below were computed outside Go, with coreutils, following the
// documented algorithm of golang.org/x/mod/sumdb/dirhash.Hash1:
//
//	find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > CHECKSUMS
//	printf 'h1:'; sha256sum < CHECKSUMS | cut -d' ' -f1 | xxd -r -p | base64

// TestContentID_dirhash checks ContentID against the vector of dirhash's own
// TestHash1: files "abc" and "xyz" holding "data for abc" and "data for
// xyz".
func TestContentID_dirhash(t *testing.T) {
	const sums = "c807b6b431cbbfff4dcc032527d0e106e7f76e6aa20b3cab70fa00154144f351  abc\n" +
		"1a163d344504db00bdf3944d1b36c771245f19cc90df3dc2e5ca78d25d19d51e  xyz\n"
	require.Equal(t, sums, checksums([]zent{file("xyz", "data for xyz"), file("abc", "data for abc")}))
	require.Equal(t, "h1:EP6WfDoQTSk9klnxcjriWJOGztueJUywHNmWeq+efB8=", vitplug.ContentID([]byte(sums)))
}

// TestPack_checksums checks the CHECKSUMS and content id of a packed folder
// against values computed by hand.
func TestPack_checksums(t *testing.T) {
	dir := pluginDir(t, map[string]string{"files/a.txt": "a\n", "hello.c": "not packed"})
	p, _ := pack(t, dir)
	require.Equal(t, "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7  files/a.txt\n"+
		"93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476  hello.wasm\n"+
		"ef566b072cd4bac1944822302b7015e80a7f7c2832d88482d1b461c5b1de3c6f  plugin.toml\n", string(p.Checksums()))
	require.Equal(t, "h1:iGHs7Evot6wWBgVnLJP2s5OlEXb5xsjTUgvx98ZvQl0=", p.ContentID())
}
