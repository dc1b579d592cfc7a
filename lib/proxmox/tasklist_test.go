package proxmox_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox"
)

// TestVMTasks lists one VM's tasks, newest first, each with its outcome:
// a failed task keeps the error it died with, another VM's tasks are not
// listed.
func TestVMTasks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, id := range []int{200, 201} {
		_, err := e.client.CreateVM(ctx, "pve", id, proxmox.Params{"name": "t"}, nil)
		require.NoError(t, err)
	}
	e.sim.FailNextTask("qmtemplate", "rename failed")
	require.Error(t, e.client.ConvertToTemplate(ctx, "pve", 200))

	tasks, err := e.client.VMTasks(ctx, "pve", 200, 0)
	require.NoError(t, err)
	require.Len(t, tasks, 2)
	require.Equal(t, "qmtemplate", tasks[0].Type)
	require.Equal(t, "rename failed", tasks[0].Status)
	require.False(t, tasks[0].OK())
	require.Equal(t, "qmcreate", tasks[1].Type)
	require.True(t, tasks[1].OK())
	require.Equal(t, "200", tasks[1].ID)
	require.False(t, tasks[1].End.Before(tasks[1].Start))

	require.True(t, proxmox.TaskInfo{Status: "WARNINGS: 2"}.OK(), "PVE counts warnings as success")
	require.False(t, proxmox.TaskInfo{Status: "RUNNING"}.OK())
}
