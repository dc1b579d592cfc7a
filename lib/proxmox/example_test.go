package proxmox_test

import (
	"context"
	"fmt"

	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// A Go program using lib/proxmox, here against the simulator. Against a real
// host, build the client with proxmox.NewFromEnv() instead.
func Example() {
	sim, err := pvesim.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	id, secret := sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint()})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()

	v, _ := client.Version(ctx)
	fmt.Println("Proxmox VE", v.Release)

	changed, _ := client.EnsureStorageContent(ctx, "local", "import")
	fmt.Println("enabled import content:", changed)

	vmid, _ := client.NextID(ctx)
	_, err = client.CreateVM(ctx, "pve", vmid, proxmox.Params{
		"name":  "example",
		"scsi0": proxmox.Disk{Storage: "local-zfs", SizeGiB: 8, Discard: true}.String(),
		"tags":  "example",
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, _ := client.VMConfig(ctx, "pve", vmid)
	fmt.Println(vmid, cfg.Get("name"), cfg.Get("scsi0"))

	deleted, _ := client.DeleteVM(ctx, "pve", vmid, true)
	fmt.Println("deleted:", deleted)
	// Output:
	// Proxmox VE 9.0
	// enabled import content: true
	// 100 example local-zfs:vm-100-disk-0,discard=on,size=8G
	// deleted: true
}
