package trust_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aead.dev/minisign"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/trust"
)

func TestGenerateKey(t *testing.T) {
	defer trust.SetTestScrypt()()
	tests := []struct {
		name     string
		password []byte
	}{
		{name: "encrypted", password: []byte("correct horse")},
		{name: "unencrypted", password: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pub, err := trust.GenerateKey(dir, tc.password, false)
			require.NoError(t, err)

			fi, err := os.Stat(filepath.Join(dir, trust.SecretKeyFile))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 2, "temporary files left")

			pubText, err := os.ReadFile(filepath.Join(dir, trust.PublicKeyFile))
			require.NoError(t, err)
			require.Equal(t, "untrusted comment: minisign public key "+trust.KeyID(pub.ID())+"\n"+pub.String()+"\n", string(pubText))
			back, err := trust.ParsePublicKey(pubText)
			require.NoError(t, err)
			require.True(t, pub.Equal(back))

			skText, err := os.ReadFile(filepath.Join(dir, trust.SecretKeyFile))
			require.NoError(t, err)
			require.Equal(t, tc.password != nil, trust.IsEncrypted(skText))
			sk, err := trust.ParseSecretKey(skText, tc.password)
			require.NoError(t, err)
			require.True(t, pub.Equal(sk.Public()))
			if tc.password != nil {
				_, err = trust.ParseSecretKey(skText, []byte("wrong"))
				require.ErrorContains(t, err, "parse secret key: wrong password")
				_, err = trust.ParseSecretKey(skText, nil)
				require.ErrorContains(t, err, "the key is encrypted and no password was given")
			}

			// Never replaced without overwrite; nothing is written then.
			_, err = trust.GenerateKey(dir, tc.password, false)
			require.ErrorIs(t, err, trust.ErrExist)
			again, err := os.ReadFile(filepath.Join(dir, trust.SecretKeyFile))
			require.NoError(t, err)
			require.Equal(t, skText, again)

			other, err := trust.GenerateKey(dir, tc.password, true)
			require.NoError(t, err)
			require.False(t, other.Equal(pub))
			entries, err = os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 2)
		})
	}

	// Only the public key there: refused as well.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, trust.PublicKeyFile), []byte("x"), 0o644))
	_, err := trust.GenerateKey(dir, nil, false)
	require.ErrorIs(t, err, trust.ErrExist)
	_, err = os.Stat(filepath.Join(dir, trust.SecretKeyFile))
	require.ErrorIs(t, err, os.ErrNotExist)

	sub := filepath.Join(dir, "new", "keys")
	_, err = trust.GenerateKey(sub, nil, false)
	require.NoError(t, err)
	fi, err := os.Stat(sub)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	_, err = trust.GenerateKey(filepath.Join(dir, trust.PublicKeyFile, "x"), nil, false)
	require.ErrorContains(t, err, "generate key: mkdir ")
	_, err = trust.GenerateKey(dir, []byte{}, true)
	require.ErrorContains(t, err, "empty password")
}

func TestParsePublicKey(t *testing.T) {
	k := newKey(t)
	for _, s := range []string{
		k.pub.String(),
		"  " + k.pub.String() + "\n",
		string(trust.MarshalPublicKey(k.pub)),
		"untrusted comment: minisign public key " + strings.TrimLeft(trust.KeyID(k.pub.ID()), "0") + "\r\n" + k.pub.String() + "\r\n",
	} {
		p, err := trust.ParsePublicKey([]byte(s))
		require.NoError(t, err, s)
		require.True(t, p.Equal(k.pub))
	}
	for _, tc := range []struct{ with, err string }{
		{"", "parse public key: invalid public key length 0"},
		{"RWQ", "parse public key: invalid public key"},
		{k.pub.String() + "\n" + k.pub.String(), "more than one line"},
		{"untrusted comment: x\n" + k.pub.String() + "\nmore", "more than two lines"},
		{"RWQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "all-zero key"},
		{strings.Repeat("A", 5000), "too long"},
	} {
		_, err := trust.ParsePublicKey([]byte(tc.with))
		require.ErrorContains(t, err, tc.err, tc.with)
	}
}

func TestParseSecretKey_Errors(t *testing.T) {
	for _, tc := range []struct{ with, err string }{
		{"", "parse secret key: invalid private key"},
		{"untrusted comment: x\nRWQ", "parse secret key: invalid private key"},
		{strings.Repeat("A", 5000), "too long"},
	} {
		_, err := trust.ParseSecretKey([]byte(tc.with), nil)
		require.ErrorContains(t, err, tc.err, tc.with)
	}
	var zero minisign.PrivateKey
	text, err := zero.MarshalText()
	require.NoError(t, err)
	_, err = trust.ParseSecretKey(text, nil)
	require.ErrorContains(t, err, "all-zero key")
}

func TestKeyID(t *testing.T) {
	require.Equal(t, "00000000000000AB", trust.KeyID(0xab))
	require.Equal(t, "E7620F1842B4E81F", trust.KeyID(0xE7620F1842B4E81F))
}
