package secrets_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/wdiazux/infra/lib/secrets"
)

// Encrypt a Kubernetes Secret as the matching .sops.yaml rule says (only
// stringData becomes ciphertext), then decrypt it in memory with a key the
// caller holds.
func Example() {
	dir, _ := os.MkdirTemp("", "secrets-example")
	defer os.RemoveAll(dir)
	id, _ := age.GenerateX25519Identity()
	conf := "stores:\n  yaml:\n    indent: 2\ncreation_rules:\n" +
		"  - path_regex: \\.enc\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: " + id.Recipient().String() + "\n"
	_ = os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(conf), 0o644)
	path := filepath.Join(dir, "nas.enc.yaml")

	enc, err := secrets.Encrypt(path, []byte("kind: Secret\nstringData:\n  password: hunter2\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("kind readable:", strings.Contains(string(enc), "kind: Secret"))
	fmt.Println("password readable:", strings.Contains(string(enc), "hunter2"))

	plain, err := secrets.Decrypt(path, enc, secrets.WithIdentities(id))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(plain))
	// Output:
	// kind readable: true
	// password readable: false
	// kind: Secret
	// stringData:
	//   password: hunter2
}

// Check finds a Secret manifest committed in plaintext, and names the line.
func ExampleCheck() {
	dir, _ := os.MkdirTemp("", "secrets-check")
	defer os.RemoveAll(dir)
	manifest := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: grafana\nstringData:\n  admin-password: changeme\n"
	_ = os.WriteFile(filepath.Join(dir, "grafana.yaml"), []byte(manifest), 0o644)

	rep, err := secrets.Check(context.Background(), dir, secrets.WithIdentities())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Path, f.Line, f.Rule)
	}
	// Output:
	// grafana.yaml 6 plaintext-secret-manifest
}
