package talosnode

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/siderolabs/go-talos-support/support"
	"github.com/siderolabs/go-talos-support/support/bundle"
	"github.com/siderolabs/go-talos-support/support/collectors"
	"github.com/siderolabs/talos/pkg/machinery/client"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// SupportOptions are the settings of Support.
type SupportOptions struct {
	// Output is the zip file to write (default: support.zip in the
	// output directory).
	Output string
	// Node collects from one node only ("" collects from every node).
	Node string
	// Kubernetes also collects nodes and system pods through the
	// kubeconfig next to the talosconfig, when there is one.
	Kubernetes bool
	// Progress receives each collector's outcome.
	Progress func(SupportProgress)
}

// SupportProgress is one collector's outcome.
type SupportProgress struct {
	// Source is the node (or "cluster"), State the collector.
	Source, State string
	// Err is why it failed, or nil.
	Err error
	// Done collectors have finished out of Total.
	Done, Total int
}

// SupportResult says what Support wrote.
type SupportResult struct {
	// Path is the zip file (0600).
	Path string
	// Collected counts the collectors that succeeded; Failed lists the
	// ones that did not, as "source: collector: error".
	Collected int
	Failed    []string
	// NoKubernetes is why the Kubernetes collectors were left out when
	// SupportOptions.Kubernetes asked for them (a *MissingFileError when
	// there is no kubeconfig yet); nil when they ran or were not asked for.
	NoKubernetes error
}

// Support collects a support bundle, as talosctl support does (through
// go-talos-support): logs, service states, dmesg, mounts, processes and the
// Talos resources of every node, authenticated with the talosconfig. It is
// written to a temporary file and renamed, so a failed run leaves no half
// zip behind; it is 0600, since logs can hold addresses and names. Without
// a readable talosconfig it writes nothing and returns why (a
// *MissingFileError when there is none).
func (c *Cluster) Support(ctx context.Context, o SupportOptions) (*SupportResult, error) {
	nodes, err := c.nodes(o.Node)
	if err != nil {
		return nil, err
	}
	if _, err := c.talosconfig(); err != nil {
		return nil, err
	}
	out := o.Output
	if out == "" {
		out = filepath.Join(c.dir, "support.zip")
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return nil, err
	}
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	res := &SupportResult{Path: out}
	err = atomicfile.WriteFunc(out, 0o600, func(f *os.File) error { return c.collect(ctx, f, names, o, res) })
	switch {
	case errors.Is(err, ErrNothingCollected):
		return res, err
	case err != nil:
		return nil, err
	}
	return res, nil
}

// ErrNothingCollected means every collector of a support bundle failed.
var ErrNothingCollected = errors.New("no collector succeeded; is the cluster reachable? (Cluster.Health says which node does not answer)")

// collect writes the support bundle of the named nodes to f as a zip,
// counting into res, and proves the zip reads back.
func (c *Cluster) collect(ctx context.Context, f *os.File, names []string, o SupportOptions, res *SupportResult) error {
	var mu sync.Mutex
	var clients []*client.Client
	defer func() {
		for _, cl := range clients {
			cl.Close() //nolint:errcheck
		}
	}()
	byName := map[string]int{}
	for i, n := range c.inv.Talos.Nodes {
		byName[n.Name] = i
	}
	provider := func(ctx context.Context, name string) (*client.Client, error) {
		cl, err := c.connect(ctx, c.inv.Talos.Nodes[byName[name]])
		if err != nil {
			return nil, err
		}
		mu.Lock()
		clients = append(clients, cl)
		mu.Unlock()
		return cl, nil
	}
	progress := make(chan bundle.Progress)
	opts := []bundle.Option{
		bundle.WithArchiveOutput(f),
		bundle.WithNodes(names...),
		bundle.WithTalosClientProvider(provider),
		bundle.WithProgressChan(progress),
		bundle.WithNumWorkers(4),
		bundle.WithLogOutput(logWriter{c}),
	}
	if o.Kubernetes {
		if cs, err := c.kubernetesClient(); err != nil {
			c.log.Warn("no Kubernetes collectors", "why", err)
			res.NoKubernetes = err
		} else {
			opts = append(opts, bundle.WithKubernetesClient(cs))
		}
	}
	options := bundle.NewOptions(opts...)
	cols, err := collectors.GetForOptions(ctx, options)
	if err != nil {
		return fmt.Errorf("prepare the support bundle: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range progress {
			if p.Error != nil {
				res.Failed = append(res.Failed, fmt.Sprintf("%s: %s: %v", p.Source, p.State, p.Error))
			} else {
				res.Collected++
			}
			if o.Progress != nil {
				o.Progress(SupportProgress{Source: p.Source, State: p.State, Err: p.Error, Done: res.Collected + len(res.Failed), Total: len(cols)})
			}
		}
	}()
	err = support.CreateSupportBundle(ctx, options, cols...)
	close(progress)
	<-done
	if err != nil {
		return fmt.Errorf("collect the support bundle: %w", err)
	}
	if res.Collected == 0 {
		return ErrNothingCollected
	}
	return checkZip(f)
}

// kubernetesClient builds a client from the kubeconfig in the output directory.
func (c *Cluster) kubernetesClient() (*kubernetes.Clientset, error) {
	path := filepath.Join(c.dir, KubeconfigFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, &MissingFileError{Path: path, File: Kubeconfig}
	} else if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// checkZip proves the archive is complete.
func checkZip(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := zip.NewReader(f, fi.Size()); err != nil {
		return fmt.Errorf("the support bundle is not a readable zip: %w", err)
	}
	return nil
}

// logWriter sends go-talos-support's log lines to the logger.
type logWriter struct{ c *Cluster }

func (w logWriter) Write(p []byte) (int, error) {
	w.c.log.Debug("support bundle", "msg", string(p))
	return len(p), nil
}
