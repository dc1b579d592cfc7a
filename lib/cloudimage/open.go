package cloudimage

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"

	"github.com/wdiazux/infra/lib/netx"
)

// Open streams a build's image. The stream is a transfer under lib/netx's
// limits (no overall deadline, only Idle); a Read at the end returns an error
// wrapping ErrChecksumMismatch (a *ChecksumError) when the bytes differ from
// b.Checksum, so a caller that reads to io.EOF has verified them.
func (r *Resolver) Open(ctx context.Context, b Build) (io.ReadCloser, error) {
	var h hash.Hash
	switch b.Algorithm {
	case SHA256:
		h = sha256.New()
	case SHA512:
		h = sha512.New()
	default:
		return nil, fmt.Errorf("cloud image: %s %s build %s: algorithm %q is neither sha256 nor sha512; use a Build from Latest or Build", b.OS, b.Release, b.Serial, b.Algorithm)
	}
	if len(b.Checksum) != hexLen(b.Algorithm) || b.URL == "" {
		return nil, fmt.Errorf("cloud image: %s %s build %s: no image URL or checksum; use a Build from Latest or Build", b.OS, b.Release, b.Serial)
	}
	req, err := http.NewRequestWithContext(netx.Transfer(ctx, 0), http.MethodGet, b.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("cloud image: %s: image URL %q: %w", b.OS, b.URL, err)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cloud image: %s: GET %s (image): %w", b.OS, b.URL, netx.WithoutURL(err))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &HTTPError{OS: b.OS, URL: b.URL, What: "image", StatusCode: resp.StatusCode, Status: resp.Status}
	}
	return &verifying{body: resp.Body, h: h, b: b}, nil
}

// verifying hashes what it reads and checks the sum at EOF.
type verifying struct {
	body io.ReadCloser
	h    hash.Hash
	b    Build
	n    int64
	err  error
}

func (v *verifying) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.body.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	switch {
	case err == io.EOF:
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.b.Checksum {
			v.err = &ChecksumError{URL: v.b.URL, Algorithm: v.b.Algorithm, Want: v.b.Checksum, Got: got, Bytes: v.n}
			return n, v.err
		}
		v.err = io.EOF
	case err != nil:
		v.err = fmt.Errorf("cloud image: %s: GET %s (image) after %d bytes: %w", v.b.OS, v.b.URL, v.n, netx.WithoutURL(err))
		return n, v.err
	}
	return n, err
}

func (v *verifying) Close() error { return v.body.Close() }
