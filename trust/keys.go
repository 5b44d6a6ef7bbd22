package trust

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"aead.dev/minisign"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/scrypt"
)

// Names of the files [GenerateKey] writes.
const (
	// SecretKeyFile holds the secret key, minisign's format, mode 0600.
	SecretKeyFile = "vitte.key"
	// PublicKeyFile holds the public key, minisign's format.
	PublicKeyFile = "vitte.pub"
)

// ErrExist is returned by [GenerateKey] when a key file is already there and
// overwriting was not asked for. It wraps [fs.ErrExist].
var ErrExist = fmt.Errorf("key file already exists: %w", fs.ErrExist)

// KeyID returns the key id id as this package writes it: 16 upper-case
// hexadecimal digits, zero padded, the name of an embedded signature
// (_vitte/signatures/<KEYID>.minisig). The minisign tool prints the same
// digits without the leading zeros.
func KeyID(id uint64) string { return fmt.Sprintf("%016X", id) }

// ParsePublicKey parses a minisign public key: the contents of a .pub file
// (an "untrusted comment:" line and the key), or the key alone, like
// "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3". Spaces around
// it are ignored.
func ParsePublicKey(text []byte) (minisign.PublicKey, error) {
	text = bytes.TrimSpace(text)
	if len(text) > 4096 {
		return minisign.PublicKey{}, errors.New("parse public key: too long for a minisign public key")
	}
	if !bytes.HasPrefix(text, []byte("untrusted comment:")) && bytes.ContainsAny(text, "\r\n") {
		return minisign.PublicKey{}, errors.New("parse public key: more than one line")
	}
	if lines := bytes.Split(text, []byte("\n")); len(lines) > 2 {
		return minisign.PublicKey{}, errors.New("parse public key: more than two lines: not a minisign public key file")
	}
	var pub minisign.PublicKey
	if err := pub.UnmarshalText(text); err != nil {
		return minisign.PublicKey{}, fmt.Errorf("parse public key: %s", strings.TrimPrefix(err.Error(), "minisign: "))
	}
	if pub.Equal(minisign.PublicKey{}) {
		return minisign.PublicKey{}, errors.New("parse public key: all-zero key")
	}
	return pub, nil
}

// MarshalPublicKey returns the text of a .pub file for pub, as the minisign
// tool writes it.
func MarshalPublicKey(pub minisign.PublicKey) []byte {
	return fmt.Appendf(nil, "untrusted comment: minisign public key %s\n%s\n", KeyID(pub.ID()), pub.String())
}

// scryptParams are the scrypt costs of an encrypted secret key, as the
// minisign tool writes them: libsodium's "sensitive" limits.
type scryptParams struct{ ops, mem uint64 }

var sensitive = scryptParams{ops: 1 << 25, mem: 1 << 30}

// testOnlyScrypt, when not zero, replaces the costs of the keys this
// package encrypts, so that tests do not spend a gigabyte and seconds on
// each key. Readers accept any costs up to minisign's limits.
var testOnlyScrypt scryptParams

// Layout of a minisign secret key file, once base64-decoded.
const (
	skSize      = 158 // sig_alg 2, kdf_alg 2, chk_alg 2, salt 32, ops 8, mem 8, keynum+sk+chk 104
	skKDFNone   = 0x0000
	skKDFScrypt = 0x6353 // "Sc"
	skCHKBlake2 = 0x3242 // "B2"
	skSigEd     = 0x6445 // "Ed"
)

// MarshalSecretKey returns the text of a secret key file for key.
// It is encrypted with password as the minisign tool does (scrypt, with
// libsodium's "sensitive" costs: about a gigabyte of memory and seconds of
// work to open), or stored unencrypted when password is nil, like
// "minisign -G -W". An empty password is refused.
func MarshalSecretKey(key minisign.PrivateKey, password []byte) ([]byte, error) {
	plain, err := key.MarshalText()
	if err != nil {
		return nil, fmt.Errorf("marshal secret key: %w", err)
	}
	if password == nil {
		return append(plain, '\n'), nil
	}
	if len(password) == 0 {
		return nil, errors.New("marshal secret key: empty password")
	}
	p := sensitive
	if testOnlyScrypt != (scryptParams{}) {
		p = testOnlyScrypt
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(plain[strings.IndexByte(string(plain), '\n')+1:])))
	if err != nil || len(raw) != skSize {
		return nil, errors.New("marshal secret key: unexpected key layout")
	}
	var b [skSize]byte
	binary.LittleEndian.PutUint16(b[0:], skSigEd)
	binary.LittleEndian.PutUint16(b[2:], skKDFScrypt)
	binary.LittleEndian.PutUint16(b[4:], skCHKBlake2)
	if _, err := io.ReadFull(rand.Reader, b[6:38]); err != nil {
		return nil, fmt.Errorf("marshal secret key: %w", err)
	}
	binary.LittleEndian.PutUint64(b[38:], p.ops)
	binary.LittleEndian.PutUint64(b[46:], p.mem)
	// keynum (8) and the Ed25519 key (64), then the checksum:
	// BLAKE2b-256(sig_alg || keynum || sk), all XORed with the scrypt
	// key stream.
	copy(b[54:126], raw[54:126])
	var msg [74]byte
	binary.LittleEndian.PutUint16(msg[:], skSigEd)
	copy(msg[2:], raw[54:126])
	chk := blake2b.Sum256(msg[:])
	copy(b[126:], chk[:])
	n, r, par := scryptCost(p.ops, p.mem)
	stream, err := scrypt.Key(password, b[6:38], n, r, par, 104)
	if err != nil {
		return nil, fmt.Errorf("marshal secret key: %w", err)
	}
	for i, k := range stream {
		b[54+i] ^= k
	}
	out := []byte("untrusted comment: minisign encrypted secret key\n")
	out = base64.StdEncoding.AppendEncode(out, b[:])
	return append(out, '\n'), nil
}

// scryptCost turns minisign's ops and mem limits into scrypt's N, r and p,
// as libsodium's pickparams does (and aead.dev/minisign, which reads the
// keys).
func scryptCost(ops, mem uint64) (n, r, p int) {
	const minOps, maxRP = 1 << 15, 0x3fffffff
	if ops < minOps {
		ops = minOps
	}
	r = 8
	if ops < mem/32 {
		p = 1
		for i := 1; i < 63; i++ {
			if n = 1 << i; uint64(n) > ops/(8*uint64(r)) {
				break
			}
		}
		return n, r, p
	}
	for i := 1; i < 63; i++ {
		if n = 1 << i; uint64(n) > mem/(256*uint64(r)) {
			break
		}
	}
	if rp := (ops / 4) / uint64(n); rp < maxRP {
		p = int(rp) / r
	} else {
		p = maxRP / r
	}
	return n, r, p
}

// IsEncrypted reports whether the secret key file text is encrypted, and so
// needs a password.
func IsEncrypted(text []byte) bool { return minisign.IsEncrypted(text) }

// ParseSecretKey parses a secret key file of the minisign tool or of
// [MarshalSecretKey]. An encrypted key is decrypted with password; an
// unencrypted one needs none (password is then ignored).
func ParseSecretKey(text, password []byte) (minisign.PrivateKey, error) {
	if len(text) > 4096 {
		return minisign.PrivateKey{}, errors.New("parse secret key: too long for a minisign secret key")
	}
	var key minisign.PrivateKey
	if minisign.IsEncrypted(text) {
		if len(password) == 0 {
			return minisign.PrivateKey{}, errors.New("parse secret key: the key is encrypted and no password was given")
		}
		k, err := minisign.DecryptKey(string(password), bytes.TrimSpace(text))
		if err != nil {
			return minisign.PrivateKey{}, errors.New("parse secret key: wrong password, or not a minisign secret key")
		}
		key = k
	} else if err := key.UnmarshalText(bytes.TrimSpace(text)); err != nil {
		return minisign.PrivateKey{}, fmt.Errorf("parse secret key: %s", strings.TrimPrefix(err.Error(), "minisign: "))
	}
	if key.Equal(minisign.PrivateKey{}) {
		return minisign.PrivateKey{}, errors.New("parse secret key: all-zero key")
	}
	return key, nil
}

// GenerateKey generates a minisign key pair and writes it to dir:
// [SecretKeyFile] (mode 0600, encrypted with password as
// [MarshalSecretKey] does, or unencrypted when password is nil) and
// [PublicKeyFile]. It creates dir (mode 0700) if needed, and returns the
// public key.
//
// Each file is written to a temporary file in dir first, then moved into
// place, so that a file is either whole or absent. It refuses, with an error
// wrapping [ErrExist], to replace a file that is there unless overwrite is
// set; then nothing is written.
func GenerateKey(dir string, password []byte, overwrite bool) (minisign.PublicKey, error) {
	pub, key, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		return minisign.PublicKey{}, fmt.Errorf("generate key: %w", err)
	}
	sk, err := MarshalSecretKey(key, password)
	if err != nil {
		return minisign.PublicKey{}, fmt.Errorf("generate key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return minisign.PublicKey{}, fmt.Errorf("generate key: %w", err)
	}
	skPath, pkPath := filepath.Join(dir, SecretKeyFile), filepath.Join(dir, PublicKeyFile)
	if !overwrite {
		for _, p := range []string{skPath, pkPath} {
			if _, err := os.Lstat(p); err == nil {
				return minisign.PublicKey{}, fmt.Errorf("generate key: %s: %w", p, ErrExist)
			}
		}
	}
	if err := writeFileAtomic(skPath, sk, 0o600, overwrite); err != nil {
		return minisign.PublicKey{}, fmt.Errorf("generate key: %w", err)
	}
	if err := writeFileAtomic(pkPath, MarshalPublicKey(pub), 0o644, overwrite); err != nil {
		if !overwrite {
			os.Remove(skPath) // ours: it was not there a moment ago
		}
		return minisign.PublicKey{}, fmt.Errorf("generate key: %w", err)
	}
	return pub, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// folder, synced, with mode perm, then renamed into place; without
// overwrite, an existing path is left alone and the error wraps
// [ErrExist].
func writeFileAtomic(path string, data []byte, perm os.FileMode, overwrite bool) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if overwrite {
		return os.Rename(tmp.Name(), path)
	}
	// A hard link never replaces its target: the check and the move are one
	// step. Where links are not supported, check, then rename.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", path, ErrExist)
		}
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("%s: %w", path, ErrExist)
		}
		return os.Rename(tmp.Name(), path)
	}
	os.Remove(tmp.Name()) // the link in place is the file; this name is a leftover
	return nil
}
