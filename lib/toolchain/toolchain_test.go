package toolchain_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/toolchain"
)

// fakeSystem is a PATH and an apt-get that installs packages into it.
type fakeSystem struct {
	onPath   map[string]bool
	provides map[string]string // package → command it installs
	aptFails bool
	commands []string
}

func (f *fakeSystem) lookPath(cmd string) (string, error) {
	if f.onPath[cmd] {
		return "/usr/bin/" + cmd, nil
	}
	return "", exec.ErrNotFound
}

func (f *fakeSystem) run(_ context.Context, name string, args ...string) error {
	f.commands = append(f.commands, name+" "+strings.Join(args, " "))
	if f.aptFails {
		return errors.New("exit status 100")
	}
	if len(args) > 0 && args[0] == "install" {
		for _, pkg := range args[1:] {
			if cmd, ok := f.provides[pkg]; ok {
				f.onPath[cmd] = true
			}
		}
	}
	return nil
}

func TestEnsure(t *testing.T) {
	nix := toolchain.Tool{Command: "nix-instantiate", Debian: "nix-bin"}
	lint := toolchain.Tool{Command: "yamllint", Debian: "yamllint"}
	tests := []struct {
		name     string
		onPath   []string
		provides map[string]string
		root     bool
		aptFails bool
		wantCmds []string
		wantErr  string
	}{
		{
			name:   "all present: nothing runs",
			onPath: []string{"apt-get", "nix-instantiate", "yamllint"},
			root:   true,
		},
		{
			name:     "missing as root: apt-get installs only what is missing",
			onPath:   []string{"apt-get", "yamllint"},
			provides: map[string]string{"nix-bin": "nix-instantiate"},
			root:     true,
			wantCmds: []string{"apt-get update -q", "apt-get install -y -q --no-install-recommends nix-bin"},
		},
		{
			name:    "missing without root: says how to install",
			onPath:  []string{"apt-get"},
			wantErr: "missing tools: nix-instantiate (Debian package nix-bin), yamllint (Debian package yamllint); installing needs root on a Debian system; install them with: sudo apt-get install -y nix-bin yamllint",
		},
		{
			name:    "missing on a system without apt-get",
			root:    true,
			wantErr: "installing needs root on a Debian system",
		},
		{
			name:     "package installed but command still absent",
			onPath:   []string{"apt-get", "yamllint"},
			root:     true,
			wantCmds: []string{"apt-get update -q", "apt-get install -y -q --no-install-recommends nix-bin"},
			wantErr:  "missing tools: nix-instantiate (Debian package nix-bin); apt-get installed the packages but the commands are still not on PATH",
		},
		{
			name:     "apt-get fails",
			onPath:   []string{"apt-get", "yamllint"},
			root:     true,
			aptFails: true,
			wantCmds: []string{"apt-get update -q"},
			wantErr:  "apt-get update: exit status 100",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &fakeSystem{onPath: map[string]bool{}, provides: tt.provides, aptFails: tt.aptFails}
			for _, c := range tt.onPath {
				sys.onPath[c] = true
			}
			err := toolchain.Ensure(context.Background(), []toolchain.Tool{nix, lint},
				toolchain.WithLookPath(sys.lookPath), toolchain.WithRunner(sys.run), toolchain.WithRoot(tt.root))
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
			require.Equal(t, tt.wantCmds, sys.commands)
		})
	}
}

func TestMissingErrorIsTyped(t *testing.T) {
	err := toolchain.Ensure(context.Background(), []toolchain.Tool{{Command: "absent", Debian: "absent-pkg"}},
		toolchain.WithLookPath(func(string) (string, error) { return "", exec.ErrNotFound }))
	var missing *toolchain.MissingError
	require.ErrorAs(t, err, &missing)
	require.Equal(t, "absent", missing.Tools[0].Command)
}

func ExampleEnsure() {
	// On a machine without the tool and without root, Ensure says what to run.
	err := toolchain.Ensure(context.Background(),
		[]toolchain.Tool{{Command: "nix-instantiate", Debian: "nix-bin"}},
		toolchain.WithRoot(false),
		toolchain.WithLookPath(func(string) (string, error) { return "", exec.ErrNotFound }))
	fmt.Println(err)
	// Output:
	// missing tools: nix-instantiate (Debian package nix-bin); installing needs root on a Debian system; install them with: sudo apt-get install -y nix-bin
}
