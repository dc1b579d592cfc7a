// Package helmdeploy keeps a set of Helm releases at a declared state on a
// Kubernetes cluster, through the Helm v4 SDK: each release is installed or
// upgraded from a chart repository (HTTP or OCI, or a mirror standing in
// for them) at a pinned version with its values, in the order the
// releases' dependencies give, waited on until its objects are ready, and
// rolled back when they do not become ready. A release whose chart version
// and values are unchanged is left alone: no new revision.
package helmdeploy
