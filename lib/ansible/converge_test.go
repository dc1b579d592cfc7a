package ansible_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/rootfs"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/ansible"
	"github.com/wdiazux/infra/lib/inventory"
)

// TestConvergeIntoDebian runs the baseline and template cleanup roles for
// real, into a debootstrapped Debian root through Ansible's chroot
// connection, checks what they did, and runs them again to prove nothing
// changes.
func TestConvergeIntoDebian(t *testing.T) {
	testtool.Require(t, "debootstrap")
	testtool.Require(t, "ansible-playbook")
	if os.Geteuid() != 0 {
		if testtool.InCI() {
			t.Fatal("the converge test needs root (debootstrap, chroot, mounts); CI runs as root")
		}
		t.Skip("the converge test needs root (debootstrap, chroot, mounts)")
	}
	if testing.Short() {
		t.Skip("debootstraps Debian and installs packages into it")
	}
	cache, err := toolchain.CacheDir()
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cached, suite, err := rootfs.Ensure(t.Context(), cache, []string{"trixie", "bookworm"}, log)
	require.NoError(t, err)
	t.Logf("converging into Debian %s", suite)

	root := filepath.Join(t.TempDir(), "root")
	require.NoError(t, os.Mkdir(root, 0o755))
	require.NoError(t, rootfs.Copy(t.Context(), cached, root))
	unmount, err := rootfs.Mount(root)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, unmount()) })

	inv, err := inventory.Load(filepath.Join("..", "..", "homelab.yaml"))
	require.NoError(t, err)
	hosts := filepath.Join(t.TempDir(), "hosts.ini")
	require.NoError(t, os.WriteFile(hosts, []byte("[debian]\n"+root+" ansible_connection=community.general.chroot\n"), 0o644))
	homelab, err := filepath.Abs(filepath.Join("..", "..", "homelab.yaml"))
	require.NoError(t, err)
	r := ansible.New(filepath.Join("..", "..", "ansible"), ansible.WithOutput(testWriter{t}))
	opts := ansible.RunOptions{Inventory: hosts, ExtraVars: map[string]string{"homelab_file": homelab}}
	in := func(args ...string) string {
		t.Helper()
		out, err := rootfs.Run(t.Context(), root, args...)
		require.NoError(t, err)
		return out
	}
	file := func(path string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(root, path))
		require.NoError(t, err)
		return string(data)
	}

	// Day 1: the baseline.
	recaps, err := r.Run(t.Context(), "day1_debian_baseline", opts)
	require.NoError(t, err)
	require.Len(t, recaps, 1)
	require.Positive(t, recaps[0].Changed)

	user := inv.User
	require.Contains(t, file("etc/passwd"), user.Name+":x:")
	require.Contains(t, in("getent", "passwd", user.Name), ":/home/"+user.Name+":"+user.Shell)
	require.Contains(t, in("id", "-nG", user.Name), "sudo")
	require.Equal(t, user.SSHPublicKeys[0]+"\n", file("home/"+user.Name+"/.ssh/authorized_keys"))
	sudoers := "etc/sudoers.d/90-infra-" + user.Name
	require.Contains(t, file(sudoers), user.Name+" ALL=(ALL:ALL) NOPASSWD: ALL")
	fi, err := os.Stat(filepath.Join(root, sudoers))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o440), fi.Mode().Perm())
	in("visudo", "-c")

	// sshd's effective settings (it needs its privilege separation
	// directory, which systemd makes at boot).
	require.NoError(t, os.MkdirAll(filepath.Join(root, "run", "sshd"), 0o755))
	effective := in("/usr/sbin/sshd", "-T", "-C", "user="+user.Name+",host=client,addr=10.10.2.100")
	for _, want := range []string{"permitrootlogin no", "passwordauthentication no", "kbdinteractiveauthentication no", "pubkeyauthentication yes",
		"ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com",
		"macs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com"} {
		require.Contains(t, effective, want+"\n")
	}

	link, err := os.Readlink(filepath.Join(root, "etc", "localtime"))
	require.NoError(t, err)
	require.Equal(t, "/usr/share/zoneinfo/"+user.Timezone, link)
	require.Equal(t, "LANG="+user.Locale+"\n", file("etc/default/locale"))
	require.Contains(t, in("locale", "-a"), strings.ReplaceAll(user.Locale, "UTF-8", "utf8")+"\n")
	require.Contains(t, file("etc/systemd/timesyncd.conf.d/50-infra.conf"), "NTP="+strings.Join(inv.Network.NTPServers, " "))
	require.Contains(t, file("etc/apt/apt.conf.d/20auto-upgrades"), `APT::Periodic::Unattended-Upgrade "1";`)
	require.Contains(t, file("etc/cloud/cloud.cfg.d/90-infra.cfg"), "ssh_pwauth: false")

	require.Contains(t, in("dpkg-query", "-W", "-f", "${Status}", "qemu-guest-agent"), "install ok installed")
	for _, svc := range []string{"qemu-guest-agent", "ssh", "systemd-timesyncd"} {
		state := strings.TrimSpace(runAllowExit(t, root, "systemctl", "is-enabled", svc))
		require.Contains(t, []string{"enabled", "static"}, state, "%s is enabled for the next boot", svc)
	}

	// The template build: baseline again, then the cleanup.
	recaps, err = r.Run(t.Context(), "packer_provision", opts)
	require.NoError(t, err)
	require.Len(t, recaps, 1)
	require.Empty(t, file("etc/machine-id"), "every clone gets its own machine ID")
	keys, err := filepath.Glob(filepath.Join(root, "etc", "ssh", "ssh_host_*"))
	require.NoError(t, err)
	require.Empty(t, keys, "every clone gets its own SSH host keys")
	require.NoFileExists(t, filepath.Join(root, "root", ".bash_history"))
	debs, err := filepath.Glob(filepath.Join(root, "var", "cache", "apt", "archives", "*.deb"))
	require.NoError(t, err)
	require.Empty(t, debs)
	require.NoError(t, filepath.Walk(filepath.Join(root, "var", "log"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			t.Errorf("%s still holds %d bytes", p, fi.Size())
		}
		return err
	}))

	// Idempotence: the same build again changes nothing.
	recaps, err = r.Run(t.Context(), "packer_provision", opts)
	require.NoError(t, err)
	require.Len(t, recaps, 1)
	require.Zero(t, recaps[0].Changed, "a second run reports changed=0")
	require.Zero(t, recaps[0].Failed)
}

// runAllowExit runs a command in the root and returns its output whatever
// its exit status (systemctl is-enabled exits non-zero for static units).
func runAllowExit(t *testing.T, root string, args ...string) string {
	t.Helper()
	out, _ := rootfs.Run(t.Context(), root, args...)
	return out
}

// testWriter sends the tools' output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
