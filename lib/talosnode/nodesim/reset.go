package nodesim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The system partitions a node has, by label.
const (
	labelEphemeral = "EPHEMERAL"
	labelState     = "STATE"
)

// Reset wipes system partitions as Talos's reset does, then reboots the
// node (or powers it off: it stays down until SetDown(name, false)).
// EPHEMERAL loses /var (a control plane's etcd data: WipeEphemeral); STATE,
// or the whole system disk (no partitions named), also loses the config:
// the node boots into maintenance mode (Reset). The reset happens before
// the call answers; on Talos it runs after.
func (m *machineServer) Reset(ctx context.Context, req *machineapi.ResetRequest) (*machineapi.ResetResponse, error) {
	if err := m.configuredOnly(ctx, "Reset"); err != nil {
		return nil, err
	}
	n, s := m.node, m.node.sim
	if len(req.GetUserDisksToWipe()) > 0 {
		if req.GetMode() == machineapi.ResetRequest_SYSTEM_DISK {
			return nil, errors.New("reset failed: invalid input, wipe mode SYSTEM_DISK doesn't support UserDisksToWipe parameter")
		}
		return nil, fmt.Errorf("reset user disk failed: device %s wasn't found", req.GetUserDisksToWipe()[0])
	}
	parts := req.GetSystemPartitionsToWipe()
	if len(parts) > 0 && req.GetMode() == machineapi.ResetRequest_USER_DISKS {
		return nil, errors.New("reset failed: invalid input, wipe mode USER_DISKS doesn't support SystemPartitionsToWipe parameter")
	}
	wipeState := len(parts) == 0 && req.GetMode() != machineapi.ResetRequest_USER_DISKS
	wipeEphemeral := wipeState
	for _, p := range parts {
		switch p.GetLabel() {
		case labelEphemeral:
			wipeEphemeral = wipeEphemeral || p.GetWipe()
		case labelState:
			wipeState = wipeState || p.GetWipe()
		default:
			return nil, status.Errorf(codes.Unknown, "failed to get volume status with label %q: resource VolumeStatuses.block.talos.dev(runtime/%s@undefined) doesn't exist", p.GetLabel(), p.GetLabel())
		}
	}
	if wipeEphemeral {
		if err := s.WipeEphemeral(n.name); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
	}
	if wipeState {
		s.Reset(n.name)
	}
	if !req.GetReboot() {
		s.SetDown(n.name, true)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &machineapi.ResetResponse{Messages: []*machineapi.Reset{{ActorId: hex.EncodeToString(id)}}}, nil
}
