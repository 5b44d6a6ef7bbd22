package trust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"aead.dev/minisign"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// Sign signs pkg with key: a minisign signature, prehashed ("ED"), over the
// exact bytes of its _vitte/CHECKSUMS, whose trusted comment is the
// [Statement] of pkg at now. It returns the .minisig file, to embed with
// [vitplug.Package.WithSignature] under [KeyID] of key.ID(), or to write
// next to the package as <file>.minisig.
//
// The minisign tool verifies it: minisign -V -p vitte.pub -m CHECKSUMS -x sig.
func Sign(pkg *vitplug.Package, key minisign.PrivateKey, now time.Time) ([]byte, error) {
	if pkg == nil {
		return nil, errors.New("sign: nil package")
	}
	if key.Equal(minisign.PrivateKey{}) {
		return nil, errors.New("sign: zero key")
	}
	m := pkg.Manifest()
	if now.Unix() < 0 {
		return nil, fmt.Errorf("sign %s %s: time %s is before 1970", m.Plugin.Name, m.Plugin.Version, now.UTC().Format(time.RFC3339))
	}
	st := Statement{Name: m.Plugin.Name, Version: m.Plugin.Version, ContentID: pkg.ContentID(), Time: now}
	r := minisign.NewReader(bytes.NewReader(pkg.Checksums()))
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("sign %s %s: %w", st.Name, st.Version, err)
	}
	untrusted := fmt.Sprintf("vitte-plugin signature of %s %s by key %s", st.Name, st.Version, KeyID(key.ID()))
	return r.SignWithComments(key, st.String(), untrusted), nil
}
