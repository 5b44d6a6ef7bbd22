package ocitest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Fake is a minimal OCI registry in memory (an httptest server on
// 127.0.0.1) that misbehaves on demand, for the hostile cases a real
// registry does not produce: wrong content, wrong sizes, error statuses,
// hanging. It serves one repository, any name, without authentication.
type Fake struct {
	*httptest.Server
	// Host is "127.0.0.1:PORT".
	Host string

	mu        sync.Mutex
	manifests map[string]fakeManifest // by digest
	tags      map[string]string       // tag -> digest
	blobs     map[string][]byte       // by digest

	// Misbehaviour, set before the requests it should affect.

	// Status, when not 0, answers every request under /v2/ with it.
	Status int
	// Hang blocks every request under /v2/ until the client gives up.
	Hang bool
	// HangBlob sends half of a blob, then blocks until the client gives up.
	HangBlob bool
	// ServeBlob serves these bytes for a digest instead of the blob's.
	ServeBlob map[string][]byte
	// Referrers serves the referrers API (GET /v2/<repo>/referrers/<digest>)
	// from the stored manifests' subjects. Without it, the API answers 404,
	// as distribution 2.8 does, and clients use the tag fallback.
	Referrers bool
	// Requests counts the requests served.
	Requests int
}

type fakeManifest struct {
	mediaType string
	data      []byte
}

// NewFake starts a fake registry; Close stops it.
func NewFake() *Fake {
	f := &Fake{manifests: map[string]fakeManifest{}, tags: map[string]string{}, blobs: map[string][]byte{}, ServeBlob: map[string][]byte{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	f.Host = strings.TrimPrefix(f.Server.URL, "http://")
	return f
}

// Digest returns "sha256:<hex>" of b.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// PutBlob stores b and returns its digest.
func (f *Fake) PutBlob(b []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := Digest(b)
	f.blobs[d] = b
	return d
}

// PutManifest stores the manifest b of mediaType, tagged tag unless it is
// "", and returns its digest.
func (f *Fake) PutManifest(tag, mediaType string, b []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := Digest(b)
	f.manifests[d] = fakeManifest{mediaType, b}
	if tag != "" {
		f.tags[tag] = d
	}
	return d
}

// DeleteBlob removes the blob digest.
func (f *Fake) DeleteBlob(digest string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blobs, digest)
}

// Tag points tag at digest (which need not exist).
func (f *Fake) Tag(tag, digest string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tags[tag] = digest
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.Requests++
	status, hang, hangBlob := f.Status, f.Hang, f.HangBlob
	f.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"errors":[{"code":"FAKE","message":"fake status %d"}]}`, status)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/v2/")
	if p == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case strings.Contains(p, "/manifests/"):
		ref := p[strings.LastIndex(p, "/manifests/")+len("/manifests/"):]
		d := ref
		if !strings.HasPrefix(ref, "sha256:") {
			d = f.tags[ref]
		}
		m, ok := f.manifests[d]
		if !ok {
			notFound(w, "MANIFEST_UNKNOWN")
			return
		}
		w.Header().Set("Content-Type", m.mediaType)
		w.Header().Set("Docker-Content-Digest", d)
		w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
		if r.Method == http.MethodGet {
			w.Write(m.data)
		}
	case strings.Contains(p, "/blobs/"):
		d := p[strings.LastIndex(p, "/blobs/")+len("/blobs/"):]
		b, ok := f.blobs[d]
		if sb, over := f.ServeBlob[d]; over {
			b, ok = sb, true
		}
		if !ok {
			notFound(w, "BLOB_UNKNOWN")
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.Method != http.MethodGet {
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			return
		}
		if hangBlob {
			w.Write(b[:len(b)/2])
			w.(http.Flusher).Flush()
			f.mu.Unlock()
			<-r.Context().Done()
			f.mu.Lock()
			return
		}
		w.Write(b)
	case strings.Contains(p, "/referrers/") && f.Referrers:
		d := p[strings.LastIndex(p, "/referrers/")+len("/referrers/"):]
		refs := []map[string]any{}
		for md, m := range f.manifests {
			var v struct {
				ArtifactType string `json:"artifactType"`
				Subject      *struct {
					Digest string `json:"digest"`
				} `json:"subject"`
			}
			if json.Unmarshal(m.data, &v) == nil && v.Subject != nil && v.Subject.Digest == d {
				refs = append(refs, map[string]any{"mediaType": m.mediaType, "digest": md, "size": len(m.data), "artifactType": v.ArtifactType})
			}
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		json.NewEncoder(w).Encode(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": refs})
	case strings.HasSuffix(p, "/tags/list"):
		tags := []string{}
		for t := range f.tags {
			tags = append(tags, t)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"name": strings.TrimSuffix(p, "/tags/list"), "tags": tags})
	default:
		notFound(w, "UNSUPPORTED")
	}
}

func notFound(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"not found"}]}`, code)
}
