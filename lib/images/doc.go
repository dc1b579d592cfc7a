// Package images owns turning image sources into Proxmox VE templates: the
// Talos Image Factory (ImportTalos) and the official cloud images of the
// traditional operating systems (ImportCloud, ImportClouds: the base VMs of
// Ubuntu, Debian, Arch and NixOS). Imports run through the API only: PVE
// downloads the image itself (no bytes pass through the workstation, except
// NixOS's VMA, converted here and uploaded), the VM is built step by step,
// every step is safe to re-run, a failure removes what it half-made, and a
// marker in the VM's description lets the next run recognise (and repair)
// any state a killed run left behind. What the imports share lives in one
// place (vmImport). An import inspects first, then lists its steps once as
// a lib/plan Plan: a dry run reports that plan's calls and a real run
// executes it, so the two cannot drift apart. Progress is reported as
// lib/plan events; the package prints nothing. The lock file (images.lock,
// kept in git) pins the checksums of factory images, which the factory does
// not publish, and records the build of each cloud image with the checksum
// its publisher signed.
package images
