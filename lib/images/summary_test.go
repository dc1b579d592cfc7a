package images_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/plan"
)

func TestWriteCloudSummary(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, images.WriteCloudSummary(&b,
		&images.CloudImportReport{OS: "debian", Release: "13", BaseVMID: 9110, Name: "debian-13-base", Build: images.CloudBuild{Serial: "20261118-2301"},
			Action: plan.Create, DryRun: true, Calls: []plan.Call{{Method: "POST", Path: "/nodes/pve/qemu", Params: []plan.Param{{Key: "vmid", Value: "9110"}}}}},
		&images.CloudImportReport{OS: "ubuntu", Release: "24.04", BaseVMID: 9100, Name: "ubuntu-24-04-base", Build: images.CloudBuild{Serial: "20261120"},
			Action: plan.Unchanged, Locked: true}))
	require.Equal(t, "OS      RELEASE  BASE VM                 BUILD          ACTION                           CALLS\n"+
		"debian  13       9110 debian-13-base     20261118-2301  would create                     1\n"+
		"ubuntu  24.04    9100 ubuntu-24-04-base  20261120       unchanged, recorded in the lock  0\n"+
		"\nDry run: nothing was changed. A real run would make these calls for debian:\n"+
		"  POST /nodes/pve/qemu vmid=9110\n", b.String())
}
