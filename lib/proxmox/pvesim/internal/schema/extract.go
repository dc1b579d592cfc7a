package schema

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
)

// Endpoint names one method of the official schema.
type Endpoint struct {
	Method string
	Path   string
}

// Endpoints returns the methods the simulator implements; the generator
// copies exactly these from the official schema into subset.json.
func Endpoints() []Endpoint {
	return []Endpoint{
		{"GET", "/version"},
		{"POST", "/access/ticket"},
		{"GET", "/access/permissions"},
		{"GET", "/cluster/status"},
		{"GET", "/cluster/nextid"},
		{"GET", "/cluster/resources"},
		{"GET", "/cluster/mapping/pci"},
		{"GET", "/cluster/mapping/pci/{id}"},
		{"GET", "/storage"},
		{"GET", "/storage/{storage}"},
		{"PUT", "/storage/{storage}"},
		{"GET", "/nodes"},
		{"GET", "/nodes/{node}/status"},
		{"GET", "/nodes/{node}/network"},
		{"GET", "/nodes/{node}/query-url-metadata"},
		{"GET", "/nodes/{node}/storage"},
		{"GET", "/nodes/{node}/storage/{storage}/status"},
		{"GET", "/nodes/{node}/storage/{storage}/content"},
		{"GET", "/nodes/{node}/storage/{storage}/content/{volume}"},
		{"DELETE", "/nodes/{node}/storage/{storage}/content/{volume}"},
		{"POST", "/nodes/{node}/storage/{storage}/download-url"},
		{"POST", "/nodes/{node}/storage/{storage}/upload"},
		{"GET", "/nodes/{node}/tasks"},
		{"GET", "/nodes/{node}/tasks/{upid}/status"},
		{"GET", "/nodes/{node}/tasks/{upid}/log"},
		{"DELETE", "/nodes/{node}/tasks/{upid}"},
		{"GET", "/nodes/{node}/qemu"},
		{"POST", "/nodes/{node}/qemu"},
		{"DELETE", "/nodes/{node}/qemu/{vmid}"},
		{"GET", "/nodes/{node}/qemu/{vmid}/config"},
		{"PUT", "/nodes/{node}/qemu/{vmid}/config"},
		{"POST", "/nodes/{node}/qemu/{vmid}/config"},
		{"GET", "/nodes/{node}/qemu/{vmid}/status/current"},
		{"POST", "/nodes/{node}/qemu/{vmid}/status/start"},
		{"POST", "/nodes/{node}/qemu/{vmid}/status/stop"},
		{"POST", "/nodes/{node}/qemu/{vmid}/status/shutdown"},
		{"POST", "/nodes/{node}/qemu/{vmid}/status/reboot"},
		{"POST", "/nodes/{node}/qemu/{vmid}/status/reset"},
		{"GET", "/nodes/{node}/qemu/{vmid}/pending"},
		{"POST", "/nodes/{node}/qemu/{vmid}/agent/ping"},
		{"GET", "/nodes/{node}/qemu/{vmid}/agent/info"},
		{"GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces"},
		{"GET", "/nodes/{node}/qemu/{vmid}/cloudinit"},
		{"PUT", "/nodes/{node}/qemu/{vmid}/cloudinit"},
		{"GET", "/nodes/{node}/qemu/{vmid}/cloudinit/dump"},
		{"PUT", "/nodes/{node}/qemu/{vmid}/resize"},
		{"POST", "/nodes/{node}/qemu/{vmid}/template"},
		{"POST", "/nodes/{node}/qemu/{vmid}/clone"},
		{"POST", "/nodes/{node}/qemu/{vmid}/move_disk"},
		{"PUT", "/nodes/{node}/qemu/{vmid}/sendkey"},
	}
}

// apidocNode is one node of pve-apidoc.json's tree.
type apidocNode struct {
	Path     string                     `json:"path"`
	Info     map[string]json.RawMessage `json:"info"`
	Children []apidocNode               `json:"children"`
}

// Extract reads the official schema (gzipped pve-apidoc.json) and returns the
// subset for endpoints as indented JSON, with descriptions dropped and the
// range of every "name[n]" property recorded as x-max-index.
func Extract(apidocGz io.Reader, endpoints []Endpoint) ([]byte, error) {
	byPath, err := readAPIDoc(apidocGz)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, ep := range endpoints {
		node, ok := byPath[ep.Path]
		if !ok {
			return nil, fmt.Errorf("apidoc has no path %s", ep.Path)
		}
		raw, ok := node.Info[ep.Method]
		if !ok {
			return nil, fmt.Errorf("apidoc has no %s %s", ep.Method, ep.Path)
		}
		var info map[string]any
		if err := json.Unmarshal(raw, &info); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", ep.Method, ep.Path, err)
		}
		m := map[string]any{"path": ep.Path, "method": ep.Method}
		for _, k := range []string{"name", "allowtoken", "protected", "parameters", "permissions"} {
			if v, ok := info[k]; ok {
				m[k] = v
			}
		}
		if params, ok := m["parameters"].(map[string]any); ok {
			if props, ok := params["properties"].(map[string]any); ok {
				for name, p := range props {
					trim(name, p)
				}
			}
		}
		if perms, ok := m["permissions"].(map[string]any); ok {
			delete(perms, "description")
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i]["path"].(string), out[j]["path"].(string)
		if a != b {
			return a < b
		}
		return out[i]["method"].(string) < out[j]["method"].(string)
	})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readAPIDoc decodes the gzipped apidoc into its nodes by path.
func readAPIDoc(apidocGz io.Reader) (map[string]apidocNode, error) {
	zr, err := gzip.NewReader(apidocGz)
	if err != nil {
		return nil, fmt.Errorf("read apidoc: %w", err)
	}
	var tree []apidocNode
	if err := json.NewDecoder(zr).Decode(&tree); err != nil {
		return nil, fmt.Errorf("decode apidoc: %w", err)
	}
	byPath := map[string]apidocNode{}
	var walk func([]apidocNode)
	walk = func(nodes []apidocNode) {
		for _, n := range nodes {
			byPath[n.Path] = n
			walk(n.Children)
		}
	}
	walk(tree)
	return byPath, nil
}

// trim drops prose from a property (recursively through property-string
// formats), keeping the range of "name[n]" properties.
func trim(name string, p any) {
	prop, ok := p.(map[string]any)
	if !ok {
		return
	}
	if desc, ok := prop["description"].(string); ok && len(name) > 3 && name[len(name)-3:] == "[n]" {
		if m := maxIndexRe.FindStringSubmatch(desc); m != nil {
			n, _ := strconv.Atoi(m[1])
			prop["x-max-index"] = n
		} else if n, ok := qemuMaxIndex(name); ok {
			prop["x-max-index"] = n
		}
	}
	for _, k := range []string{"description", "verbose_description", "typetext", "format_description", "instance-types"} {
		delete(prop, k)
	}
	if f, ok := prop["format"].(map[string]any); ok {
		for k, sub := range f {
			trim(k, sub)
		}
	}
	if items, ok := prop["items"]; ok {
		trim("", items)
	}
}

// qemuMaxIndex returns the largest n of the "name[n]" parameters whose
// description does not state it, from qemu-server's constants.
func qemuMaxIndex(name string) (int, bool) {
	switch name {
	case "net[n]", "ipconfig[n]": // QemuServer.pm $MAX_NETS = 32
		return 31, true
	case "hostpci[n]": // QemuServer/PCI.pm $MAX_HOSTPCI_DEVICES = 16
		return 15, true
	case "numa[n]": // QemuServer/Memory.pm $MAX_NUMA = 8
		return 7, true
	case "usb[n]": // QemuServer/USB.pm $MAX_USB_DEVICES = 14
		return 13, true
	case "unused[n]": // QemuServer/Drive.pm $MAX_UNUSED_DISKS = 256
		return 255, true
	case "virtiofs[n]": // QemuServer/Virtiofs.pm $MAX_VIRTIOFS = 10
		return 9, true
	}
	return 0, false
}

// ExtractFile runs Extract on a file.
func ExtractFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Extract(f, Endpoints())
}
