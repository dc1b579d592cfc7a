package pvesim

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// world is the simulator's state. Every field is guarded by mu. The types
// it holds sit beside the handlers of their endpoint group: subjects and
// sessions in auth.go, storages and volumes in storage.go, VMs and configs
// in qemu.go, tasks in tasks.go.
type world struct {
	mu       sync.Mutex
	node     string
	version  string
	cpus     int
	memory   int64
	storages map[string]*storage
	bridges  []string
	// dnsServers and searchDomains are the node's resolv.conf.
	dnsServers    []string
	searchDomains []string
	mappings      map[string]PCIMapping
	roles         map[string][]string
	subjects      map[string]*subject
	tickets       map[string]*session
	vms           map[int]*vm
	tasks         map[string]*task
	// stats is pvestatd's last view of the VMs, which /cluster/resources
	// reads; statsInterval is how often it is refreshed (0: never, the
	// list is live).
	stats         map[int]vmStats
	statsInterval time.Duration
	order         []string // task UPIDs, oldest first
	pid           uint32
	dataDir       string
	// firstToken is the ID of the setup's first token.
	firstToken string
}

// newWorld builds the world a Setup describes; file-based storages keep
// their files under dataDir.
func newWorld(setup Setup, dataDir string) (*world, error) {
	w := &world{
		node: setup.Node, version: setup.Version, cpus: setup.CPUs, memory: setup.MemoryBytes,
		storages: map[string]*storage{}, bridges: slices.Clone(setup.Bridges),
		dnsServers: slices.Clone(setup.DNSServers), searchDomains: slices.Clone(setup.SearchDomains), mappings: map[string]PCIMapping{},
		roles: builtinRoles(), subjects: map[string]*subject{}, tickets: map[string]*session{},
		vms: map[int]*vm{}, tasks: map[string]*task{}, pid: 0x1000, dataDir: dataDir,
		stats: map[int]vmStats{},
	}
	if w.node == "" {
		w.node = "pve"
	}
	if w.version == "" {
		w.version = "9.0.3"
	}
	for name, privs := range setup.Roles {
		w.roles[name] = privs
	}
	for _, st := range setup.Storages {
		if err := w.addStorage(st); err != nil {
			return nil, err
		}
	}
	for _, m := range setup.PCIMappings {
		w.mappings[m.ID] = m
	}
	for _, u := range setup.Users {
		w.subjects[u.ID] = &subject{id: u.ID, secret: u.Password, acl: u.ACL}
	}
	for _, t := range setup.Tokens {
		user, _, _ := strings.Cut(t.ID, "!")
		owner := w.subjects[user]
		if owner == nil && t.NoPrivsep {
			return nil, fmt.Errorf("pvesim: token %s has NoPrivsep (privsep=0) but its user %s is not in Setup.Users: add the user with its ACL", t.ID, user)
		}
		w.subjects[t.ID] = &subject{id: t.ID, secret: t.Secret, token: true, acl: t.ACL, owner: owner, privsep: !t.NoPrivsep}
		if w.firstToken == "" {
			w.firstToken = t.ID
		}
	}
	for _, v := range setup.VMs {
		c := newConfig()
		c.set("name", v.Name)
		if v.Tags != "" {
			tags, err := pve.NormalizeTags(v.Tags)
			if err != nil {
				return nil, fmt.Errorf("pvesim: VM %d: %w", v.VMID, err)
			}
			c.set("tags", tags)
		}
		if v.Template {
			c.set("template", "1")
		}
		c.set("memory", "2048")
		w.vms[v.VMID] = &vm{vmid: v.VMID, conf: c}
	}
	return w, nil
}

func (w *world) addStorage(st StorageSetup) error {
	if !pve.ValidStorageID(st.ID) || contentAllowed(st.Type) == nil {
		return fmt.Errorf("pvesim: storage %q of type %q is not valid", st.ID, st.Type)
	}
	if st.TotalBytes == 0 {
		st.TotalBytes = 1 << 40
	}
	s := &storage{StorageSetup: st, content: map[string]bool{}, volumes: map[string]*volume{}}
	for _, c := range st.Content {
		if !slices.Contains(contentAllowed(st.Type), c) {
			return fmt.Errorf("pvesim: storage %q of type %s cannot hold %s", st.ID, st.Type, c)
		}
		s.content[c] = true
	}
	if fileBased(st.Type) {
		if s.Path == "" {
			s.Path = "/mnt/pve/" + st.ID
		}
		s.dir = filepath.Join(w.dataDir, st.ID)
		for _, sub := range []string{"images", "import", "template/iso", "template/cache", "dump", "snippets"} {
			if err := os.MkdirAll(filepath.Join(s.dir, sub), 0o755); err != nil {
				return fmt.Errorf("pvesim: storage %s: %w", st.ID, err)
			}
		}
	}
	w.storages[st.ID] = s
	return nil
}

// nextPID returns a fresh task process ID.
func (w *world) nextPID() uint32 {
	w.pid++
	return w.pid
}

// freeVMID is the lowest unused VM ID from 100.
func (w *world) freeVMID() int {
	for id := 100; ; id++ {
		if _, taken := w.vms[id]; !taken {
			return id
		}
	}
}

func (w *world) storageIDs() []string { return slices.Sorted(maps.Keys(w.storages)) }

func (w *world) vmIDs() []int { return slices.Sorted(maps.Keys(w.vms)) }
