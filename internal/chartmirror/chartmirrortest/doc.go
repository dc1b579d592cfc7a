// Package chartmirrortest serves, over loopback, what chartmirror.Build
// reads: a chart repository folder as the charts' repository, and
// Cilium's two CRD files under their source paths, for tests.
package chartmirrortest
