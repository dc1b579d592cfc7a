// Package cloudimage finds a concrete build of a distribution's official
// cloud image and the publisher's checksum for it, verified: the checksum
// file is fetched, its detached OpenPGP signature checked against the
// publisher's key embedded in this package (keys/<os>.asc) and pinned by
// fingerprint in code, and the image's sum taken from it. "Latest" is always
// resolved to a concrete serial, so a Build never names an alias.
//
// A Resolver answers Latest (the newest build), Build (a known serial, as
// images.lock records it) and Open (the image's bytes, checked against the
// sum at EOF). Errors are typed: *SignatureError (bad signature or a key that
// is not pinned), *MissingEntryError, *UnknownError (OS or release),
// *HTTPError, *ChecksumError, *KeyError; transport failures are lib/netx
// *PhaseErrors naming the host and the phase. Every request runs under
// lib/netx's time limits. The package never prints.
//
// # The publishers, as researched (sources in docs/reference/cloudimage.md)
//
// Ubuntu 24.04 — https://cloud-images.ubuntu.com/releases/noble/release-<serial>/
// (serial YYYYMMDD, sometimes YYYYMMDD.N; "release/" is the alias of the
// newest, the daily builds live under /noble/current/ and are not used).
// The image is ubuntu-24.04-server-cloudimg-amd64.img, a qcow2 despite its
// name. SHA256SUMS lists "<hex> *<file>"; SHA256SUMS.gpg is its armored
// detached signature by the "UEC Image Automatic Signing Key
// <cdimage@ubuntu.com>", fingerprint D2EB 4462 6FDD C30B 513D 5BB7 1A5D 6C4C
// 7DB8 7C81 (Ubuntu's "Verify an image checksum" page prints it; the key is
// in the ubuntu-cloudimage-keyring package). Latest reads the directory
// listing of releases/noble/ and takes the highest release-<serial>/.
//
// Debian 13 — https://cloud.debian.org/images/cloud/trixie/<YYYYMMDD-NNNN>/
// with latest/ as the alias. The image is
// debian-13-genericcloud-amd64-<serial>.qcow2 (latest/ has it without the
// serial), SHA512SUMS lists "<hex>  <file>". Debian publishes no signature
// for its cloud images: there is no SHA512SUMS.sign beside them (a request
// answers 404), unlike the installer images on cdimage.debian.org, whose
// SHA512SUMS.sign the Debian CD signing key makes (debian.org/CD/verify
// covers only those). No other Debian-signed file names the cloud images'
// sums, so for Debian SignedBy is "" and the sum rests on verified TLS to
// cloud.debian.org: the resolver refuses a plain-http base URL for it
// (AllowPlainHTTP is for a loopback stand-in). Latest reads the listing of
// trixie/ and takes the highest <YYYYMMDD-NNNN>/.
//
// Arch — https://geo.mirror.pkgbuild.com/images/v<YYYYMMDD.NNNNNN>/ (the
// arch-boxes release, "<date>.<CI job id>") with latest/ as the alias. The
// image is Arch-Linux-x86_64-cloudimg-<serial>.qcow2 with .SHA256 (one
// "<hex>  <file>" line, written by build.sh's sha256sum before the latest
// symlinks exist, so latest/'s file names the versioned image) and .sig. The
// CI ("build:secure" in .gitlab-ci.yml) runs `gpg --detach-sign` on every
// file of output/, so .sig signs the image itself and .SHA256.sig signs the
// checksum file; the resolver verifies .SHA256.sig (the image's .sig needs
// the image's bytes, which never pass through here). The key is
// "arch-boxes <arch-boxes@archlinux.org>", primary 1B9A 1698 4A4E 8CB4 4871
// 2D2A E0B7 8BF4 326C 6F8F with signing subkey 656E 4C5A C1CC 3B86 E539 D97E
// 3436 35A6 859A 9174 (expires 2027-05-28), published in arch-boxes'
// README; it is not in archlinux-keyring. Latest verifies latest/'s
// .SHA256 and reads the serial from the file name in it.
//
// NixOS 25.11 — Hydra's job nixos/release-25.11/nixos.proxmoxImage.x86_64-linux
// (nixos/release.nix builds config.system.build.VMA of
// virtualisation/proxmox-image.nix, whose hydra-build-products line is
// "file vma …/vzdump-qemu-nixos-<label>.vma.zst"). Latest reads
// https://hydra.nixos.org/job/<job>/latest with Accept: application/json (the
// newest successful build); a build is https://hydra.nixos.org/build/<id>,
// whose buildproducts entry gives the file name and its sha256hash (hex),
// and the image is /build/<id>/download/<productnr>/<name>. NixOS signs no
// image with OpenPGP (its binary cache signs store paths, not Hydra
// products), so SignedBy is "" and the sum comes over verified TLS from
// Hydra; a plain-http base URL is refused. The serial is
// "<label>-<Hydra build id>" (e.g. 25.11.1234.abcdef0-312345678) because a
// label alone does not find the build again.
package cloudimage
