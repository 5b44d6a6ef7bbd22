package vitplug_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

func TestAddSignature(t *testing.T) {
	p, z := pack(t, pluginDir(t, map[string]string{"files/a.txt": "a"}))

	var signed bytes.Buffer
	require.NoError(t, vitplug.AddSignature(bytes.NewReader(z), int64(len(z)), &signed, keyID1, []byte(sig1), vitplug.Limits{}))
	q, err := vitplug.Open(bytes.NewReader(signed.Bytes()), int64(signed.Len()), vitplug.Limits{})
	require.NoError(t, err)
	require.Equal(t, p.ContentID(), q.ContentID())
	require.Equal(t, p.Checksums(), q.Checksums())
	require.Equal(t, map[string][]byte{keyID1: []byte(sig1)}, q.Signatures())
	require.Empty(t, p.Signatures(), "WithSignature changed the original")

	// A second key adds a second signature; the same key replaces its own.
	var twice bytes.Buffer
	require.NoError(t, vitplug.AddSignature(bytes.NewReader(signed.Bytes()), int64(signed.Len()), &twice, keyID2, []byte("second"), vitplug.Limits{}))
	r, err := vitplug.Open(bytes.NewReader(twice.Bytes()), int64(twice.Len()), vitplug.Limits{})
	require.NoError(t, err)
	require.Equal(t, p.ContentID(), r.ContentID())
	r, err = r.WithSignature(keyID1, []byte("replaced"))
	require.NoError(t, err)
	require.Equal(t, map[string][]byte{keyID1: []byte("replaced"), keyID2: []byte("second")}, r.Signatures())
	checkPackage(t, r)

	// Signatures are entries like the others, sorted.
	var b bytes.Buffer
	_, err = r.WriteTo(&b)
	require.NoError(t, err)
	i1 := bytes.Index(b.Bytes(), []byte("_vitte/signatures/"+keyID2))
	i2 := bytes.Index(b.Bytes(), []byte("_vitte/signatures/"+keyID1))
	require.True(t, 0 < i1 && i1 < i2)
}

func TestPackage_WithSignature_Errors(t *testing.T) {
	p, _ := pack(t, pluginDir(t, nil))
	tests := []struct {
		name  string
		keyID string
		sig   []byte
		err   error
	}{
		{name: "lower case", keyID: "e7620f1842b4e81f", sig: []byte(sig1), err: vitplug.ErrReserved},
		{name: "short", keyID: "E7620F18", sig: []byte(sig1), err: vitplug.ErrReserved},
		{name: "path", keyID: "../../E7620F1842", sig: []byte(sig1), err: vitplug.ErrReserved},
		{name: "empty", keyID: "", sig: []byte(sig1), err: vitplug.ErrReserved},
		{name: "too large", keyID: keyID1, sig: make([]byte, vitplug.MaxSignatureSize+1), err: vitplug.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := p.WithSignature(tc.keyID, tc.sig)
			require.Nil(t, q)
			require.ErrorIs(t, err, tc.err)
			var ee *vitplug.EntryError
			require.True(t, errors.As(err, &ee))
			require.Equal(t, "_vitte/signatures/"+tc.keyID+".minisig", ee.Entry)
		})
	}

	// The limits the package was read with hold for its signatures too.
	z := validZip(t)
	small, err := vitplug.Open(bytes.NewReader(z), int64(len(z)), vitplug.Limits{MaxEntries: 3})
	require.NoError(t, err)
	_, err = small.WithSignature(keyID1, []byte(sig1))
	require.ErrorIs(t, err, vitplug.ErrTooLarge)

	var out bytes.Buffer
	err = vitplug.AddSignature(bytes.NewReader(z[:10]), 10, &out, keyID1, []byte(sig1), vitplug.Limits{})
	require.ErrorIs(t, err, vitplug.ErrCorrupt)
	require.Zero(t, out.Len())
}

func TestPackage_copies(t *testing.T) {
	p, _ := pack(t, pluginDir(t, map[string]string{"files/a.txt": "a"}))
	p, err := p.WithSignature(keyID1, []byte(sig1))
	require.NoError(t, err)
	id := p.ContentID()

	p.Module()[0] = 'X'
	data, _ := p.File("files/a.txt")
	data[0] = 'X'
	p.Checksums()[0] = 'X'
	p.Signatures()[keyID1][0] = 'X'
	p.Manifest().Plugin.Name = "changed"

	require.Equal(t, wasmHeader, p.Module())
	data, _ = p.File("files/a.txt")
	require.Equal(t, "a", string(data))
	require.Equal(t, id, vitplug.ContentID(p.Checksums()))
	require.Equal(t, sig1, string(p.Signatures()[keyID1]))
	require.Equal(t, "hello", p.Manifest().Plugin.Name)
}
