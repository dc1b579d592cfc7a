package rootfs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// Mirror returns the Debian mirror the machine's apt uses, from
// /etc/apt/sources.list.d/*.sources (deb822) or /etc/apt/sources.list.
func Mirror() (string, error) {
	var candidates []string
	if files, err := filepath.Glob("/etc/apt/sources.list.d/*.sources"); err == nil {
		candidates = append(candidates, files...)
	}
	candidates = append(candidates, "/etc/apt/sources.list")
	for _, file := range candidates {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			switch {
			case len(fields) >= 2 && fields[0] == "URIs:" && strings.HasSuffix(strings.TrimSuffix(fields[1], "/"), "/debian"):
				f.Close()
				return fields[1], nil
			case len(fields) >= 3 && fields[0] == "deb" && strings.HasSuffix(strings.TrimSuffix(fields[1], "/"), "/debian"):
				f.Close()
				return fields[1], nil
			}
		}
		f.Close()
	}
	return "", errors.New("no Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list")
}

// Ensure returns a minimal root of the first suite debootstrap can build
// (with python3, for Ansible), from cache when one was built today. A new
// build goes to a temporary directory and is moved in whole; older builds
// of the suite are removed.
func Ensure(ctx context.Context, cache string, suites []string, log *slog.Logger) (dir, suite string, err error) {
	date := time.Now().Format(time.DateOnly)
	for _, suite := range suites {
		dir := filepath.Join(cache, "rootfs", suite+"-"+date)
		if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
			return dir, suite, nil
		}
	}
	mirror, err := Mirror()
	if err != nil {
		return "", "", err
	}
	var errs []error
	for _, suite := range suites {
		dir := filepath.Join(cache, "rootfs", suite+"-"+date)
		start := time.Now()
		log.Info("building a root filesystem with debootstrap (cached for the day)", "suite", suite, "dir", dir)
		if err := build(ctx, dir, suite, mirror); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", suite, err))
			continue
		}
		log.Info("built the root filesystem", "suite", suite, "took", time.Since(start).Round(time.Second))
		old, _ := filepath.Glob(filepath.Join(cache, "rootfs", suite+"-*"))
		for _, o := range old {
			if o != dir {
				os.RemoveAll(o)
			}
		}
		return dir, suite, nil
	}
	return "", "", fmt.Errorf("debootstrap from %s: %w", mirror, errors.Join(errs...))
}

func build(ctx context.Context, dir, suite, mirror string) error {
	os.RemoveAll(dir) // a build that never completed
	return atomicfile.Dir(dir, func(tmp string) error {
		var out strings.Builder
		cmd := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "--include=python3", suite, tmp, mirror)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%w: %s", err, tail(out.String(), 12))
		}
		return os.WriteFile(filepath.Join(tmp, ".complete"), []byte(suite+"\n"), 0o644)
	})
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Copy copies a root (owners, modes, devices and links kept) to dst.
func Copy(ctx context.Context, src, dst string) error {
	var out strings.Builder
	cmd := exec.CommandContext(ctx, "cp", "-a", src+"/.", dst)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("copy %s to %s: %w: %s", src, dst, err, out.String())
	}
	return os.Remove(filepath.Join(dst, ".complete"))
}

// Mount gives a root /proc, /sys, /dev and /dev/pts, as package scripts
// expect, and returns the function that takes them away again.
func Mount(root string) (func() error, error) {
	type mount struct {
		src, target, fstype string
		flags               uintptr
	}
	mounts := []mount{
		{"proc", "proc", "proc", 0},
		{"sysfs", "sys", "sysfs", unix.MS_RDONLY},
		{"/dev", "dev", "", unix.MS_BIND},
		{"/dev/pts", "dev/pts", "", unix.MS_BIND},
	}
	var done []string
	unmount := func() error {
		var errs []error
		for i := len(done) - 1; i >= 0; i-- {
			if err := unix.Unmount(done[i], unix.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("unmount %s: %w", done[i], err))
			}
		}
		done = nil
		return errors.Join(errs...)
	}
	for _, m := range mounts {
		target := filepath.Join(root, m.target)
		if err := os.MkdirAll(target, 0o755); err != nil {
			return nil, errors.Join(err, unmount())
		}
		if err := unix.Mount(m.src, target, m.fstype, m.flags, ""); err != nil {
			return nil, errors.Join(fmt.Errorf("mount %s on %s: %w", m.src, target, err), unmount())
		}
		done = append(done, target)
	}
	return unmount, nil
}

// Run runs a command inside a root with chroot and returns its output.
func Run(ctx context.Context, root string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "chroot", append([]string{root}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("chroot %s %s: %w: %s", root, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
