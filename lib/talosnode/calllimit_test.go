package talosnode

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wdiazux/infra/lib/netx"
)

// TestCallLimitNamesTheNodeEvenWhenTheNodeSaysItFirst: gRPC sends the
// deadline along, so the node may end the call with DeadlineExceeded a
// moment before the limit ends here; it is still the limit.
func TestCallLimitNamesTheNodeEvenWhenTheNodeSaysItFirst(t *testing.T) {
	nodeSaysDeadline := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
		return status.Error(codes.DeadlineExceeded, "stream terminated by RST_STREAM with error code: CANCEL")
	}
	limit := callLimit("10.10.2.10:50000", time.Minute)

	err := limit(t.Context(), "/machine.MachineService/Version", nil, nil, nil, nodeSaysDeadline)
	var pe *netx.PhaseError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "10.10.2.10:50000", pe.Host)
	require.Equal(t, netx.LimitOverall, pe.Limit)
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "the gRPC code stays readable")

	// A caller's deadline nearer than the limit is the caller's to report.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	err = limit(ctx, "/machine.MachineService/Version", nil, nil, nil, nodeSaysDeadline)
	require.False(t, netx.IsTimeout(err))
	require.Equal(t, codes.DeadlineExceeded, status.Code(err))
}
