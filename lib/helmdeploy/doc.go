// Package helmdeploy keeps a set of Helm releases at a declared state on a
// Kubernetes cluster, through the Helm v4 SDK: each release is installed or
// upgraded from a chart repository (HTTP or OCI, or a mirror standing in
// for them) at a pinned version with its values, in the order the
// releases' dependencies give, waited on until its objects are ready, and
// rolled back when they do not become ready. A release whose chart version
// and values are unchanged is left alone: no new revision. It knows nothing
// of the inventory: a caller builds the []Release.
//
// # Use
//
// New (a *rest.Config) or NewFromKubeconfig returns a Deployer; options set
// the default wait timeout, a progress callback (the package never
// prints), the chart cache folder, a mirror and the repositories' HTTP
// client. Deployer.Apply installs, Deployer.Diff renders and compares
// without changing anything, Deployer.Status and Deployer.LoadBalancers
// report. Order validates and orders a set without a cluster; Template
// renders it offline, as helm template does, for linters.
//
// Apply first validates the whole set (Order), loads every chart and checks
// every release's values against its chart's values.schema.json, and checks
// that the API server answers; only then does it touch the cluster, so a
// bad value or an unreachable server leaves nothing half-installed. Then,
// release by release: the namespace is created or labelled, a Manifests
// release waits until the API server serves its kinds (their CRD may come
// from an operator an earlier release starts), and the release is
// installed, upgraded or left unchanged.
//
// # Errors
//
// Every error is typed and wraps its cause: *ReleaseSetError and
// *CycleError (both ErrInvalidRelease) for the set, *ChartNotFoundError and
// *RepositoryError (host and phase) for charts, *ValuesError for values a
// schema refuses, *UnreachableError, *DependencyNotDeployedError for Only,
// *KindsNotServedError, and *ReleaseFailedError for a release that failed,
// with the objects that were not ready ("Deployment monitoring/grafana:
// Replicas: 0/1") and whether it was rolled back or uninstalled.
//
// # Choices where Helm leaves it open
//
//   - Unchanged: Helm makes a new revision on every upgrade. Here a release
//     is left alone when its latest revision is deployed, with the same
//     chart name and version and the same values compared after a JSON
//     round trip (stored numbers come back as float64), and for a
//     Manifests release the same manifests. Namespace labels are set
//     whether or not the release changes.
//   - Wait: Helm's "watcher" strategy (kstatus) with the release's timeout;
//     progress comes from its records of the object waited for.
//   - Failure: a failed upgrade is rolled back to the latest deployed or
//     superseded revision without waiting again (that revision was ready;
//     the objects that held the upgrade would hold the rollback too); a
//     failed first install is uninstalled; a release with no deployed
//     revision (a failed install kept by hand) is uninstalled and installed
//     anew. Apply stops at the first failed release: later ones may depend
//     on it.
//   - Manifests releases are a chart built in memory (chart/v2) whose only
//     template includes the manifests file verbatim with .Files.Get, so
//     "{{" in a manifest stays text.
//   - Charts: with a mirror, every chart (OCI ones too) is looked up by
//     name and version in the mirror's index.yaml. An archive is checked
//     against the index's sha256 digest when downloaded and kept in the
//     cache folder per source, name and version; a cached archive is used
//     without asking the network. OCI pulls are checked by their
//     content digests.
//   - Diff: Helm's server-side dry run renders (lookups see the cluster);
//     each object is then server-side applied with dryRun=All as the
//     field manager that owns it (else Helm's default), so server defaults
//     and fields Helm would drop show; managedFields, status,
//     resourceVersion, uid, creationTimestamp, generation are left out and
//     Secret values replaced by a sha256 prefix. Hooks are not compared.
//   - Progress while waiting names the object Helm's status watcher
//     reports (the first unready one by name); the error at the end names
//     every unready object.
//   - Cancelling ctx returns at once, but Helm finishes an install or
//     upgrade already sent in the background (Helm's RunWithContext);
//     the next Apply finds its revision.
//   - CRDs in a chart's crds/ folder are installed with the first revision
//     and not upgraded afterwards (Helm's rule).
//   - Release records are Secrets in the release's namespace (Helm's
//     default driver), so the helm command sees the same releases.
package helmdeploy
