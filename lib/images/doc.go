// Package images owns turning image sources into Proxmox VE templates. Today
// the source is the Talos Image Factory (ImportTalos); the cloud images of
// the traditional operating systems join later. Imports run through the API
// only: PVE downloads the image itself (no bytes pass through the
// workstation), the template is built step by step, every step is safe to
// re-run, a failure removes what it half-made, and a marker in the template's
// description lets the next run recognise (and repair) any state a killed
// run left behind. An import inspects first, then lists its steps once as a
// lib/plan Plan: a dry run reports that plan's calls and a real run executes
// it, so the two cannot drift apart. Progress is reported as lib/plan events;
// the package prints nothing. Checksums of factory images, which the factory
// does not publish, are pinned on first use in a lock file kept in git.
package images
