// Package vitplug implements the .vitplug package format v1
// (docs/spec/package-v1.md, "The archive"): a ZIP archive holding a
// plugin's plugin.toml, its module and extra files, indexed by
// _vitte/CHECKSUMS, the payload that signatures sign. The package is named
// after the file format, package being a Go keyword.
//
// [Pack] writes one from a plugin folder, and [Open] reads one, checks it
// against every refusal rule of the spec, and holds it in memory, never
// extracting anything to disk:
//
//	pkg, err := vitplug.OpenFile("hello-0.1.0.vitplug", vitplug.Limits{})
//	if err != nil {
//		return err // open package hello-0.1.0.vitplug: entry "../x": unsafe path: ".." segment
//	}
//	m := pkg.Manifest()       // plugin.toml, parsed and valid
//	wasm := pkg.Module()      // the module [plugin].module names, loaded straight from the archive
//	id := pkg.ContentID()     // "h1:...", what signatures and registries name
//
// # Layout
//
//	plugin.toml                        first entry
//	hello.wasm                         the path named by [plugin].module
//	files/...                          extra files, read-only to the guest
//	_vitte/CHECKSUMS                   "<sha256 hex>  <path>\n" per content file, sorted by path
//	_vitte/signatures/<KEYID>.minisig  zero or more
//
// The content files are every regular file but those under _vitte/. Their
// CHECKSUMS is the summary that golang.org/x/mod/sumdb/dirhash.Hash1 hashes,
// and the content id is what Hash1 returns: "h1:" and the standard, padded
// base64 of the SHA-256 of the CHECKSUMS bytes ([ContentID]).
//
// # Signatures
//
// This package reads and writes embedded signatures but does not verify
// them. [Package.Checksums] returns the exact bytes signed,
// [Package.Signatures] the signatures by key id, and [Package.WithSignature]
// or [AddSignature] embed one without changing the content id. A KEYID is
// the minisign key id, 8 bytes, written as 16 upper-case hexadecimal
// digits as the minisign tool prints it; an entry under _vitte/signatures/
// with another name, or larger than [MaxSignatureSize], is refused.
//
// # What Pack packs
//
// Pack takes plugin.toml, the module, and every regular file under files/,
// recursively. Everything else in the folder is left out: sources, build
// files, version-control folders, an old _vitte/ folder. A plugin that needs
// more files at run time puts them under files/ (for kind "python", the
// modules the entry script imports). A symbolic link or other non-regular
// file among what would be packed is an error, not skipped, so that a
// package never silently lacks a file its author meant to ship. Empty
// folders are not recorded: the archive holds no folder entries.
//
// # Reproducible packing
//
// Entries are written plugin.toml first, then sorted by path in byte
// order (so _vitte/ falls between upper-case and lower-case names), with
// the same metadata for all: modified 1980-01-01 00:00:00 (the ZIP epoch,
// as an MS-DOS date and no extended timestamp), Unix mode 0644, made by
// ZIP 2.0 on Unix, no extra field, no comment, no data descriptor, no
// folder entries. Each file is deflated at [compress/flate.BestCompression],
// or stored when deflating does not make it smaller, or would make a
// compression ratio that readers refuse (over [MaxRatio] for more than
// [RatioThreshold]).
//
// So the same files give the same bytes, wherever the folder is and
// whatever its timestamps and modes, with a given Go toolchain. Across Go
// releases compress/flate may produce other, equally valid, bytes; the
// content id, which does not depend on the ZIP encoding, is what names the
// content, as h1: hashes of module zips do for Go.
//
// # Hostile archives
//
// A package comes from outside and is not trusted. [Open] bounds the
// memory it takes by [Limits] before inflating anything: the entry count,
// each entry's metadata, and the total of the declared sizes, which an
// entry may not inflate past. It refuses, with an [*EntryError] naming the
// entry and wrapping a sentinel error:
//
//   - names outside the entry-name policy below, absolute, with "..",
//     backslashes or drive letters included ([ErrUnsafePath]);
//   - duplicate names, also when they differ only by case, and a name used
//     as a file and as a folder ([ErrDuplicate]); names that differ only
//     by Unicode normalisation cannot occur, the policy being ASCII;
//   - symbolic links, devices, pipes, sockets, Windows reparse points and
//     anything else but a regular file or a folder ([ErrNotRegular]);
//   - compression methods other than store and deflate ([ErrCompression]);
//   - encrypted entries ([ErrEncrypted]);
//   - more entries, or more bytes once inflated, than [Limits] allow, an
//     entry that inflates past its declared size, a plugin.toml over
//     [manifest.MaxFileSize] ([ErrTooLarge]);
//   - a declared compression ratio over [MaxRatio]:1 for an entry larger
//     than [RatioThreshold] ([ErrRatio]);
//   - a CHECKSUMS that is missing, malformed (upper-case or bad hex, a
//     separator other than two spaces, unsorted or repeated paths, a
//     missing final newline, a path outside the policy) or that does not
//     list the content files exactly, each with its SHA-256
//     ([ErrChecksums]);
//   - anything under _vitte/ but CHECKSUMS and signatures/<KEYID>.minisig
//     ([ErrReserved]);
//   - a plugin.toml that is missing, not the first entry, or does not
//     validate ([ErrManifest], wrapping the [*manifest.Error]);
//   - a module that is not where plugin.module in the manifest says ([ErrModule]);
//   - an archive outside the ZIP profile below ([ErrCorrupt]).
//
// # ZIP profile
//
// Open reads the ZIP format itself rather than through archive/zip, so
// that it can check what archive/zip does not expose. It accepts what
// common ZIP writers produce for a small archive, and refuses: ZIP64 and
// multi-disk archives (a package is far below 4 GiB and 65 535 entries);
// any byte before the first local header, between entries, or after the
// end of central directory record's comment; a central directory that
// does not end where the end record begins; a local header whose name,
// method, flags, CRC-32 or sizes differ from the central directory's; a
// data descriptor that disagrees with it; entries that overlap; more than
// 4 KiB of extra fields and comment for one entry; a stored entry whose
// two sizes differ; a folder entry with data; a deflate stream that does
// not end exactly at the end of its entry; a CRC-32 mismatch. So the
// entries that a tool walking the local headers sees are exactly those
// that Open checked.
//
// # Entry names
//
// This host allows only names made of path segments separated by "/",
// each of the ASCII letters, digits and "._-+@", not "." or "..", not
// ending with a dot, and not a Windows device name (CON, NUL.txt, COM1...),
// with a final "/" for a folder and at most [MaxNameLength] bytes in all.
// Such names mean the same on every file system an archive could be
// extracted to, once case is folded, so that duplicates are caught by
// comparing names folded to lower case, with no Unicode tables. Pack
// applies the same policy to the files it packs.
package vitplug
