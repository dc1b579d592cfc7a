package talosnode

import (
	"context"
	"fmt"
	"strings"

	"github.com/cosi-project/runtime/pkg/resource"
	"github.com/cosi-project/runtime/pkg/safe"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	"github.com/siderolabs/talos/pkg/machinery/resources/k8s"

	"github.com/wdiazux/infra/lib/inventory"
)

// The Kubernetes components Talos runs, by the names Talos gives their
// resources (and their static pods' k8s-app label).
const (
	// KubeAPIServer is the API server's static pod (control planes).
	KubeAPIServer = k8s.APIServerID
	// KubeControllerManager is the controller manager's static pod
	// (control planes).
	KubeControllerManager = k8s.ControllerManagerID
	// KubeScheduler is the scheduler's static pod (control planes).
	KubeScheduler = k8s.SchedulerID
	// Kubelet is the kubelet every node runs.
	Kubelet = k8s.KubeletID
)

// KubernetesImages is what one node's Talos says its Kubernetes components
// are configured with.
type KubernetesImages struct {
	// Node is the node's name.
	Node string
	// Talos is the Talos version the node runs (its Version answer).
	Talos string
	// Images are the component images by component (KubeAPIServer, ...):
	// the static pods' of a control plane from its APIServerConfig,
	// ControllerManagerConfig and SchedulerConfig resources, the kubelet's
	// from its KubeletSpec resource, as Talos's own Kubernetes upgrade
	// reads them.
	Images map[string]string
}

// KubernetesImages asks one node for its Talos version and the images of
// its Kubernetes components (COSI resources; a worker has the kubelet only).
func (c *Cluster) KubernetesImages(ctx context.Context, node string) (KubernetesImages, error) {
	ns, err := c.nodes(node)
	if err != nil {
		return KubernetesImages{}, err
	}
	n := ns[0]
	out := KubernetesImages{Node: n.Name, Images: map[string]string{}}
	cl, err := c.connect(ctx, n)
	if err != nil {
		return out, err
	}
	defer cl.Close() //nolint:errcheck
	if out.Talos, err = talosVersion(ctx, cl); err != nil {
		return out, c.nodeErr(n, "version", err)
	}
	ks, err := safe.StateGet[*k8s.KubeletSpec](ctx, cl.COSI, resource.NewMetadata(k8s.NamespaceName, k8s.KubeletSpecType, k8s.KubeletID, resource.VersionUndefined))
	if err != nil {
		return out, c.nodeErr(n, "read the KubeletSpec resource", err)
	}
	out.Images[Kubelet] = ks.TypedSpec().Image
	if n.Role != inventory.RoleControlPlane {
		return out, nil
	}
	if out.Images[KubeAPIServer], err = staticPodImage[*k8s.APIServerConfig](ctx, cl, k8s.APIServerConfigType, k8s.APIServerConfigID,
		func(r *k8s.APIServerConfig) string { return r.TypedSpec().Image }); err != nil {
		return out, c.nodeErr(n, "read the APIServerConfig resource", err)
	}
	if out.Images[KubeControllerManager], err = staticPodImage[*k8s.ControllerManagerConfig](ctx, cl, k8s.ControllerManagerConfigType, k8s.ControllerManagerConfigID,
		func(r *k8s.ControllerManagerConfig) string { return r.TypedSpec().Image }); err != nil {
		return out, c.nodeErr(n, "read the ControllerManagerConfig resource", err)
	}
	if out.Images[KubeScheduler], err = staticPodImage[*k8s.SchedulerConfig](ctx, cl, k8s.SchedulerConfigType, k8s.SchedulerConfigID,
		func(r *k8s.SchedulerConfig) string { return r.TypedSpec().Image }); err != nil {
		return out, c.nodeErr(n, "read the SchedulerConfig resource", err)
	}
	return out, nil
}

// staticPodImage reads a control-plane config resource's image.
func staticPodImage[T resource.Resource](ctx context.Context, cl *client.Client, typ resource.Type, id resource.ID, image func(T) string) (string, error) {
	r, err := safe.StateGet[T](ctx, cl.COSI, resource.NewMetadata(k8s.ControlPlaneNamespaceName, typ, id, resource.VersionUndefined))
	if err != nil {
		return "", err
	}
	return image(r), nil
}

// ApplyNoReboot sends one node a config (not its file in the output
// directory: a config made from it, e.g. with some images held back) in
// no-reboot mode, as Talos's own Kubernetes upgrade applies its patched
// configs. A node that would need a reboot for it refuses it.
func (c *Cluster) ApplyNoReboot(ctx context.Context, node string, data []byte) (ApplyResult, error) {
	ns, err := c.nodes(node)
	if err != nil {
		return ApplyResult{}, err
	}
	n := ns[0]
	req := &machineapi.ApplyConfigurationRequest{Data: data, Mode: machineapi.ApplyConfigurationRequest_NO_REBOOT}
	resp, err := c.applyWith(ctx, n, req, c.connect)
	if err != nil {
		return ApplyResult{Node: n.Name}, c.nodeErr(n, "apply the config without a reboot", err)
	}
	res := ApplyResult{Node: n.Name}
	for _, m := range resp.GetMessages() {
		res.Mode = strings.ToLower(strings.ReplaceAll(m.GetMode().String(), "_", "-"))
		res.Details = strings.TrimSpace(m.GetModeDetails())
	}
	return res, nil
}

// String is "node: component=image, ...".
func (k KubernetesImages) String() string {
	var parts []string
	for _, comp := range []string{KubeAPIServer, KubeControllerManager, KubeScheduler, Kubelet} {
		if img, ok := k.Images[comp]; ok {
			parts = append(parts, comp+"="+img)
		}
	}
	return fmt.Sprintf("%s (Talos %s): %s", k.Node, k.Talos, strings.Join(parts, ", "))
}
