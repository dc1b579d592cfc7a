package packer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/secrets"
)

// The Windows admin password comes from its SOPS file and goes to Packer
// through the environment; printing it shows nothing.
func ExampleWindowsPassword() {
	id, _ := age.GenerateX25519Identity()
	root, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(root)
	_ = os.WriteFile(filepath.Join(root, ".sops.yaml"), []byte("creation_rules:\n  - age: "+id.Recipient().String()+"\n"), 0o644)
	path := filepath.Join(root, "windows.enc.yaml")
	enc, _ := secrets.Encrypt(path, []byte("windows_admin_password: an-example-password\n"))
	_ = os.WriteFile(path, enc, 0o600)

	pw, err := packer.WindowsPassword(context.Background(), path, secrets.WithIdentities(id))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pw)
	fmt.Println(len(pw.Env(packer.WindowsPasswordKey)) > len("PKR_VAR_windows_admin_password="))
	// Output:
	// <sensitive>
	// true
}
