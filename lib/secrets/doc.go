// Package secrets owns the project's secrets: SOPS files encrypted to age
// recipients, in-process. It encrypts honouring the matching creation rule
// of .sops.yaml, decrypts into memory only (verifying the MAC), edits through
// $EDITOR with a private temporary file that never outlives the edit,
// re-keys files when recipients change, rotates data keys, makes age keys,
// and guards the repository: Check finds plaintext secrets in tracked files
// before they are committed.
package secrets
