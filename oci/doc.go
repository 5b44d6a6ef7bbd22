// Package oci distributes plugin packages through OCI registries (Docker
// Hub, GHCR, Harbor, zot, a company's own distribution registry), in the
// layout of docs/spec/package-v1.md, "Registry artifacts (OCI)":
//
//	oci://REGISTRY/REPOSITORY:VERSION        a plugin package
//	  manifest  artifactType application/vnd.vitte.plugin.v1
//	  config    application/vnd.oci.empty.v1+json ({})
//	  layer     application/vnd.vitte.plugin.v1+zip (the .vitplug bytes), exactly one
//	  annotations org.opencontainers.image.{title,version}, dev.vitte.plugin.{name,content}
//	signature artifacts, one per signature
//	  manifest  artifactType application/vnd.vitte.signature.v1+minisign, subject the package
//	  layer     application/vnd.vitte.signature.v1+minisign (the .minisig text)
//
// A [Client] pushes a package under a tag that must be its version
// ([Client.Push]), pushes signatures ([Client.PushSignature]), lists a
// repository's versions and picks the highest one a constraint accepts
// ([Client.Versions], [Client.Resolve]), pulls a package by tag or digest
// into a content-addressed cache ([Client.Pull]) and fetches its
// signatures ([Client.Signatures]):
//
//	c := oci.NewClient(oci.Options{Cache: cacheDir, Credentials: creds})
//	ref, err := oci.ParseReference("oci://ghcr.io/acme/plugins/hello")
//	ref, err = c.Resolve(ctx, ref, "^1.2")
//	p, err := c.Pull(ctx, ref)                        // p.Path: the checked .vitplug in the cache
//	sigs, err := c.Signatures(ctx, p.Ref, p.Manifest) // for trust.Verify, as detached signatures
//
// The package does not judge signatures or install anything: the caller
// gives the pulled file and the signatures to the same verification and
// install as a local file (trust.Verify, registry.Registry.Install).
//
// # Registry bytes are hostile
//
// Every manifest is read after its size is known and only if it is at most
// Options.MaxManifestSize, then checked against its digest, then parsed
// strictly (the artifact type, the empty config, one layer of the right
// media type, valid descriptors). A package blob is at most
// Options.MaxBlobSize; it is streamed to a temporary file in the cache,
// and renamed to blobs/sha256/<hex> only after its size, its digest and
// the package itself (vitplug.OpenFile, and its name, version and content
// id against the manifest's annotations) are checked. A failed pull leaves
// nothing in the cache. A cached blob is hashed again each time it is
// used. A tag is a semantic version and the manifest's version. Errors
// wrap a sentinel of this package (ErrDigest, ErrTooLarge, ...); a hanging
// registry is cut by the context's deadline.
//
// # Transport
//
// HTTP requests go through oras-go (oras.land/oras-go/v2): token and basic
// authentication, the referrers API and its "sha256-<hex>" tag fallback for
// registries without it (such as distribution 2.8). Plain HTTP is used only
// for loopback registries unless Options.PlainHTTP.
package oci
