package addons

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// renderConfig renders the kustomize base root/kubernetes/<name>/config
// with the add-on's inventory patches: the base is copied into an in-memory
// file system under /base, an overlay at /overlay lists it with the patches
// (and the namespace, for namespaced objects), and krusty builds the
// overlay. Nothing is written to disk.
func (a addon) renderConfig(f *facts, root, namespace string) ([]byte, error) {
	dir := filepath.Join(root, "kubernetes", a.Name, "config")
	fsys := filesys.MakeFsInMemory()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &FileError{Path: dir, Err: err}
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, &FileError{Path: filepath.Join(dir, e.Name()), Err: err}
		}
		if err := fsys.WriteFile("/base/"+e.Name(), data); err != nil {
			return nil, &FileError{Path: filepath.Join(dir, e.Name()), Err: err}
		}
	}
	var patches []map[string]any
	if a.patches != nil {
		if patches, err = a.patches(f); err != nil {
			return nil, err
		}
	}
	kust := map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"resources":  []any{"../base"},
	}
	if a.configNamespaced {
		kust["namespace"] = namespace
	}
	var refs []any
	for i, p := range patches {
		name := fmt.Sprintf("patch-%d.yaml", i)
		data, err := yaml.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("add-on %s: patch %d: %w", a.Name, i, err)
		}
		if err := fsys.WriteFile("/overlay/"+name, data); err != nil {
			return nil, fmt.Errorf("add-on %s: patch %d: %w", a.Name, i, err)
		}
		refs = append(refs, map[string]any{"path": name})
	}
	if len(refs) > 0 {
		kust["patches"] = refs
	}
	data, err := yaml.Marshal(kust)
	if err != nil {
		return nil, fmt.Errorf("add-on %s: overlay: %w", a.Name, err)
	}
	if err := fsys.WriteFile("/overlay/kustomization.yaml", data); err != nil {
		return nil, fmt.Errorf("add-on %s: overlay: %w", a.Name, err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, "/overlay")
	if err != nil {
		return nil, &FileError{Path: dir, Err: fmt.Errorf("kustomize build with the inventory's patches: %w", err)}
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, &FileError{Path: dir, Err: err}
	}
	return out, nil
}

// object is the head of a patch: the object it applies to.
func object(apiVersion, kind, name string, fields map[string]any) map[string]any {
	md, _ := fields["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	md["name"] = name
	fields["apiVersion"] = apiVersion
	fields["kind"] = kind
	fields["metadata"] = md
	return fields
}

// ciliumPatches: the pool "load-balancer" over network.ranges.load_balancer
// for any LoadBalancer Service, and the pool "services" over
// network.ranges.services, where the fixed addresses of services: lie,
// given only to the Services that ask for one of them by name. The pool
// spans the range rather than listing each address, so changing one
// service's address changes only the release of its add-on.
func ciliumPatches(f *facts) ([]map[string]any, error) {
	lb, svc := f.inv.Network.Ranges.LoadBalancer, f.inv.Network.Ranges.Services
	names := slices.Clone(f.lbServices)
	slices.Sort(names)
	var namesAny []any
	for _, n := range slices.Compact(names) {
		namesAny = append(namesAny, n)
	}
	services := map[string]any{
		"blocks": []any{map[string]any{"start": svc.Start.String(), "stop": svc.End.String()}},
		"serviceSelector": map[string]any{"matchExpressions": []any{
			map[string]any{"key": "io.kubernetes.service.name", "operator": "In", "values": namesAny},
		}},
	}
	if len(namesAny) == 0 {
		// No Service asks for a fixed address: the pool is off.
		services = map[string]any{"blocks": services["blocks"], "disabled": true}
	}
	return []map[string]any{
		object("cilium.io/v2", "CiliumLoadBalancerIPPool", "load-balancer", map[string]any{"spec": map[string]any{
			"blocks": []any{map[string]any{"start": lb.Start.String(), "stop": lb.End.String()}},
		}}),
		object("cilium.io/v2", "CiliumLoadBalancerIPPool", "services", map[string]any{"spec": services}),
	}, nil
}

// nfsPatches: the StorageClass on the NAS's volume export.
func nfsPatches(f *facts) ([]map[string]any, error) {
	return []map[string]any{object("storage.k8s.io/v1", "StorageClass", "nfs-csi", map[string]any{
		"parameters": map[string]any{"server": f.nas.String(), "share": f.inv.Kubernetes.NFS.VolumeExport},
	})}, nil
}

// fluxPatches: the repository, branch and folder Flux follows, and the
// webhook receiver's address.
func fluxPatches(f *facts) ([]map[string]any, error) {
	g := f.inv.Kubernetes.GitOps
	return []map[string]any{
		object("source.toolkit.fluxcd.io/v1", "GitRepository", "infra", map[string]any{"spec": map[string]any{
			"url": g.URL, "ref": map[string]any{"branch": g.Branch},
		}}),
		object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "apps", map[string]any{"spec": map[string]any{
			"path": "./" + g.Path,
		}}),
		object("v1", "Service", "webhook-receiver-lb", map[string]any{"metadata": map[string]any{
			"annotations": f.lbAnnotations("flux-webhook"),
		}}),
	}, nil
}
