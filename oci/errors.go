package oci

import "errors"

// Outcomes a caller can branch on with [errors.Is]. Every error of this
// package about a reference, a registry or what it served wraps one of them
// (or a context error, for a cancelled or timed-out operation).
var (
	// ErrReference: a reference is not oci://REGISTRY/REPOSITORY[:TAG][@sha256:HEX],
	// or lacks the tag or digest the operation needs.
	ErrReference = errors.New("invalid reference")
	// ErrVersion: a tag is not a semantic version (the spec's tags are the
	// package's version), a tag is not the version of the package pushed or
	// pulled under it, or no tag matches a version constraint.
	ErrVersion = errors.New("version mismatch")
	// ErrArtifactType: a manifest is not the artifact expected (a plugin
	// package or a signature): its artifactType, config or layer media type
	// differs.
	ErrArtifactType = errors.New("wrong artifact type")
	// ErrManifest: a manifest is not well-formed JSON of the spec's layout
	// (schemaVersion 2, an OCI image manifest, exactly one layer, valid
	// descriptors and annotations).
	ErrManifest = errors.New("invalid manifest")
	// ErrDigest: content does not have the digest (or the size) that
	// names it.
	ErrDigest = errors.New("digest mismatch")
	// ErrTooLarge: a manifest, blob, tag list or signature is larger than
	// the client's limits ([Options]).
	ErrTooLarge = errors.New("too large")
	// ErrPackage: the blob is not a valid .vitplug package, or its name,
	// version or content id differs from the manifest's annotations.
	ErrPackage = errors.New("invalid package")
	// ErrNotFound: the registry has no such repository, tag, manifest or
	// blob (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the registry refused the credentials, or asked for
	// some and none were given (HTTP 401, 403).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRegistry: the registry answered with another error (HTTP 5xx, an
	// unexpected status, a malformed response) or could not be reached.
	ErrRegistry = errors.New("registry error")
)
