// Package distsim is a loopback stand-in for the four sites lib/cloudimage
// reads: cloud-images.ubuntu.com, cloud.debian.org, the Arch Linux mirror's
// images/ tree and Hydra. Each site is served under its own prefix (BaseURL)
// with the publisher's own paths and file names below it, so a Resolver
// pointed at it (ResolverOptions) walks exactly the real layout:
//
//	/ubuntu/releases/noble/release-<serial>/ubuntu-24.04-server-cloudimg-amd64.img, SHA256SUMS, SHA256SUMS.gpg
//	/debian/images/cloud/trixie/<serial>/debian-13-genericcloud-amd64-<serial>.qcow2, SHA512SUMS
//	/arch/images/v<serial>/Arch-Linux-x86_64-cloudimg-<serial>.qcow2{,.SHA256,.sig,.SHA256.sig}, latest/
//	/nixos/job/nixos/release-25.11/nixos.proxmoxImage.x86_64-linux/latest, /nixos/build/<id>[/download/1/<file>]
//
// Images are small valid qcow2 files (lib/diskimage's writer) and, for NixOS,
// a zstd-compressed VMA (internal/vmagen's writer) holding one disk. Checksum files
// are signed with an OpenPGP key generated when the Sim starts (Key,
// Fingerprint); Debian and NixOS stay unsigned as their publishers are.
//
// Publish adds a newer build; SetTamper makes a site misbehave (checksum file
// changed after signing, signature by another key, image missing from the
// checksum file, image bytes that do not match their sum); WithBandwidth
// limits each connection's download rate; Requests records what was asked.
// It serves HTTP on 127.0.0.1, or HTTPS with WithTLS.
package distsim
