package schema

import (
	"bytes"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSubsetIsFresh(t *testing.T) {
	want, err := ExtractFile("pve-apidoc.json.gz")
	require.NoError(t, err)
	got, err := os.ReadFile("subset.json")
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "subset.json is stale: run go generate ./lib/proxmox/pvesim/internal/schema")
}

func TestEveryEndpointIsInTheSubset(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	require.Len(t, s.Methods(), len(Endpoints()))
	for _, ep := range Endpoints() {
		_, ok := s.methods[ep.Method+" "+ep.Path]
		require.True(t, ok, "%s %s", ep.Method, ep.Path)
	}
}

func TestLookup(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	tests := []struct {
		method, path string
		wantPath     string
		wantVars     map[string]string
	}{
		{"GET", "/version", "/version", map[string]string{}},
		{"GET", "/nodes/pve/qemu/100/config", "/nodes/{node}/qemu/{vmid}/config", map[string]string{"node": "pve", "vmid": "100"}},
		{"DELETE", "/nodes/pve/storage/local/content/local:import/talos.qcow2", "/nodes/{node}/storage/{storage}/content/{volume}",
			map[string]string{"node": "pve", "storage": "local", "volume": "local:import/talos.qcow2"}},
		{"GET", "/nodes/pve/tasks/UPID:pve:00000001:00000001:00000001:qmcreate:100:root@pam:/status", "/nodes/{node}/tasks/{upid}/status",
			map[string]string{"node": "pve", "upid": "UPID:pve:00000001:00000001:00000001:qmcreate:100:root@pam:"}},
	}
	for _, tt := range tests {
		m, vars, ok := s.Lookup(tt.method, tt.path)
		require.True(t, ok, tt.path)
		require.Equal(t, tt.wantPath, m.Path)
		require.Equal(t, tt.wantVars, vars)
	}
	_, _, ok := s.Lookup("GET", "/nodes/pve/lxc")
	require.False(t, ok)
	_, _, ok = s.Lookup("PATCH", "/version")
	require.False(t, ok)
}

func TestValidate(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	method := func(m, path string) *Method {
		got, ok := s.methods[m+" "+path]
		require.True(t, ok, path)
		return got
	}
	download := method("POST", "/nodes/{node}/storage/{storage}/download-url")
	create := method("POST", "/nodes/{node}/qemu")
	nextid := method("GET", "/cluster/nextid")
	base := func(extra map[string]any) map[string]any {
		p := map[string]any{"node": "pve", "storage": "local", "url": "https://x/y.qcow2", "content": "import", "filename": "y.qcow2"}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	tests := []struct {
		name   string
		m      *Method
		params map[string]any
		want   Errors
		out    map[string]string
	}{
		{name: "valid download", m: download, params: base(map[string]any{"verify-certificates": true}),
			out: map[string]string{"node": "pve", "storage": "local", "url": "https://x/y.qcow2", "content": "import", "filename": "y.qcow2", "verify-certificates": "1"}},
		{name: "unknown parameter", m: download, params: base(map[string]any{"speed": "fast"}),
			want: Errors{"speed": msgNotDefined}},
		{name: "missing parameter", m: download, params: map[string]any{"node": "pve", "storage": "local", "content": "import", "filename": "y.qcow2"},
			want: Errors{"url": msgMissing}},
		{name: "bad enum", m: download, params: base(map[string]any{"content": "images"}),
			want: Errors{"content": "value 'images' does not have a value in the enumeration 'iso, vztmpl, import'\n"}},
		{name: "bad pattern", m: download, params: base(map[string]any{"url": "ftp://x/y"}),
			want: Errors{"url": "value does not match the regex pattern\n"}},
		{name: "boolean as text", m: download, params: base(map[string]any{"verify-certificates": "true"}),
			want: Errors{"verify-certificates": "type check ('boolean') failed - got 'true'\n"}},
		// pve-common 9.2 JSONSchema.pm check_object: "missing property required by '$newpath'".
		{name: "checksum requires its algorithm", m: download, params: base(map[string]any{"checksum": "abc"}),
			want: Errors{"checksum-algorithm": "missing property required by 'checksum'\n"}},
		{name: "vmid below 100", m: nextid, params: map[string]any{"vmid": "99"},
			want: Errors{"vmid": "invalid format - value does not look like a valid VM ID\n"}},
		{name: "vmid not a number", m: nextid, params: map[string]any{"vmid": "abc"},
			want: Errors{"vmid": "invalid format - value does not look like a valid VM ID\n"}},
		{name: "vmid as JSON number", m: nextid, params: map[string]any{"vmid": float64(9000)}, out: map[string]string{"vmid": "9000"}},
		{name: "integer type", m: create, params: map[string]any{"node": "pve", "vmid": 100, "cores": "two"},
			want: Errors{"cores": "type check ('integer') failed - got 'two'\n"}},
		{name: "integer range", m: create, params: map[string]any{"node": "pve", "vmid": "100", "cores": "0"},
			want: Errors{"cores": "value must have a minimum value of 1\n"}},
		{name: "indexed disk beyond its range", m: create, params: map[string]any{"node": "pve", "vmid": "100", "scsi31": "local-zfs:1"},
			want: Errors{"scsi31": msgNotDefined}},
		// qemu-server's $MAX_NETS is 32; the schema's description does not say so.
		{name: "NIC index the description does not bound", m: create, params: map[string]any{"node": "pve", "vmid": "100",
			"net31": "model=virtio,bridge=vmbr0", "ipconfig31": "ip=dhcp"}},
		{name: "NIC beyond MAX_NETS", m: create, params: map[string]any{"node": "pve", "vmid": "100", "net32": "model=virtio,bridge=vmbr0"},
			want: Errors{"net32": msgNotDefined}},
		{name: "property string", m: create, params: map[string]any{"node": "pve", "vmid": "100",
			"scsi0": "local-zfs:0,import-from=local:import/t.qcow2,discard=on,ssd=1,iothread=on"},
			out: map[string]string{"node": "pve", "vmid": "100", "scsi0": "local-zfs:0,import-from=local:import/t.qcow2,discard=on,ssd=1,iothread=on"}},
		{name: "property string bad key and enum", m: create, params: map[string]any{"node": "pve", "vmid": "100",
			"scsi0": "local-zfs:1,discard=yes,speed=9"},
			// pve-common Exception.pm stringify folds the key errors into the parameter's message.
			want: Errors{"scsi0": "invalid format - format error\nscsi0.discard: value 'yes' does not have a value in the enumeration 'ignore, on'\n" +
				"scsi0.speed: property is not defined in schema and the schema does not allow additional properties\n"}},
		// pve-tag-list: check_format runs pve_verify_tag on each member.
		{name: "tags", m: create, params: map[string]any{"node": "pve", "vmid": "100", "tags": "talos;bad/tag"},
			want: Errors{"tags": "invalid format - invalid characters in tag\n"}},
		{name: "string given a boolean", m: create, params: map[string]any{"node": "pve", "vmid": "100", "name": true},
			want: Errors{"name": "type check ('string') failed - got 'true'\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs := tt.m.Validate(tt.params)
			if tt.want == nil {
				require.Empty(t, errs)
				if tt.out != nil {
					require.Equal(t, tt.out, out)
				}
				return
			}
			require.Equal(t, tt.want, errs)
		})
	}
}

func TestEveryPatternCompiles(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	var walk func(string, *Property)
	walk = func(name string, p *Property) {
		if p.Pattern != "" {
			require.NotNil(t, p.pattern, "pattern of %s does not translate to RE2: %s", name, p.Pattern)
		}
		if p.Format != nil {
			for k, sub := range p.Format.Keys {
				walk(name+"."+k, sub)
			}
		}
	}
	for _, m := range s.Methods() {
		for name, p := range m.Parameters.Properties {
			walk(m.Method+" "+m.Path+" "+name, p)
		}
	}
}

// TestIndexedParameterRanges pins the ranges of "name[n]" parameters whose
// apidoc description gives no "(n is 0 to N)": qemu-server's $MAX_NETS (32),
// PCI.pm $MAX_HOSTPCI_DEVICES (16), Memory.pm $MAX_NUMA (8), USB.pm
// $MAX_USB_DEVICES (14), Drive.pm $MAX_UNUSED_DISKS (256) and Virtiofs.pm
// $MAX_VIRTIOFS (10).
func TestIndexedParameterRanges(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	create := s.methods["POST /nodes/{node}/qemu"]
	for name, last := range map[string]int{"net": 31, "ipconfig": 31, "hostpci": 15, "numa": 7, "usb": 13, "unused": 255, "virtiofs": 9, "scsi": 30, "ide": 3} {
		_, ok := create.Parameters.property(name + strconv.Itoa(last))
		require.True(t, ok, "%s%d", name, last)
		_, ok = create.Parameters.property(name + strconv.Itoa(last+1))
		require.False(t, ok, "%s%d", name, last+1)
	}
}
