// Package kubetest is a real Kubernetes API server for tests: etcd and
// kube-apiserver, built from the Go module proxy into the tool cache at the
// versions homelab.yaml's tools: lists (tools.etcd, tools.kube-apiserver;
// internal/testsuite.GoTools builds them), run on loopback, offline, with
// nothing else of a cluster. Helm releases, CRDs and their server-side
// validation, server-side apply and dry runs all work against it as against
// a cluster.
//
// # The server
//
// Start runs etcd (data in a temporary directory, no fsync) and
// kube-apiserver (RBAC; a static admin token in group system:masters over
// TLS with a CA made for the server; service-account keys of its own;
// privileged containers allowed, as Talos allows them; the service range
// 10.96.0.0/12, Talos' default) on free loopback ports, and returns when
// /readyz answers and the default namespace exists. Server.Config and
// Server.KubeconfigFile (mode 0600) reach it; Server.Stop ends both
// programs and removes the directory. The programs also die with the test
// binary (Linux' parent-death signal), so a test that panics leaves none
// behind. A failure to start is a *StartError naming the program, the
// phase and the tail of its log.
//
// WithClusterCA gives the server a Kubernetes CA instead of one of its own,
// as a Talos control plane uses its cluster's: its serving certificate
// (127.0.0.1, ::1, localhost) is signed by that CA and the CA is its client
// CA, so a kubeconfig Talos would hand out for that cluster (a client
// certificate the CA signs, O=system:masters) is an admin here; a client
// certificate of another CA is refused (401). The admin token works
// either way.
//
// Package is one server per test package: TestMain calls Run, each test
// asks Server(t) and works in a namespace of its own (Server.Namespace).
// When the programs are not built the test is skipped outside CI and fails
// in CI, as internal/testtool does for every tool.
//
// # The controllers stand-in
//
// There is no kube-controller-manager, kubelet or scheduler, so nothing
// runs a pod and nothing writes a workload's status. Controllers (started
// with StartControllers or Server.Controllers) watch the server and write
// the status the real controllers write once every pod is running and
// ready, so that readiness waits (Helm v4's kstatus-based watcher,
// fluxcd/cli-utils' kstatus) run their real logic:
//
//   - Deployment: observedGeneration = generation; replicas, updatedReplicas,
//     readyReplicas, availableReplicas = spec.replicas (1 when unset);
//     conditions Available=True (MinimumReplicasAvailable, "Deployment has
//     minimum availability.") and Progressing=True (NewReplicaSetAvailable,
//     "ReplicaSet \"<name>-<hash>\" has successfully progressed."), as the
//     deployment controller writes them.
//   - StatefulSet: observedGeneration; replicas, readyReplicas,
//     availableReplicas, currentReplicas, updatedReplicas; currentRevision =
//     updateRevision = <name>-<hash>; collisionCount 0.
//   - DaemonSet: observedGeneration; desired, current, updated, ready and
//     available numbers = the number of nodes (WithNodes, default 1).
//   - ReplicaSet: observedGeneration; replicas, fullyLabeledReplicas,
//     readyReplicas, availableReplicas.
//   - Job (Helm's hook Jobs too): startTime, completionTime, succeeded =
//     spec.completions (1 when unset), active 0, ready 0, terminating 0,
//     completedIndexes for an Indexed Job, and the conditions
//     SuccessCriteriaMet then Complete (CompletionsReached, "Reached expected
//     number of succeeded pods"), as the job controller writes them since
//     Kubernetes 1.31; the server's own Job status validation accepts
//     them. A suspended Job is left alone; a finished one is not touched.
//   - PersistentVolumeClaim: phase Bound, accessModes and capacity from its
//     request.
//   - Service of type LoadBalancer: status.loadBalancer.ingress with the
//     addresses it asks Cilium's LB-IPAM for (annotation
//     lbipam.cilium.io/ips, comma-separated, else spec.loadBalancerIP),
//     ipMode VIP, and the condition cilium.io/IPsRequestSatisfied=True, as
//     Cilium writes them. (kstatus calls any Service with a cluster IP
//     ready; the addresses are there for what a test asserts.)
//   - Flux's GitRepository, Kustomization and Receiver (once their CRDs,
//     which the flux2 chart brings, are served; polled every 200 ms, as
//     there is no typed informer for them): status.observedGeneration and
//     the condition Ready=True with the reason and message the source-,
//     kustomize- and notification-controller write on success ("stored
//     artifact for revision 'main@sha1:…'", "Applied revision: …",
//     "Receiver initialized for path: /hook/…", and a webhookPath). Nothing
//     is cloned or applied: the revision is made up from the object's name,
//     and the webhook path hashes no token.
//
// Withhold keeps chosen objects unready, as if their pods never passed a
// readiness probe: a Deployment then reports its replicas updated but none
// ready or available, Available=False (MinimumReplicasUnavailable) and
// Progressing=True (ReplicaSetUpdated); a StatefulSet, DaemonSet or
// ReplicaSet none ready; a Job runs (startTime, active) and never
// finishes; a PVC stays Pending; a Service gets no address; a Flux object
// is never reconciled. OnReady runs a
// hook when a chosen object would become ready, before its ready status is
// written, as an operator does its start-up work before its readiness
// probe passes: ApplyCRDFile in such a hook plays the Cilium operator,
// which creates the CiliumLoadBalancerIPPool and CiliumL2AnnouncementPolicy
// CRDs at start-up:
//
//	srv.Controllers(t, kubetest.OnReady(kubetest.Match("Deployment", "kube-system", "cilium-operator"),
//		func(ctx context.Context, _ kubetest.Object) error {
//			return kubetest.ApplyCRDFile(ctx, srv.Config(), "/path/to/cilium-l2-lb.yaml")
//		}))
//
// # Fidelity: what is a choice of this stand-in, not upstream behaviour
//
//   - Status is written at once: no pod exists, no image is pulled, no
//     probe runs; minReadySeconds and the rolling update's pace (maxSurge,
//     maxUnavailable) are not played out, only their end state. The one
//     use of maxUnavailable is the Available condition of a withheld
//     Deployment, computed as the controller does.
//   - No ReplicaSet, Pod, ControllerRevision, PersistentVolume or
//     Endpoints object is created; the ReplicaSet name in the Deployment's
//     message and the StatefulSet's revisions use an FNV hash of the pod
//     template in the controllers' encoding, not byte for byte the
//     controllers' hash.
//   - Every DaemonSet runs on every node: nodeSelector, affinity and
//     tolerations are not evaluated, and no Node object exists.
//   - Every PVC binds at once, whatever its StorageClass
//     (WaitForFirstConsumer included, which on a cluster waits for a pod).
//   - A LoadBalancer Service that asks for no address stays pending (Cilium
//     would take one from a CiliumLoadBalancerIPPool); a requested address
//     is not checked against any pool. Services with a loadBalancerClass
//     other than io.cilium/* are left to their load balancer.
//   - progressDeadlineSeconds never expires: a withheld Deployment stays
//     Progressing, never ProgressDeadlineExceeded; timeouts come from the
//     waiting side (Helm's timeout).
//   - Pods themselves (e.g. Helm test hooks) get no status.
//   - Namespaces are never deleted (no namespace controller), and no
//     default ServiceAccount is created in a new namespace.
//   - There is no garbage collector: a delete with propagation Background or
//     Orphan (Helm's hooks, rollbacks and its default uninstall) is done at
//     once, but one with Foreground waits forever for the finalizer the
//     garbage collector would remove.
//
// Controllers of several tests on one server must watch disjoint
// namespaces (InNamespaces); a status the server refuses or a hook that
// fails is reported by Controllers.Err and fails the test through
// Server.Controllers.
package kubetest
