package oci

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"
)

// Media and artifact types of the spec's layout (docs/spec/package-v1.md,
// "Registry artifacts (OCI)").
const (
	// ArtifactType is a plugin package manifest's artifactType.
	ArtifactType = "application/vnd.vitte.plugin.v1"
	// LayerMediaType is the media type of its one layer, the .vitplug bytes.
	LayerMediaType = "application/vnd.vitte.plugin.v1+zip"
	// SignatureType is a signature manifest's artifactType and its one
	// layer's media type, the .minisig text.
	SignatureType = "application/vnd.vitte.signature.v1+minisign"

	// ManifestMediaType is the OCI image manifest's media type.
	ManifestMediaType = "application/vnd.oci.image.manifest.v1+json"
	// EmptyMediaType is the media type of the empty config.
	EmptyMediaType = "application/vnd.oci.empty.v1+json"

	AnnotationTitle   = "org.opencontainers.image.title"
	AnnotationVersion = "org.opencontainers.image.version"
	AnnotationName    = "dev.vitte.plugin.name"
	AnnotationContent = "dev.vitte.plugin.content"
)

// The empty config: the two bytes "{}".
var (
	emptyJSON   = []byte("{}")
	emptyDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
)

// Descriptor points at content in a registry: its media type, digest and
// size, as in an OCI descriptor.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// manifest is an OCI image manifest, the fields this package writes and
// reads.
type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        Descriptor        `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Subject       *Descriptor       `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// PluginInfo is what a plugin manifest says about its package.
type PluginInfo struct {
	Name      string // dev.vitte.plugin.name
	Version   string // org.opencontainers.image.version
	ContentID string // dev.vitte.plugin.content
	Title     string // org.opencontainers.image.title, the file name
	// Layer is the package blob.
	Layer Descriptor
}

// digestOf returns "sha256:<hex>" of b.
func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func emptyConfig() Descriptor {
	return Descriptor{MediaType: EmptyMediaType, Digest: emptyDigest, Size: int64(len(emptyJSON))}
}

// pluginManifest returns the manifest bytes of a plugin package.
func pluginManifest(info PluginInfo) ([]byte, error) {
	m := manifest{
		SchemaVersion: 2,
		MediaType:     ManifestMediaType,
		ArtifactType:  ArtifactType,
		Config:        emptyConfig(),
		Layers:        []Descriptor{info.Layer},
		Annotations: map[string]string{
			AnnotationTitle:   info.Title,
			AnnotationVersion: info.Version,
			AnnotationName:    info.Name,
			AnnotationContent: info.ContentID,
		},
	}
	return json.Marshal(m)
}

// signatureManifest returns the manifest bytes of a signature whose layer
// is layer, about the plugin manifest subject.
func signatureManifest(layer, subject Descriptor) ([]byte, error) {
	m := manifest{
		SchemaVersion: 2,
		MediaType:     ManifestMediaType,
		ArtifactType:  SignatureType,
		Config:        emptyConfig(),
		Layers:        []Descriptor{layer},
		Subject:       &Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
	}
	return json.Marshal(m)
}

// parseManifest decodes an OCI image manifest of the spec's layout with
// artifact type want and one layer of media type layerType, and checks
// every descriptor. It does not look at annotations.
func parseManifest(data []byte, want, layerType string) (*manifest, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrManifest)
	}
	if err := checkKeys(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var m manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrManifest)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: schemaVersion %d, want 2", ErrManifest, m.SchemaVersion)
	}
	if m.MediaType != ManifestMediaType {
		return nil, fmt.Errorf("%w: mediaType %s, want %s", ErrArtifactType, quote(m.MediaType), ManifestMediaType)
	}
	if m.ArtifactType != want {
		return nil, fmt.Errorf("%w: artifactType %s, want %s", ErrArtifactType, quote(m.ArtifactType), want)
	}
	if m.Config.MediaType != EmptyMediaType {
		return nil, fmt.Errorf("%w: config mediaType %s, want %s", ErrArtifactType, quote(m.Config.MediaType), EmptyMediaType)
	}
	if m.Config.Digest != emptyDigest || m.Config.Size != int64(len(emptyJSON)) {
		return nil, fmt.Errorf("%w: config is not the empty config {} (%s, %d bytes)", ErrManifest, quote(m.Config.Digest), m.Config.Size)
	}
	if len(m.Layers) != 1 {
		return nil, fmt.Errorf("%w: %d layers, want exactly 1", ErrManifest, len(m.Layers))
	}
	l := m.Layers[0]
	if l.MediaType != layerType {
		return nil, fmt.Errorf("%w: layer mediaType %s, want %s", ErrArtifactType, quote(l.MediaType), layerType)
	}
	if err := checkDescriptor(l); err != nil {
		return nil, fmt.Errorf("%w: layer: %v", ErrManifest, err)
	}
	if m.Subject != nil {
		if err := checkDescriptor(*m.Subject); err != nil {
			return nil, fmt.Errorf("%w: subject: %v", ErrManifest, err)
		}
	}
	return &m, nil
}

func checkDescriptor(d Descriptor) error {
	if err := checkDigest(d.Digest); err != nil {
		return fmt.Errorf("digest %s: %v", quote(d.Digest), err)
	}
	if d.Size <= 0 {
		return fmt.Errorf("size %d, want more than 0", d.Size)
	}
	return nil
}

// parsePluginManifest parses a plugin package's manifest and its
// annotations: name, version (a strict semantic version) and content id
// must be there.
func parsePluginManifest(data []byte) (PluginInfo, error) {
	m, err := parseManifest(data, ArtifactType, LayerMediaType)
	if err != nil {
		return PluginInfo{}, err
	}
	if m.Subject != nil {
		return PluginInfo{}, fmt.Errorf("%w: a plugin manifest has no subject", ErrManifest)
	}
	info := PluginInfo{
		Name:      m.Annotations[AnnotationName],
		Version:   m.Annotations[AnnotationVersion],
		ContentID: m.Annotations[AnnotationContent],
		Title:     m.Annotations[AnnotationTitle],
		Layer:     m.Layers[0],
	}
	for k, v := range map[string]string{AnnotationName: info.Name, AnnotationVersion: info.Version, AnnotationContent: info.ContentID} {
		if v == "" {
			return PluginInfo{}, fmt.Errorf("%w: annotation %s missing", ErrManifest, k)
		}
	}
	if _, err := semver.StrictNewVersion(info.Version); err != nil {
		return PluginInfo{}, fmt.Errorf("%w: annotation %s %s is not a semantic version", ErrVersion, AnnotationVersion, quote(info.Version))
	}
	return info, nil
}

// parseSignatureManifest parses a signature artifact's manifest, whose
// subject must be the plugin manifest subject (a digest).
func parseSignatureManifest(data []byte, subject string) (Descriptor, error) {
	m, err := parseManifest(data, SignatureType, SignatureType)
	if err != nil {
		return Descriptor{}, err
	}
	if m.Subject == nil {
		return Descriptor{}, fmt.Errorf("%w: a signature manifest needs a subject", ErrManifest)
	}
	if m.Subject.Digest != subject {
		return Descriptor{}, fmt.Errorf("%w: subject %s, want %s", ErrManifest, m.Subject.Digest, subject)
	}
	return m.Layers[0], nil
}

// Digest returns the OCI digest of b: "sha256:" and the hex SHA-256.
func Digest(b []byte) string { return digestOf(b) }
