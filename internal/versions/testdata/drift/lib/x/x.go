package x

// Image is the installer image this code pins.
const Image = "ghcr.io/siderolabs/installer:v1.12.6"

// Kubelet agrees with the inventory.
const Kubelet = "ghcr.io/siderolabs/kubelet:v1.35.4"
