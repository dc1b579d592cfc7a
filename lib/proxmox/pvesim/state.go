package pvesim

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// world is the simulator's state. Every field is guarded by mu.
type world struct {
	mu       sync.Mutex
	node     string
	version  string
	cpus     int
	memory   int64
	storages map[string]*storage
	bridges  []string
	mappings map[string]PCIMapping
	roles    map[string][]string
	subjects map[string]*subject
	tickets  map[string]*session
	vms      map[int]*vm
	tasks    map[string]*task
	order    []string // task UPIDs, oldest first
	pid      uint32
	dataDir  string
	// firstToken is the ID of the setup's first token.
	firstToken string
}

// subject is a user or a token, with what authenticates it and its ACL.
type subject struct {
	id     string // user@realm or user@realm!token
	secret string // token secret or user password
	token  bool
	acl    []ACL
}

// session is a ticket issued by POST /access/ticket.
type session struct {
	user    string
	csrf    string
	expires time.Time
}

// storage is a configured storage and its volumes.
type storage struct {
	StorageSetup
	content map[string]bool
	dir     string // where a file-based storage keeps its files
	volumes map[string]*volume
}

// volume is one volume of a storage.
type volume struct {
	name    string // volname, e.g. "import/talos.qcow2" or "vm-100-disk-0"
	content string
	format  string
	size    int64 // virtual size
	used    int64 // bytes on the storage
	ctime   int64
	vmid    int
	file    string // real file of a file-based volume
}

// vm is a QEMU VM and its configuration.
type vm struct {
	vmid int
	conf *config
	lock string
}

// config is a VM configuration: keys in the order they were written.
type config struct {
	keys []string
	vals map[string]string
}

func newConfig() *config { return &config{vals: map[string]string{}} }

func (c *config) get(k string) (string, bool) {
	v, ok := c.vals[k]
	return v, ok
}

func (c *config) set(k, v string) {
	if _, ok := c.vals[k]; !ok {
		c.keys = append(c.keys, k)
	}
	c.vals[k] = v
}

func (c *config) del(k string) {
	if _, ok := c.vals[k]; !ok {
		return
	}
	delete(c.vals, k)
	c.keys = slices.DeleteFunc(c.keys, func(x string) bool { return x == k })
}

// text renders the config file, which the digest is computed over.
func (c *config) text() string {
	keys := slices.Clone(c.keys)
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, c.vals[k])
	}
	return b.String()
}

func (c *config) digest() string {
	sum := sha1.Sum([]byte(c.text()))
	return hex.EncodeToString(sum[:])
}

// disks returns the config keys that hold a volume (scsiN, virtioN, sataN,
// ideN, efidisk0, tpmstate0, unusedN), sorted.
func (c *config) disks() []string {
	var out []string
	for _, k := range c.keys {
		if isDiskKey(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func isDiskKey(k string) bool {
	for _, p := range []string{"scsi", "virtio", "sata", "ide", "unused"} {
		if rest, ok := strings.CutPrefix(k, p); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return k == "efidisk0" || k == "tpmstate0"
}

func newWorld(setup Setup, dataDir string) (*world, error) {
	w := &world{
		node: setup.Node, version: setup.Version, cpus: setup.CPUs, memory: setup.MemoryBytes,
		storages: map[string]*storage{}, bridges: slices.Clone(setup.Bridges), mappings: map[string]PCIMapping{},
		roles: builtinRoles(), subjects: map[string]*subject{}, tickets: map[string]*session{},
		vms: map[int]*vm{}, tasks: map[string]*task{}, pid: 0x1000, dataDir: dataDir,
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
		w.subjects[t.ID] = &subject{id: t.ID, secret: t.Secret, token: true, acl: t.ACL}
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

// contentList renders a storage's content types as PVE lists them.
func (s *storage) contentList() string {
	var out []string
	for c := range s.content {
		out = append(out, c)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// used is the bytes the storage's volumes take.
func (s *storage) used() int64 {
	var n int64
	for _, v := range s.volumes {
		n += v.used
	}
	return n
}

// subdir is where a file-based storage keeps a content type, relative to its path.
func subdir(content string) string {
	switch content {
	case "iso":
		return "template/iso"
	case "vztmpl":
		return "template/cache"
	case "backup":
		return "dump"
	case "import":
		return "import"
	case "snippets":
		return "snippets"
	}
	return "images"
}

// pvePath is the path of a file as PVE would report it on the node.
func (s *storage) pvePath(content, file string) string {
	return s.Path + "/" + subdir(content) + "/" + file
}

// realPath is where the simulator keeps that file.
func (s *storage) realPath(content, file string) string {
	return filepath.Join(s.dir, subdir(content), file)
}

// allocDisk creates a new disk volume for vmid on the storage and returns
// its volume name: "vm-100-disk-0" on block storages, "100/vm-100-disk-0.raw"
// on file storages.
func (s *storage) allocDisk(vmid int, size int64, format string, prefix string) *volume {
	if prefix == "" {
		prefix = "vm"
	}
	if format == "" || !fileBased(s.Type) {
		format = "raw"
	}
	for n := 0; ; n++ {
		name := fmt.Sprintf("%s-%d-disk-%d", prefix, vmid, n)
		if fileBased(s.Type) {
			name = fmt.Sprintf("%d/%s.%s", vmid, name, format)
		}
		if _, taken := s.volumes[name]; taken {
			continue
		}
		v := &volume{name: name, content: "images", format: format, size: size, used: size, ctime: time.Now().Unix(), vmid: vmid}
		s.volumes[name] = v
		return v
	}
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

// findVolume looks a volume ID up.
func (w *world) findVolume(volid string) (*storage, *volume, bool) {
	id, err := pve.ParseVolumeID(volid)
	if err != nil {
		return nil, nil, false
	}
	st, ok := w.storages[id.Storage]
	if !ok {
		return nil, nil, false
	}
	v, ok := st.volumes[id.Name]
	return st, v, ok
}
