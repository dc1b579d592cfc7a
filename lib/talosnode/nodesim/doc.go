// Package nodesim is a stand-in for Talos nodes over loopback: each node
// serves Talos's MachineService (machinery's generated gRPC interface) and
// the COSI state API with TLS as a real node does. A fresh node is in
// maintenance mode (a self-signed certificate, no client certificate asked
// for, only ApplyConfiguration and Version answer); once it has a config it
// serves a certificate of the cluster's CA and accepts only clients holding
// one. Configs are checked with machinery's own loader; bootstrap, etcd
// membership, the kubeconfig and service health follow the cluster's state.
// Every request is recorded, so tests prove what a client sent where.
//
// The kubeconfig a bootstrapped control plane hands out is Talos's: a
// fresh admin client certificate (O=system:masters) the cluster's
// Kubernetes CA signs, trusting that CA, for the cluster endpoint of the
// node's machine config. Nothing serves that endpoint here, so
// WithKubernetesEndpoint names where the simulated cluster's API server
// really is (a kubetest server given the bundle's Kubernetes CA) and the
// kubeconfig points there instead: a choice of the simulator, not Talos's
// behaviour, the same idea as talosnode's endpoint overrides for the Talos
// API.
//
// # etcd
//
// The cluster's etcd is a real one (go.etcd.io/etcd/server/v3/embed) on
// loopback with its data under WithEtcdDir (a temporary directory by
// default). EtcdSnapshot streams etcd's own maintenance snapshot (the bbolt
// database and the sha256 etcd appends) in 1 KiB messages, as Talos's
// chunker does; EtcdRecover writes the upload to the node's
// /var/lib/etcd.snapshot (0700, removed when the upload fails); Bootstrap
// with RecoverEtcd checks the role and the data directory as a plain
// bootstrap does, then verifies and restores the snapshot with etcdutl's
// snapshot code (RecoverSkipHashCheck passed on) and deletes it, as
// Talos's etcd service does. Reset wipes system partitions by label as
// Talos does (EPHEMERAL: /var, so etcd's data and any uploaded snapshot;
// STATE or the whole disk: the config too). The errors are Talos's own
// (v1.12.7 source). Choices no source settles:
//
//   - One etcd backs the whole cluster's data: every control plane with
//     etcd data answers from it. The member list is not that etcd's (one
//     member) but the membership model of members.go: IDs, learners,
//     leader, joins and removals; a wiped or failed control plane's etcd
//     answers no member call, as its service does not run. The etcd starts on first use after a bootstrap (a
//     snapshot, EtcdPut/EtcdGet), not at the bootstrap, so tests that never
//     touch etcd start none.
//   - A control plane whose EPHEMERAL was wiped reports etcd "Preparing"
//     ("waiting for etcd bootstrap") and refuses the member list
//     (Unavailable) while others keep etcd; once every configured control
//     plane is wiped, etcd stops and its data is removed, so the cluster
//     is no longer bootstrapped. After a recovery every control plane's
//     etcd runs at once: the others' rejoin is not modelled step by step.
//   - On Talos the restore runs as the etcd service starts, after Bootstrap
//     answered; here it runs before the answer, with the same outcome: a
//     snapshot that is missing or does not restore answers OK and leaves
//     the node's etcd service "Failed" with "Failed to run pre stage: "
//     and Talos's message, the cluster not bootstrapped, and the upload
//     kept for another try.
//   - A control plane whose etcd does not run answers EtcdSnapshot with
//     "failed reading etcd snapshot: etcd is not running" (code Unknown);
//     Talos's words come from its etcd client's dial error.
//   - Reset happens before the call answers (on Talos it runs after);
//     Graceful is ignored; Reboot=false leaves the node down (powered off)
//     until SetDown(name, false); a partition label other than EPHEMERAL
//     and STATE, or a user disk, is refused as a volume or device Talos
//     cannot find.

// Kubernetes components (kubernetes.go, kubelet.go) follow the applied
// config as Talos's controllers do: each config yields the COSI resources
// Talos derives from it, which Talos's own Kubernetes upgrade reads: the
// KubeletSpec in namespace k8s (the image; the config's kubelet extraArgs
// as --key=value), on a control plane the APIServerConfig,
// ControllerManagerConfig and SchedulerConfig in namespace controlplane
// (the image) and the StaticPod each renders in namespace k8s (Talos's
// name, namespace kube-system, annotation talos.dev/config-version = the
// config resource's version, Talos's labels k8s-app, tier, component and
// app.kubernetes.io/*, priority class system-cluster-critical, host
// network, one container with the image and the command line).
//
// WithKubelets gives the nodes a Kubernetes API to play their kubelets
// against (the tests use a real kube-apiserver, internal/kubetest), as
// the kubelet (pkg/kubelet: the node registration, the mirror client, the
// status manager) does it:
//   - the Node is created with its status when the kubelet first starts;
//     afterwards its status (nodeInfo.kubeletVersion, Ready) is patched
//     through the status subresource;
//   - the Node exists before its mirror pods: a mirror pod is owned by
//     its Node (ownerReference v1/Node, controller, the Node's UID);
//   - a mirror pod is the static pod named <pod>-<node name in lower
//     case>, spec.nodeName the node, with the static pod's annotations
//     plus kubernetes.io/config.source "http" (Talos hands static pods to
//     the kubelet through its static pod URL), kubernetes.io/config.hash,
//     kubernetes.io/config.seen and kubernetes.io/config.mirror = the hash;
//   - when the static pod changes (a new image, a new config version) the
//     mirror pod is deleted (grace period 0, its UID as precondition) and
//     created anew with a new UID; an unchanged static pod keeps its
//     mirror pod;
//   - pod status goes through the status subresource: Running, the
//     conditions PodReadyToStartContainers, Initialized, Ready,
//     ContainersReady and PodScheduled, the container's status.
//
// A control plane also holds the bootstrap manifests Talos v1.12.7's
// manifest controller renders from its config (manifests.go), as k8s.Manifest
// resources in namespace controlplane with Talos's IDs and objects, the
// parts this repository's configs enable (CNI none, kube-proxy disabled, no
// Talos API access): 00-kubelet-bootstrapping-token (the bootstrap token
// Secret of cluster.token), 01-csr-node-bootstrap,
// 01-csr-approver-role-binding and 01-csr-renewal-role-binding (the CSR
// ClusterRoleBindings), 11-kube-config-in-cluster (the kubeconfig
// ConfigMap, KubePrism's https://127.0.0.1:<port> when it is enabled, else
// the cluster endpoint), 11-talos-node-rbac-template (system:talos-nodes),
// and, with CoreDNS enabled, 11-core-dns (ServiceAccount, ClusterRole,
// ClusterRoleBinding, the Corefile ConfigMap of the cluster's DNS domain,
// the Deployment of cluster.coreDNS.image) and 11-core-dns-svc (kube-dns at
// the tenth address of each service CIDR). The Flannel, kube-proxy and
// Talos API access manifests are not modelled: a config enabling them gets
// none of them; the CoreDNS Deployment leaves out the container's resources,
// environment, probes and security context and the pod's anti-affinity,
// which Talos sets.
//
// SetStalled makes a component not come up on a new image. Choices no
// source settles:
//   - the Node and mirror pods follow a config the moment it is applied
//     (real kubelets restart and pull for seconds), and before etcd is
//     bootstrapped too (a real kubelet registers once the API server
//     answers); a reboot (an upgrade) does not turn the Node NotReady;
//   - the Node is named after the config's hostname (Talos's default
//     nodename), labelled kubernetes.io/hostname, kubernetes.io/os=linux,
//     kubernetes.io/arch=amd64 and, on a control plane,
//     node-role.kubernetes.io/control-plane; its status has only the
//     Ready condition and nodeInfo (kubeletVersion the tag of
//     machine.kubelet.image, linux, amd64): no addresses, capacity or
//     images, so pods have no hostIP or podIP;
//   - the static pod's command line is the binary, then --key=value
//     sorted by key of: on kube-apiserver enable-admission-plugins
//     NodeRestriction (Talos's default, added to as Talos does), and the
//     config's extraArgs; Talos's other defaults (certificates, etcd
//     servers, audit...), volumes, resources, security contexts, the
//     secrets-version and config-file-version annotations are left out;
//   - the config hash is FNV-32a of the static pod's JSON, not the
//     kubelet's hash of its decoded object;
//   - a stalled static pod's new mirror pod runs the new image and
//     crash-loops (container waiting, CrashLoopBackOff, restartCount 1,
//     Ready and ContainersReady False with ContainersNotReady); a stalled
//     kubelet does not start: its Node keeps the kubeletVersion it had and
//     turns Ready=Unknown ("Kubelet stopped posting node status.", what the
//     node lifecycle controller writes), a Node not registered yet is not
//     registered, and its mirror pods are left as they are;
//   - the kubelet service and its Service resource are not modelled (the
//     service list says it runs); Reset leaves the Node and pods in the
//     Kubernetes API, as a recreated VM's old Node object stays until
//     deleted.

// # Upgrades
//
// Each node runs its own Talos version and Image Factory schematic:
// WithVersion and WithSchematic set them for every node at start, and only
// an upgrade changes them. Version answers the node's version; the
// schematic is served as Talos serves it, through the COSI state: an
// ExtensionStatus resource (namespace runtime) whose metadata name is
// "schematic" and whose version is the schematic ID (Talos's
// ExtensionStatusController publishes one per layer of the image, and
// Image Factory images carry a "schematic" layer; see
// ImageFactorySchematicController in newer releases).
//
// Upgrade follows machined's v1alpha1 server (Talos v1.12.7): the installer
// image is validated first (pulled, its --help run), then a control plane,
// unless Force, checks etcd (internal/pkg/etcd ValidateForUpgrade: two
// members would lose quorum, every member must be started and healthy);
// refusals are plain errors, so gRPC code Unknown, with Talos's messages.
// The node then answers "Upgrade request received" with an actor ID and
// reboots: while it reboots (WithRebootTime, DefaultRebootTime) both its
// MachineService and its COSI state refuse calls (Unavailable, "connection
// refused"), then it comes back on the image's version and schematic.
// SetUpgradeFault makes a node's next upgrade go wrong: it stays down
// (until PowerCycle), comes back on its old image, or comes back with its
// kubelet unhealthy. Every Upgrade request is recorded with its image and
// Force.
//
// Choices no source settles, made here:
//   - An installer image is "pulled" when it is an Image Factory reference,
//     <registry>/installer/<64 hex schematic>:<vX.Y.Z>, as lib/talosgen
//     writes it; any other reference (the official installer included) is
//     refused as not found. No registry is contacted.
//   - The node goes down the moment it has answered (real Talos first
//     cordons and drains, stops services and installs, for seconds to
//     minutes, answering meanwhile) and is down for a fixed time.
//   - A node in maintenance mode refuses Upgrade like the other
//     authenticated calls (Talos's maintenance service upgrades too).
//   - Only the schematic's ExtensionStatus is served (ID "0"), not one per
//     official extension; clients find it by name, never by ID.
//   - The etcd mutex Talos takes around its checks (tryLockUpgradeMutex) is
//     not modelled: the simulator answers one request at a time.
//   - A member is "not healthy" when its node is down or rebooting, or
//     SetUnhealthy marked its etcd service; the member ID in the message is
//     the node's position in the simulator, as EtcdMemberList reports it.
//   - PowerCycle brings a node that stayed down back on the image it ran
//     before the upgrade, as Talos falls back to the previous boot entry.
//   - Reset keeps the node's version and schematic (the simulator knows no
//     template to boot from).

// Etcd membership (members.go) follows Talos v1.12 and etcd: the
// bootstrapped control plane is the first member; every control plane
// configured while etcd has a leader joins as a learner (a member of its
// hostname removed first) and is promoted later; IDs are random 64-bit
// numbers; a member whose node is down or wiped stays listed until it is
// removed; EtcdRemoveMemberByID and EtcdLeaveCluster are refused as etcd's
// strict reconfiguration check refuses them; EtcdForfeitLeadership hands
// the leadership to another voting member. Choices no source settles:
//
//   - The learner's name is its hostname from the moment it is added (in
//     etcd it is empty until its etcd starts, a moment later).
//   - Promotion happens on the first look after WithLearnerPromotion's
//     delay (default 0) while the node is up, instead of when the learner
//     caught up with the leader's log.
//   - The leader is the bootstrapped member until it stops; then the first
//     started voting member in join order, while a quorum runs.
//     ForfeitEtcdLeadership moves it to the first other started voting
//     member.
//   - EtcdLeaveCluster answers at once where Talos retries "unhealthy
//     cluster" for five minutes before it gives up.
//   - Peer and client URLs are https://HOSTNAME:2380 and :2379 (the node's
//     address is loopback here).
//   - A node that left etcd keeps its etcd stopped ("Finished") until it
//     is reset (its VM recreated); a real node would try to join again at
//     its next boot, its data directory being empty.
//   - A node whose member was removed by ID while it runs reports its etcd
//     "Failed" (etcd stops itself when removed).
package nodesim
