// Package nodesim is a stand-in for Talos nodes over loopback: each node
// serves Talos's MachineService (machinery's generated gRPC interface) and
// the COSI state API with TLS as a real node does. A fresh node is in
// maintenance mode (a self-signed certificate, no client certificate asked
// for, only ApplyConfiguration and Version answer); once it has a config it
// serves a certificate of the cluster's CA and accepts only clients holding
// one. Configs are checked with machinery's own loader; bootstrap, etcd
// membership, the kubeconfig and service health follow the cluster's state.
// Every request is recorded, so tests prove what a client sent where.
package nodesim
