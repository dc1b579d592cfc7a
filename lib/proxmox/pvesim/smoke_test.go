package pvesim_test

import (
	"testing"
	"fmt"
)

func TestSmoke(t *testing.T) {
	s := newSim(t)
	a := s.call("GET", "/version", nil)
	fmt.Println(a.status, a.reason, a.body)
	a = s.call("GET", "/nodes/pve/qemu/99/config", nil)
	fmt.Println(a.status, a.reason, a.body)
	a = s.call("GET", "/nodes/pve/lxc", nil)
	fmt.Println(a.status, a.reason, a.body)
	s.enableImport()
	img := imageServer(t, map[string][]byte{"talos.qcow2": qcow2(t, 1<<30, []byte("x"))})
	a = s.call("POST", "/nodes/pve/storage/local/download-url", map[string]string{"url": img.URL + "/talos.qcow2", "content": "import", "filename": "talos.qcow2"})
	fmt.Println(a.status, a.reason, a.body)
	exit, log := s.waitTask(s.upid(a))
	fmt.Println(exit); for _, l := range log { fmt.Println("  ", l) }
	a = s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "9000", "name": "talos", "scsi0": "local-zfs:0,import-from=local:import/talos.qcow2,discard=on,ssd=1,iothread=1", "net0": "virtio,bridge=vmbr0", "efidisk0": "local-zfs:1,efitype=4m,pre-enrolled-keys=0", "tags": "Talos;kubernetes", "scsihw": "virtio-scsi-single", "agent": "enabled=1"})
	fmt.Println(a.status, a.reason, a.body)
	exit, log = s.waitTask(s.upid(a))
	fmt.Println(exit, log)
	a = s.call("GET", "/nodes/pve/qemu/9000/config", nil)
	fmt.Println(a.status, a.body)
}
