package talosnode

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/client"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wdiazux/infra/lib/inventory"
)

// NodeState is what a node says it is.
type NodeState int

// The states Probe tells apart.
const (
	// Maintenance is a fresh node waiting for its config: it answers with
	// a certificate the cluster's CA did not sign.
	Maintenance NodeState = iota + 1
	// Configured is a node of this cluster: it answers a client the
	// talosconfig authenticates.
	Configured
)

// String names the state.
func (s NodeState) String() string {
	switch s {
	case Maintenance:
		return "maintenance mode"
	case Configured:
		return "configured"
	}
	return "unknown"
}

// Probe asks a node which state it is in: authenticated with the
// talosconfig first (Configured), then, when the node's certificate is not
// the cluster's, insecurely as to a fresh node (Maintenance). A node that
// does not answer either way is an error naming it and its address.
func (c *Cluster) Probe(ctx context.Context, node string) (NodeState, error) {
	ns, err := c.nodes(node)
	if err != nil {
		return 0, err
	}
	n := ns[0]
	err = c.versionWith(ctx, n, c.connect)
	if err == nil {
		return Configured, nil
	}
	if !inMaintenance(err) {
		return 0, c.nodeErr(n, "ask the node's state", err)
	}
	if err := c.versionWith(ctx, n, c.connectInsecure); err != nil {
		return 0, c.nodeErr(n, "ask the node's state in maintenance mode", err)
	}
	return Maintenance, nil
}

// versionWith calls Version over a client from connect.
func (c *Cluster) versionWith(ctx context.Context, n inventory.TalosNode, connect func(context.Context, inventory.TalosNode) (*client.Client, error)) error {
	cl, err := connect(ctx, n)
	if err != nil {
		return err
	}
	defer cl.Close() //nolint:errcheck
	_, err = cl.Version(ctx)
	return err
}

// Unchanged says a dry run's answer is that the node's config would not
// change, as Talos says it: its config diff is "No changes.".
func (r ApplyResult) Unchanged() bool {
	return strings.HasSuffix(strings.TrimSpace(r.Details), "No changes.")
}

// ErrStaleKubeconfig means the kubeconfig on disk is not one the cluster
// accepts (another cluster's, another endpoint, or an expired or foreign
// client certificate).
var ErrStaleKubeconfig = errors.New("the kubeconfig is not the cluster's")

// CheckKubeconfig checks, without a call to any node, that the kubeconfig
// in the output directory is one the cluster accepts: its current
// context's cluster is at the endpoint of the generated control-plane
// config (or WithKubernetesEndpoint's) and trusts that config's
// Kubernetes CA, and its user's client certificate is signed by that CA,
// for client authentication, and valid now — what the Kubernetes API server checks. A missing kubeconfig is a
// *MissingFileError; any mismatch wraps ErrStaleKubeconfig with what
// differs.
func (c *Cluster) CheckKubeconfig() error {
	path := filepath.Join(c.dir, KubeconfigFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return &MissingFileError{Path: path, File: Kubeconfig}
	}
	cp, err := c.controlPlane("")
	if err != nil {
		return err
	}
	data, err := c.readConfig(cp)
	if err != nil {
		return err
	}
	cfg, err := configloader.NewFromBytes(data)
	if err != nil {
		return fmt.Errorf("%s: %w", c.ConfigFile(cp), err)
	}
	ca := cfg.Cluster().IssuingCA()
	if ca == nil || cfg.Cluster().Endpoint() == nil {
		return fmt.Errorf("%s: no Kubernetes CA or endpoint in the control plane's config", c.ConfigFile(cp))
	}
	endpoint := cfg.Cluster().Endpoint().String()
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return fmt.Errorf("%w: %s does not parse: %w", ErrStaleKubeconfig, path, err)
	}
	stale := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrStaleKubeconfig, path, fmt.Sprintf(format, args...))
	}
	ctxt, ok := kc.Contexts[kc.CurrentContext]
	if !ok {
		return stale("no current context %q", kc.CurrentContext)
	}
	cluster, user := kc.Clusters[ctxt.Cluster], kc.AuthInfos[ctxt.AuthInfo]
	if cluster == nil || user == nil {
		return stale("context %q names a cluster or user it does not hold", kc.CurrentContext)
	}
	switch {
	case c.kubeEndpoint != "" && cluster.Server != c.kubeEndpoint:
		return stale("server %s, the cluster's API server is reached at %s", cluster.Server, c.kubeEndpoint)
	case c.kubeEndpoint == "" && cluster.Server != endpoint:
		return stale("server %s, the cluster's endpoint is %s", cluster.Server, endpoint)
	}
	if strings.TrimSpace(string(cluster.CertificateAuthorityData)) != strings.TrimSpace(string(ca.Crt)) {
		return stale("its certificate authority is not the cluster's Kubernetes CA")
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca.Crt) {
		return fmt.Errorf("%s: the Kubernetes CA does not parse", c.ConfigFile(cp))
	}
	block, _ := pem.Decode(user.ClientCertificateData)
	if block == nil {
		return stale("user %q has no client certificate", ctxt.AuthInfo)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return stale("user %q's client certificate does not parse: %v", ctxt.AuthInfo, err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: time.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return stale("user %q's client certificate: %v", ctxt.AuthInfo, err)
	}
	return nil
}
