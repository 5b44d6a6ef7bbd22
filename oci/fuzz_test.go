package oci

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"
	"oras.land/oras-go/v2/registry"
)

// FuzzParseReference: ParseReference never panics; what it accepts prints
// back as itself, parses again to the same value, and is a reference
// oras-go accepts too.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"oci://ghcr.io/acme/hello:1.2.3",
		"oci://127.0.0.1:5000/a/b@sha256:" + strings.Repeat("0", 64),
		"oci://[::1]:5000/x:1.0.0@sha256:" + strings.Repeat("f", 64),
		"oci://a/b:c:d", "oci://a:/b", "oci://a/b@", "oci:///", "oci://a.b-c/d__e.f--g/h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			if !strings.Contains(err.Error(), ErrReference.Error()) {
				t.Fatalf("error without ErrReference: %v", err)
			}
			return
		}
		if got := r.String(); got != s {
			t.Fatalf("String() = %q, want %q", got, s)
		}
		r2, err := ParseReference(r.String())
		if err != nil || r2 != r {
			t.Fatalf("reparse: %v %+v != %+v", err, r2, r)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8 %q", s)
		}
		or := r.orasRepo()
		if t := r.target(); t != "" {
			if r.Digest != "" {
				or += "@" + t
			} else {
				or += ":" + t
			}
		}
		if _, err := registry.ParseReference(or); err != nil {
			t.Fatalf("oras-go refuses %q (from %q): %v", or, s, err)
		}
	})
}

// FuzzParsePluginManifest: the manifest parser never panics; a manifest it
// accepts has the spec's layout, and encodes back to a manifest it accepts
// with the same information.
func FuzzParsePluginManifest(f *testing.F) {
	layer := Descriptor{MediaType: LayerMediaType, Digest: "sha256:" + strings.Repeat("a", 64), Size: 10}
	good, _ := pluginManifest(PluginInfo{Name: "hello", Version: "1.0.0", ContentID: "h1:x", Title: "hello-1.0.0.vitplug", Layer: layer})
	sig, _ := signatureManifest(Descriptor{MediaType: SignatureType, Digest: "sha256:" + strings.Repeat("b", 64), Size: 3}, Descriptor{MediaType: ManifestMediaType, Digest: "sha256:" + strings.Repeat("c", 64), Size: 5})
	for _, s := range [][]byte{good, sig, []byte("{}"), []byte(`{"schemaVersion":2,"layers":[{},{}]}`), []byte("null"), []byte(`{"schemaVersion":2}{}`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parsePluginManifest(data)
		if err == nil {
			if info.Layer.MediaType != LayerMediaType || checkDigest(info.Layer.Digest) != nil || info.Layer.Size <= 0 {
				t.Fatalf("accepted a bad layer %+v", info.Layer)
			}
			if _, err := semver.StrictNewVersion(info.Version); err != nil {
				t.Fatalf("accepted version %q", info.Version)
			}
			if info.Name == "" || info.ContentID == "" {
				t.Fatalf("accepted %+v", info)
			}
			again, err := pluginManifest(info)
			if err != nil {
				t.Fatal(err)
			}
			info2, err := parsePluginManifest(again)
			if err != nil || info2.Name != info.Name || info2.Version != info.Version || info2.ContentID != info.ContentID || info2.Layer.Digest != info.Layer.Digest || info2.Layer.Size != info.Layer.Size {
				t.Fatalf("re-encoded manifest: %v %+v != %+v", err, info2, info)
			}
		}
		subject := "sha256:" + strings.Repeat("c", 64)
		l, err := parseSignatureManifest(data, subject)
		if err == nil && (l.MediaType != SignatureType || checkDigest(l.Digest) != nil || l.Size <= 0) {
			t.Fatalf("accepted a bad signature layer %+v", l)
		}
	})
}
