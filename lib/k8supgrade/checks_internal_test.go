package k8supgrade

import (
	"testing"

	"github.com/cosi-project/runtime/pkg/resource"
	"github.com/cosi-project/runtime/pkg/state"
	"github.com/siderolabs/talos/pkg/machinery/resources/k8s"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"
)

// TestTheChecksStateIsReadOnly: the state the pre-upgrade checks get reads
// from the node a request names and refuses every write and watch with an
// error (never a panic).
func TestTheChecksStateIsReadOnly(t *testing.T) {
	st := state.WrapCore(nodeStates{})
	ctx := t.Context()
	ptr := k8s.NewStaticPod(k8s.NamespaceName, "kube-apiserver").Metadata()
	res := k8s.NewStaticPod(k8s.NamespaceName, "kube-apiserver")
	for name, call := range map[string]func() error{
		"create":  func() error { return st.Create(ctx, res) },
		"update":  func() error { return st.Update(ctx, res) },
		"destroy": func() error { return st.Destroy(ctx, ptr) },
		"watch":   func() error { return st.Watch(ctx, ptr, make(chan state.Event)) },
		"watch kind": func() error {
			return st.WatchKind(ctx, resource.NewMetadata(k8s.NamespaceName, k8s.StaticPodType, "", resource.VersionUndefined), make(chan state.Event))
		},
	} {
		require.ErrorIs(t, call(), errReadOnly, name)
	}
	_, err := st.Get(ctx, ptr)
	require.ErrorContains(t, err, "the request names no single node")
	_, err = st.List(metadata.AppendToOutgoingContext(ctx, "node", "a", "node", "b"), ptr)
	require.ErrorContains(t, err, "the request names no single node ([a b])")
}
