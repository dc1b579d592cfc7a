package etcdbackup_test

import (
	"fmt"

	"github.com/wdiazux/infra/lib/etcdbackup"
)

// Each snapshot has its record beside it: the same name, .json.
func ExampleRecordPath() {
	fmt.Println(etcdbackup.RecordPath("backups/etcd/etcd-homelab-20261127T090000Z.snapshot.age"))
	// Output:
	// backups/etcd/etcd-homelab-20261127T090000Z.json
}
