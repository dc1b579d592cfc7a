package lint

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/internal/tfcheck"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
)

// packerOffline is the Proxmox connection packer validate is given: the
// plugin only checks its settings are there; nothing dials it.
var packerOffline = proxmox.Config{URL: "https://pve.invalid:8006/api2/json", TokenID: "lint@pve!packer", TokenSecret: "not-a-secret", InsecureSkipVerify: true}

// packerPlaceholders are the variables a template needs besides the
// inventory and the connection, with placeholder values validate accepts
// (images:build gathers the real ones: packer.TemplateInputs).
var packerPlaceholders = map[string]map[string]string{
	"windows": {"windows_iso_file": "local:iso/windows.iso", "virtio_iso_file": "local:iso/virtio-win.iso",
		"windows_admin_password": "Placeholder-Only-1234"},
}

// Packer is the packer step: packer fmt -check, packer init and packer
// validate on every template (packer/<os>/, packer.Templates), through
// lib/packer, with the plugins of the tool cache, an offline connection
// and placeholder inputs. With Env.Files only the templates with a staged
// file are checked (a shared file of packer/ counts for every template).
// With Env.Fix, packer fmt rewrites the files first.
func Packer() Step {
	return Step{Name: "packer", Tools: []string{"packer", "packer-plugin-proxmox", "packer-plugin-ansible"}, Run: func(ctx context.Context, env *Env) (Result, error) {
		templates, err := packer.Templates(env.Root)
		if err != nil {
			return Result{}, err
		}
		var res Result
		var checked []packer.Template
		for _, t := range templates {
			read, watched, err := packerFiles(env.Root, t.Dir)
			if err != nil {
				return res, err
			}
			if !env.anyStaged(watched) {
				continue
			}
			checked = append(checked, t)
			res.Files += read
		}
		if len(checked) == 0 {
			if env.Files != nil {
				res.Note = NoneStaged
				return res, nil
			}
			return res, fmt.Errorf("no Packer template under %s: nothing to check", filepath.Join(env.Root, "packer"))
		}
		bin, err := env.tool("packer")
		if err != nil {
			return res, err
		}
		cache, err := toolchain.CacheDir()
		if err != nil {
			return res, err
		}
		var out bytes.Buffer
		r, err := packer.New(packer.WithBinary(bin), packer.WithPluginDir(toolchain.PackerPluginDir(cache)), packer.WithProxmox(packerOffline),
			packer.WithInventoryFile(env.inventoryFile()), packer.WithOutput(&out))
		if err != nil {
			return res, err
		}
		for _, t := range checked {
			dir, _ := filepath.Rel(env.Root, t.Dir)
			if env.Fix {
				o, err := env.run(ctx, dir, nil, "packer", "fmt", ".")
				if err != nil {
					return res, err
				}
				if o.code != 0 {
					return res, fmt.Errorf("packer fmt in %s exited with status %d: %s", dir, o.code, strings.TrimSpace(o.stdout+o.stderr))
				}
				for _, f := range strings.Fields(o.stdout) {
					res.Fixed = append(res.Fixed, filepath.Join(dir, f))
				}
			}
			for _, check := range []struct {
				name string
				run  func() error
			}{
				{"fmt", func() error { return r.FmtCheck(ctx, t) }},
				{"init", func() error { return r.Init(ctx, t) }},
				{"validate", func() error { return r.Validate(ctx, t, packerPlaceholders[t.Name]) }},
			} {
				out.Reset()
				err := check.run()
				var runErr *packer.RunError
				if err != nil && (!errors.As(err, &runErr) || runErr.ExitCode < 0) {
					return res, err
				}
				if err == nil {
					continue
				}
				res.Exit = runErr.ExitCode
				found := parsePacker(check.name, dir, out.String())
				if len(found) == 0 {
					found = []Finding{{Tool: "packer", File: dir, Rule: check.name, Message: err.Error()}}
				}
				res.Findings = append(res.Findings, found...)
				if check.name == "init" {
					break // validate needs the plugins
				}
			}
		}
		return res, nil
	}}
}

// packerFiles returns how many files packer reads for the template in
// dir (its *.pkr.hcl files) and those whose change concerns it, relative
// to root: each of them, and the file each symbolic link among them
// points at (the templates share packer/*.pkr.hcl so).
func packerFiles(root, dir string) (int, []string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.pkr.hcl"))
	if err != nil {
		return 0, nil, err
	}
	var out []string
	for _, p := range paths {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, rel)
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return 0, nil, fmt.Errorf("packer template file %s: %w", p, err)
		}
		if realRoot, err := filepath.EvalSymlinks(root); err == nil {
			if target, err := filepath.Rel(realRoot, real); err == nil && target != rel {
				out = append(out, target)
			}
		}
	}
	return len(paths), out, nil
}

// packerLocation is the "on FILE line N:" line of a packer diagnostic.
var packerLocation = regexp.MustCompile(`^\s+on (\S+) line (\d+)`)

// parsePacker reads what packer check printed in dir: the files fmt
// would change (at their first changed line), or each "Error: summary"
// with the "on FILE line N" below it.
func parsePacker(check, dir, out string) []Finding {
	if check == "fmt" {
		var found []Finding
		for _, f := range tfcheck.ParseFmt(out) {
			found = append(found, Finding{Tool: "packer", File: filepath.Join(dir, f.File), Line: f.Line, Rule: check,
				Message: "not formatted as packer fmt formats it (-fix rewrites it)"})
		}
		return found
	}
	var found []Finding
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if summary, ok := strings.CutPrefix(line, "Error: "); ok {
			found = append(found, Finding{Tool: "packer", File: dir, Rule: check, Message: summary})
			continue
		}
		if m := packerLocation.FindStringSubmatch(line); m != nil && len(found) > 0 && found[len(found)-1].Line == 0 {
			n, _ := strconv.Atoi(m[2])
			found[len(found)-1].File, found[len(found)-1].Line = filepath.Join(dir, m[1]), n
		}
	}
	return found
}
