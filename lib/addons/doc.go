// Package addons turns the inventory into the cluster's add-ons as
// lib/helmdeploy releases: Releases computes, for each add-on whose chart
// kubernetes.charts pins, the chart release (static values from
// kubernetes/<addon>/values.yaml merged with the values computed from the
// inventory) and, where the add-on has objects outside its chart, the
// manifest release <addon>-config rendered with kustomize (krusty, in
// memory) from the base kubernetes/<addon>/config with the inventory's
// facts patched in. Values that come from the inventory are computed here
// and never written in a values file.
//
// The add-ons, in install order (Addons):
//
//   - cilium (+ cilium-config): CNI and kube-proxy replacement through
//     KubePrism (localhost:7445), L2 announcements; cilium-config holds the
//     CiliumLoadBalancerIPPool "load-balancer" over
//     network.ranges.load_balancer, the pool "services" over
//     network.ranges.services (given only to the Services that ask for one
//     of services: addresses with the annotation lbipam.cilium.io/ips) and the
//     CiliumL2AnnouncementPolicy. Hubble UI on the hubble-ui address.
//   - longhorn: replicas min(3, nodes), data on /var/mnt/longhorn (the Talos
//     user volume of lib/talosgen), backups on nfs://<NAS>:<backup_export>,
//     UI on the longhorn-ui address; privileged namespace.
//   - csi-driver-nfs (+ csi-driver-nfs-config: StorageClass nfs-csi on the
//     NAS's volume_export).
//   - nvidia-device-plugin (after nvidia-config: RuntimeClass nvidia), only
//     when a node has gpu.enabled, scheduled on those nodes.
//   - kube-prometheus-stack: Talos' control-plane metrics on the
//     control-plane nodes' addresses, no kube-proxy, storage on Longhorn.
//   - loki (single binary on Longhorn) and alloy (pod logs to Loki).
//   - flux2 (+ flux2-config: GitRepository of kubernetes.gitops, the
//     Kustomization over its path decrypting with the Secret sops-age, a
//     Receiver and the webhook receiver Service on the flux-webhook address).
//     ApplySOPSAgeSecret puts the operator's age key in that Secret through
//     the API; EnsureWebhookToken makes the Receiver's token Secret.
//   - forgejo: HTTP 3000 and SSH 22 on the forgejo address (one shared
//     LB-IPAM address), storage on Longhorn.
//
// Forgejo's chart (forgejo-helm) cannot be fetched offline, so its values
// are written against the keys its values.yaml documents —
// service.http.type, service.http.port, service.http.annotations, the same
// under service.ssh, persistence.enabled, persistence.storageClass,
// persistence.size, gitea.config, postgresql.enabled,
// postgresql-ha.enabled, redis.enabled, redis-cluster.enabled — and its
// tests check those computed values directly instead of rendering the
// chart.
//
// Deploy installs them: NewDeploy(inv, root, kubeconfig, …).Run computes
// the releases and applies them with lib/helmdeploy, which checks every
// chart, value and the cluster's reachability first; once those pass
// (helmdeploy.BeforeChanges) it puts in place the Secrets no chart may
// render (sops-age on every run; flux-webhook-token and grafana-admin
// once, with random values), then the releases are applied in order; DryRun returns the objects that would change with their diffs;
// Status lists the releases and LoadBalancer Services. Apply and Plan make
// a Deploy the add-ons stage of lib/cluster's Up. WithOnly restricts a run
// to some add-ons (an unknown name is an *UnknownAddonError).
//
// Errors: *InventoryError names the inventory field at fault (a service
// entry missing or in another namespace than its add-on, a dependency's
// chart missing); *FileError names the file of the kubernetes/ tree.
package addons
