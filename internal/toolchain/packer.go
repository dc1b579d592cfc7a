package toolchain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// EnvPackerPluginPath is the variable Packer reads its plugin directory
// from.
const EnvPackerPluginPath = "PACKER_PLUGIN_PATH"

// PackerPluginDir is the directory Packer plugins built into the cache are
// installed in, for Packer's PACKER_PLUGIN_PATH: <cache>/packer-plugins.
// `packer init` then finds them there and downloads nothing.
func PackerPluginDir(cache string) string { return filepath.Join(cache, "packer-plugins") }

// PluginInstall is one `packer plugins install --path` run.
type PluginInstall struct {
	// Packer is the packer binary, Binary the plugin's binary in the cache.
	Packer, Binary string
	// Dir is the plugin directory (PACKER_PLUGIN_PATH), Address the
	// plugin's source address, e.g. github.com/hashicorp/proxmox.
	Dir, Address string
}

// Args are packer's arguments.
func (p PluginInstall) Args() []string {
	return []string{"plugins", "install", "--path", p.Binary, p.Address}
}

// Env are the variables the run adds to the environment: the plugin
// directory, and no update check.
func (p PluginInstall) Env() []string {
	return []string{EnvPackerPluginPath + "=" + p.Dir, "CHECKPOINT_DISABLE=1"}
}

// PackerPluginInstaller runs one install.
type PackerPluginInstaller func(ctx context.Context, req PluginInstall) error

// WithPackerPluginInstaller replaces how EnsurePackerPlugins installs a
// plugin (default: packer plugins install --path, output on stderr).
func WithPackerPluginInstaller(f PackerPluginInstaller) Option {
	return func(o *options) { o.pluginInstall = f }
}

// PluginError says which Packer plugin could not be installed and why.
type PluginError struct {
	// Plugin is the plugin, Install the run that failed.
	Plugin  GoTool
	Install PluginInstall
	// Err is the cause.
	Err error
}

// Error names the plugin and the command to retry by hand.
func (e *PluginError) Error() string {
	return fmt.Sprintf("install Packer plugin %s (%s): %v; retry by hand with: %s %s %s",
		e.Plugin, e.Plugin.PackerPlugin, e.Err, strings.Join(e.Install.Env(), " "), e.Install.Packer, strings.Join(e.Install.Args(), " "))
}

// Unwrap returns the cause.
func (e *PluginError) Unwrap() error { return e.Err }

// pluginPattern is the glob of the file `packer plugins install` names a
// plugin binary in dir: <address>/packer-plugin-<name>_<version>_x<api>_<os>_<arch>.
func pluginPattern(dir string, plugin GoTool) string {
	name := path.Base(plugin.PackerPlugin)
	return filepath.Join(dir, filepath.FromSlash(plugin.PackerPlugin),
		"packer-plugin-"+name+"_"+plugin.Version+"_x*_"+runtime.GOOS+"_"+runtime.GOARCH)
}

// InstalledPackerPlugin returns the plugin's installed binary in the
// plugin directory dir, and whether it is there with the checksum file
// Packer writes beside it (a binary without one is a half-finished
// install, which Packer refuses to load).
func InstalledPackerPlugin(dir string, plugin GoTool) (string, bool) {
	matches, _ := filepath.Glob(pluginPattern(dir, plugin))
	for _, m := range matches {
		if strings.HasSuffix(m, "_SHA256SUM") {
			continue
		}
		if _, err := os.Stat(m + "_SHA256SUM"); err == nil {
			return m, true
		}
	}
	return "", false
}

// EnsurePackerPlugins installs each plugin, built into the cache (see
// EnsureGo, which must have run), into PackerPluginDir with the cached
// packer, so `packer init` with PACKER_PLUGIN_PATH set to that directory
// finds it offline. A plugin already installed is left as it is: a second
// run installs nothing. Each plugin must have PackerPlugin set.
func EnsurePackerPlugins(ctx context.Context, packer GoTool, plugins []GoTool, opts ...Option) error {
	o := newOptions(opts)
	cache, err := o.cacheDir()
	if err != nil {
		return err
	}
	dir := PackerPluginDir(cache)
	for _, p := range plugins {
		if p.PackerPlugin == "" {
			return fmt.Errorf("packer plugin directory: %s is not a Packer plugin (its PackerPlugin is empty)", p)
		}
		if _, ok := InstalledPackerPlugin(dir, p); ok {
			continue
		}
		req := PluginInstall{Packer: packer.Path(cache), Binary: p.Path(cache), Dir: dir, Address: p.PackerPlugin}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return &PluginError{Plugin: p, Install: req, Err: err}
		}
		start := time.Now()
		o.log.Info("installing Packer plugin into the tool cache", "plugin", p.String(), "dir", dir)
		if err := o.pluginInstall(ctx, req); err != nil {
			return &PluginError{Plugin: p, Install: req, Err: err}
		}
		if _, ok := InstalledPackerPlugin(dir, p); !ok {
			return &PluginError{Plugin: p, Install: req,
				Err: fmt.Errorf("packer plugins install left no %s with its _SHA256SUM", filepath.Base(pluginPattern(dir, p)))}
		}
		o.log.Info("installed Packer plugin", "plugin", p.String(), "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// installPackerPlugin runs packer plugins install, its output on stderr.
func installPackerPlugin(ctx context.Context, req PluginInstall) error {
	cmd := exec.CommandContext(ctx, req.Packer, req.Args()...)
	cmd.Env = append(os.Environ(), req.Env()...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("packer plugins install exited with status %d", exitErr.ExitCode())
		}
		return err
	}
	return nil
}
