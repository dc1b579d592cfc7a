// Package kubenode takes a node out of a Kubernetes cluster through
// client-go, as `kubectl drain` and `kubectl delete node` do: Cordon marks
// it unschedulable, Drain cordons it and evicts its pods through the
// Eviction API, so PodDisruptionBudgets are respected (an eviction a
// budget refuses is asked again until a deadline), and waits until they
// are gone; Delete removes the Node object.
//
// Pods of a DaemonSet and mirror pods (a kubelet's static pods) are left
// in place, as kubectl drain's --ignore-daemonsets does: they go with the
// node. Every other pod is evicted, a pod no controller recreates too
// (kubectl's --force), and one with emptyDir data (its
// --delete-emptydir-data): the node is leaving for good.
//
// Each call decides from the API server's state, so calling it again after
// an interruption continues where it stopped; a node that does not exist
// has nothing to drain or delete.
package kubenode
