// Package images owns turning image sources into Proxmox VE templates. Today
// the source is the Talos Image Factory (TalosImport); the cloud images of
// the traditional operating systems join later. Imports run through the API
// only: PVE downloads the image itself (no bytes pass through the
// workstation), the template is built step by step, every step is safe to
// re-run, a failure removes what it half-made, and a marker in the template's
// description lets the next run recognise (and repair) any state a killed
// run left behind. Checksums of factory images, which the factory does not
// publish, are pinned on first use in a lock file kept in git.
package images
