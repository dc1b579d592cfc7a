package talosnode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// KubeconfigFile is the kubeconfig's name in the output directory.
const KubeconfigFile = "kubeconfig"

// KubeconfigOptions are the settings of Kubeconfig.
type KubeconfigOptions struct {
	// Node is the control plane to ask (default: the first).
	Node string
	// Merge also merges the kubeconfig into MergeInto.
	Merge bool
	// MergeInto is the kubeconfig to merge into (default: the first path
	// of $KUBECONFIG, else ~/.kube/config).
	MergeInto string
}

// KubeconfigResult says what Kubeconfig wrote.
type KubeconfigResult struct {
	// Path is the cluster's kubeconfig in the output directory.
	Path string
	// Changed says it differs from what was there.
	Changed bool
	// MergedInto is the kubeconfig it was merged into, or "".
	MergedInto string
	// Context is the kubeconfig's current context.
	Context string
}

// Kubeconfig fetches the cluster's admin kubeconfig from a control plane
// and writes it (0600) next to the talosconfig; with Merge it also merges
// it into the user's kubeconfig (0600), replacing the entries of the same
// names and making its context the current one.
func (c *Cluster) Kubeconfig(ctx context.Context, o KubeconfigOptions) (KubeconfigResult, error) {
	n, err := c.controlPlane(o.Node)
	if err != nil {
		return KubeconfigResult{}, err
	}
	cl, err := c.connect(ctx, n)
	if err != nil {
		return KubeconfigResult{}, err
	}
	defer cl.Close() //nolint:errcheck
	data, err := cl.Kubeconfig(ctx)
	if err != nil {
		return KubeconfigResult{}, c.nodeErr(n, "fetch the kubeconfig", err)
	}
	fresh, err := clientcmd.Load(data)
	if err != nil {
		return KubeconfigResult{}, fmt.Errorf("%s sent a kubeconfig that does not parse: %w", n.Name, err)
	}
	res := KubeconfigResult{Path: filepath.Join(c.dir, KubeconfigFile), Context: fresh.CurrentContext}
	old, err := os.ReadFile(res.Path)
	res.Changed = err != nil || !bytes.Equal(old, data)
	if res.Changed {
		if err := os.MkdirAll(c.dir, 0o700); err != nil {
			return res, err
		}
		if err := atomicfile.Write(res.Path, data, 0o600); err != nil {
			return res, err
		}
	}
	if !o.Merge {
		return res, nil
	}
	into := o.MergeInto
	if into == "" {
		into = clientcmd.NewDefaultClientConfigLoadingRules().GetDefaultFilename()
	}
	if err := mergeKubeconfig(into, fresh); err != nil {
		return res, err
	}
	res.MergedInto = into
	return res, nil
}

// mergeKubeconfig merges cfg into the kubeconfig at path (created when
// missing), written atomically with mode 0600.
func mergeKubeconfig(path string, cfg *clientcmdapi.Config) error {
	base := clientcmdapi.NewConfig()
	if _, err := os.Stat(path); err == nil {
		if base, err = clientcmd.LoadFromFile(path); err != nil {
			return fmt.Errorf("read %s to merge into: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for name, v := range cfg.Clusters {
		base.Clusters[name] = v
	}
	for name, v := range cfg.AuthInfos {
		base.AuthInfos[name] = v
	}
	for name, v := range cfg.Contexts {
		base.Contexts[name] = v
	}
	base.CurrentContext = cfg.CurrentContext
	out, err := clientcmd.Write(*base)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, out, 0o600)
}
