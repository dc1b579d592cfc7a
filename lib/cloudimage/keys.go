package cloudimage

import (
	"bytes"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// The publishers' signing keys, armored, as published (see doc.go for the
// sources). Each is accepted only with the fingerprint pinned in
// PinnedFingerprints.
var (
	//go:embed keys/ubuntu.asc
	ubuntuKey []byte
	//go:embed keys/arch.asc
	archKey []byte
)

// Pinned fingerprints (primary keys, upper-case hex).
const (
	// UbuntuFingerprint is "UEC Image Automatic Signing Key
	// <cdimage@ubuntu.com>", which signs SHA256SUMS on cloud-images.ubuntu.com.
	UbuntuFingerprint = "D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81"
	// ArchFingerprint is "arch-boxes <arch-boxes@archlinux.org>", whose
	// signing subkey 656E4C5AC1CC3B86E539D97E343635A6859A9174 (expires
	// 2027-05-28) signs every arch-boxes release file.
	ArchFingerprint = "1B9A16984A4E8CB448712D2AE0B78BF4326C6F8F"
)

// PinnedFingerprints returns the fingerprints pinned for an OS's signing
// keys; nil for a publisher that signs nothing (Debian's cloud images, NixOS).
func PinnedFingerprints(os string) []string {
	switch os {
	case OSUbuntu:
		return []string{UbuntuFingerprint}
	case OSArch:
		return []string{ArchFingerprint}
	}
	return nil
}

// EmbeddedKey returns the armored key the repository carries for an OS, nil
// for a publisher that signs nothing.
func EmbeddedKey(os string) []byte {
	switch os {
	case OSUbuntu:
		return bytes.Clone(ubuntuKey)
	case OSArch:
		return bytes.Clone(archKey)
	}
	return nil
}

// Fingerprint returns a key's primary fingerprint as upper-case hex.
func Fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// normalizeFingerprint drops spaces and upper-cases, so a fingerprint can be
// written as the publishers print it ("D2EB 4462 …").
func normalizeFingerprint(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, " ", ""))
}

// loadKeyring reads armored keys and refuses any whose fingerprint is not
// pinned, and a pin without its key.
func loadKeyring(os, source string, armored []byte, pins []string) (openpgp.EntityList, error) {
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, &KeyError{OS: os, Source: source, Err: fmt.Errorf("not an armored OpenPGP public key: %w", err)}
	}
	got := make([]string, len(el))
	for i, e := range el {
		got[i] = Fingerprint(e)
	}
	for _, fp := range got {
		if !slices.Contains(pins, fp) {
			return nil, &KeyError{OS: os, Source: source, Want: pins, Got: got}
		}
	}
	for _, p := range pins {
		if !slices.Contains(got, p) {
			return nil, &KeyError{OS: os, Source: source, Want: pins, Got: got}
		}
	}
	return el, nil
}

// verifyDetached checks a detached signature (armored or binary) over data
// against the keyring and returns the signer's primary fingerprint.
func verifyDetached(keys openpgp.EntityList, data, sig []byte) (signer, issuer string, err error) {
	raw := sig
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN")) {
		var e *openpgp.Entity
		e, err = openpgp.CheckArmoredDetachedSignature(keys, bytes.NewReader(data), bytes.NewReader(sig), nil)
		if e != nil && err == nil {
			return Fingerprint(e), "", nil
		}
		raw = nil
	} else {
		var e *openpgp.Entity
		e, err = openpgp.CheckDetachedSignature(keys, bytes.NewReader(data), bytes.NewReader(sig), nil)
		if e != nil && err == nil {
			return Fingerprint(e), "", nil
		}
	}
	if err == nil {
		err = errors.New("no signature")
	}
	issuer = signatureIssuer(raw, sig)
	if errors.Is(err, pgperrors.ErrUnknownIssuer) {
		return "", issuer, fmt.Errorf("%w: %w", ErrUnknownKey, err)
	}
	return "", issuer, fmt.Errorf("%w: %w", ErrBadSignature, err)
}

// signatureIssuer names the key a signature says it was made by, for the
// error message ("" when it cannot be read).
func signatureIssuer(raw, armoredSig []byte) string {
	var r io.Reader
	if raw != nil {
		r = bytes.NewReader(raw)
	} else {
		b, err := armorDecode(armoredSig)
		if err != nil {
			return ""
		}
		r = b
	}
	p, err := packet.Read(r)
	if err != nil {
		return ""
	}
	s, ok := p.(*packet.Signature)
	if !ok {
		return ""
	}
	if len(s.IssuerFingerprint) > 0 {
		return strings.ToUpper(hex.EncodeToString(s.IssuerFingerprint))
	}
	if s.IssuerKeyId != nil {
		return fmt.Sprintf("%016X", *s.IssuerKeyId)
	}
	return ""
}

func armorDecode(b []byte) (io.Reader, error) {
	blk, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return blk.Body, nil
}
