// Package secrets owns the project's secrets: SOPS files encrypted to age
// recipients, in-process. It encrypts honouring the matching creation rule
// of .sops.yaml, decrypts into memory only (verifying the MAC), edits through
// $EDITOR with a private temporary file that never outlives the edit,
// re-keys files when recipients change, rotates data keys, makes age keys,
// puts public keys in .sops.yaml (SetRecipient), and guards the repository:
// Check finds plaintext secrets in tracked files before they are committed,
// and InstallHook installs a git pre-commit hook running, in order, the
// commands its caller names (the first a program of the caller's that runs
// Check with WithStaged; a formatter's step refuses the commit when it
// changed files).
// KeyFile is where sops and this package look for the age key.
//
// Nothing here replaces a file with ciphertext its caller cannot open: every
// operation that writes ciphertext in place of a file first decrypts the
// result in memory with the caller's age key and compares it with what was
// meant to be written (*UnreadableResultError otherwise), and none encrypts
// to the placeholder recipients the repository ships (*PlaceholderError).
// A damaged SOPS file is named by file and line (*DamageError).
package secrets
