package addons

import "fmt"

// The chart values each add-on computes from the inventory. The static ones
// are in kubernetes/<addon>/values.yaml and never repeat these keys.

// ciliumValues: the cluster name, the operator's replicas (its pods
// refuse to share a node) and the Hubble UI on its services: address.
func ciliumValues(f *facts) (map[string]any, error) {
	return map[string]any{
		"cluster":  map[string]any{"name": f.inv.Talos.ClusterName},
		"operator": map[string]any{"replicas": f.replicas(2)},
		"hubble": map[string]any{"ui": map[string]any{"service": map[string]any{
			"type":        "LoadBalancer",
			"annotations": f.lbAnnotations("hubble-ui"),
		}}},
	}, nil
}

// longhornValues: the replica counts (min(3, nodes)), the backup target on
// the NAS and the UI on its services: address.
func longhornValues(f *facts) (map[string]any, error) {
	n := f.replicas(3)
	return map[string]any{
		"defaultSettings":    map[string]any{"defaultReplicaCount": n},
		"persistence":        map[string]any{"defaultClassReplicaCount": n},
		"defaultBackupStore": map[string]any{"backupTarget": fmt.Sprintf("nfs://%s:%s", f.nas, f.inv.Kubernetes.NFS.BackupExport)},
		"service": map[string]any{"ui": map[string]any{
			"type":        "LoadBalancer",
			"annotations": f.lbAnnotations("longhorn-ui"),
		}},
	}, nil
}

// nvidiaValues: the device plugin runs on the nodes whose GPU is enabled.
func nvidiaValues(f *facts) (map[string]any, error) {
	var names []any
	for _, n := range f.inv.Talos.Nodes {
		if n.GPU.Enabled {
			names = append(names, n.Name)
		}
	}
	return map[string]any{"affinity": map[string]any{"nodeAffinity": map[string]any{
		"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{"nodeSelectorTerms": []any{
			map[string]any{"matchExpressions": []any{
				map[string]any{"key": "kubernetes.io/hostname", "operator": "In", "values": names},
			}},
		}},
	}}}, nil
}

// prometheusValues: the control-plane nodes' addresses, where Talos serves
// the etcd, controller-manager and scheduler metrics.
func prometheusValues(f *facts) (map[string]any, error) {
	ips := f.controlPlaneIPs()
	return map[string]any{
		"kubeEtcd":              map[string]any{"endpoints": ips},
		"kubeControllerManager": map[string]any{"endpoints": ips},
		"kubeScheduler":         map[string]any{"endpoints": ips},
	}, nil
}

// alloyValues: the pipeline shipping every pod's logs to Loki's push API in
// the loki chart's namespace.
func alloyValues(f *facts) (map[string]any, error) {
	ns := f.inv.Kubernetes.Charts[Loki].Namespace
	return map[string]any{"alloy": map[string]any{"configMap": map[string]any{"content": alloyConfig(ns)}}}, nil
}

// alloyConfig is Alloy's pipeline: pods discovered through the API, their
// logs read through the API (no host paths), shared between the clustered
// instances, labelled with namespace, pod, container and app, pushed to Loki.
func alloyConfig(lokiNamespace string) string {
	return `discovery.kubernetes "pods" {
  role = "pod"
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    target_label  = "app"
  }
}

loki.source.kubernetes "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.default.receiver]
  clustering {
    enabled = true
  }
}

loki.write "default" {
  endpoint {
    url = "http://loki.` + lokiNamespace + `.svc.cluster.local:3100/loki/api/v1/push"
  }
}
`
}

// forgejoValues: the HTTP (3000) and SSH (22) services on Forgejo's
// services: address, sharing it. Keys of the forgejo-helm chart's
// values.yaml: service.http.{type,port,annotations},
// service.ssh.{type,port,annotations}.
func forgejoValues(f *facts) (map[string]any, error) {
	svc := func(port int) map[string]any {
		ann := f.lbAnnotations("forgejo")
		ann[LBSharingKeyAnnotation] = "forgejo"
		return map[string]any{"type": "LoadBalancer", "port": port, "annotations": ann}
	}
	return map[string]any{"service": map[string]any{"http": svc(3000), "ssh": svc(22)}}, nil
}
