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
package nodesim
