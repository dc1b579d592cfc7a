package cloudimage

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, wrapped with the facts by the typed errors below.
var (
	// ErrUnknownOS is an OS this package has no publisher for.
	ErrUnknownOS = errors.New("unknown OS")
	// ErrUnknownRelease is a release of a known OS this package does not
	// resolve.
	ErrUnknownRelease = errors.New("unknown release")
	// ErrBadSerial is a build name that does not have the publisher's form.
	ErrBadSerial = errors.New("malformed build serial")
	// ErrChecksumMismatch is an image whose bytes differ from the
	// publisher's sum.
	ErrChecksumMismatch = errors.New("checksum mismatch")
	// ErrBadSignature is a checksum file whose detached signature does not
	// verify against the pinned key(s).
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownKey is a signature made by a key that is not pinned.
	ErrUnknownKey = errors.New("signed by a key that is not pinned")
	// ErrMissingEntry is a checksum file without a line for the image.
	ErrMissingEntry = errors.New("image missing from the checksum file")
	// ErrInsecureSource is a publisher that signs nothing, asked to be
	// read over plain HTTP: without a signature the sum rests on TLS.
	ErrInsecureSource = errors.New("unsigned source over plain HTTP")
)

// UnknownError is an OS or release the resolver does not know.
type UnknownError struct {
	OS, Release string
	// Known lists what would have been accepted.
	Known []string
	// Err is ErrUnknownOS or ErrUnknownRelease.
	Err error
}

// Error names the input and what is accepted.
func (e *UnknownError) Error() string {
	if errors.Is(e.Err, ErrUnknownOS) {
		return fmt.Sprintf("cloud image: %v %q: known OSes are %s; fix the images: table in homelab.yaml", e.Err, e.OS, strings.Join(e.Known, ", "))
	}
	return fmt.Sprintf("cloud image: %s: %v %q: this package resolves %s; fix images.%s.release in homelab.yaml",
		e.OS, e.Err, e.Release, strings.Join(e.Known, ", "), e.OS)
}

// Unwrap returns the sentinel.
func (e *UnknownError) Unwrap() error { return e.Err }

// SignatureError is a checksum file whose detached OpenPGP signature did not
// verify: the file was changed after signing, the signature is damaged, or it
// was made by a key that is not pinned.
type SignatureError struct {
	OS, Release string
	// URL is the checksum file, SignatureURL its signature.
	URL, SignatureURL string
	// Pinned are the fingerprints the signature was checked against.
	Pinned []string
	// Issuer is the key the signature names (fingerprint or key ID), "" if
	// it names none.
	Issuer string
	// Err is ErrBadSignature or ErrUnknownKey, wrapping the OpenPGP cause.
	Err error
}

// Error names the files, the keys and what to do.
func (e *SignatureError) Error() string {
	issuer := ""
	if e.Issuer != "" {
		issuer = " (signature names key " + e.Issuer + ")"
	}
	return fmt.Sprintf("cloud image: %s %s: %s does not verify %s against the pinned key %s%s: %v; "+
		"nothing from this build is trusted: check the publisher's announcements for a key change, "+
		"and if the key really changed, update the pinned key and fingerprint after checking them out of band",
		e.OS, e.Release, e.SignatureURL, e.URL, strings.Join(e.Pinned, ", "), issuer, e.Err)
}

// Unwrap returns the cause.
func (e *SignatureError) Unwrap() error { return e.Err }

// MissingEntryError is a (verified) checksum file without the image.
type MissingEntryError struct {
	OS, Release, Serial string
	URL, File           string
	// Files are the names the checksum file does list (at most 10).
	Files []string
}

// Error names the file and the image.
func (e *MissingEntryError) Error() string {
	return fmt.Sprintf("cloud image: %s %s build %s: %s has no entry for %s (it lists %s); "+
		"the publisher renamed or withdrew the image: choose another build",
		e.OS, e.Release, e.Serial, e.URL, e.File, strings.Join(e.Files, ", "))
}

// Unwrap returns ErrMissingEntry.
func (e *MissingEntryError) Unwrap() error { return ErrMissingEntry }

// HTTPError is an answer other than 200 from a publisher.
type HTTPError struct {
	OS, URL string
	// What is being fetched: "checksum file", "signature", "image", ...
	What       string
	StatusCode int
	Status     string
}

// Error names the request and the answer.
func (e *HTTPError) Error() string {
	hint := "the publisher's site answered with an error: retry later"
	if e.StatusCode == 404 || e.StatusCode == 410 {
		hint = "the publisher does not serve this (any more): choose another build"
	}
	return fmt.Sprintf("cloud image: %s: GET %s (%s): %s; %s", e.OS, e.URL, e.What, e.Status, hint)
}

// ChecksumError is an image whose bytes did not hash to the publisher's sum.
type ChecksumError struct {
	URL, Algorithm, Want, Got string
	Bytes                     int64
}

// Error names the image and both sums.
func (e *ChecksumError) Error() string {
	return fmt.Sprintf("cloud image: %s: %v: %d bytes hash to %s:%s, the publisher's sum is %s:%s; "+
		"the download was damaged or the file was replaced: do not use it, retry",
		e.URL, ErrChecksumMismatch, e.Bytes, e.Algorithm, e.Got, e.Algorithm, e.Want)
}

// Unwrap returns ErrChecksumMismatch.
func (e *ChecksumError) Unwrap() error { return ErrChecksumMismatch }

// KeyError is a key whose fingerprint is not the pinned one.
type KeyError struct {
	OS string
	// Source says where the key came from ("keys/ubuntu.asc", "WithKey").
	Source string
	Want   []string
	Got    []string
	Err    error
}

// Error names the key source and the fingerprints.
func (e *KeyError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cloud image: %s: key %s: %v", e.OS, e.Source, e.Err)
	}
	return fmt.Sprintf("cloud image: %s: key %s has fingerprint(s) %s, pinned are %s; a key whose fingerprint is not pinned is refused",
		e.OS, e.Source, strings.Join(e.Got, ", "), strings.Join(e.Want, ", "))
}

// Unwrap returns the cause.
func (e *KeyError) Unwrap() error { return e.Err }
