package proxmox

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// Storage is a storage as a node sees it.
type Storage struct {
	Storage string `json:"storage"`
	Type    string `json:"type"`
	// Content is the comma-separated content types, in any order.
	Content string `json:"content"`
	Enabled int    `json:"enabled"`
	Active  int    `json:"active"`
	Shared  int    `json:"shared"`
	Total   int64  `json:"total"`
	Used    int64  `json:"used"`
	Avail   int64  `json:"avail"`
}

// ContentTypes returns the storage's content types, sorted.
func (s Storage) ContentTypes() []string {
	types := strings.FieldsFunc(s.Content, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
	sort.Strings(types)
	return types
}

// Holds reports whether the storage is configured for a content type.
func (s Storage) Holds(content string) bool { return slices.Contains(s.ContentTypes(), content) }

// FileBased reports whether the storage type keeps volumes as files, which
// "import", "iso" and "vztmpl" content need.
func FileBased(storageType string) bool {
	switch storageType {
	case "dir", "nfs", "cifs", "cephfs", "btrfs", "glusterfs":
		return true
	}
	return false
}

// Storages lists the storages of a node the token may see.
func (c *Client) Storages(ctx context.Context, node string) ([]Storage, error) {
	var out []Storage
	err := c.get(ctx, "/nodes/"+url.PathEscape(node)+"/storage", nil, &out)
	return out, err
}

// FindStorage returns one storage of a node, or an error naming what exists.
func (c *Client) FindStorage(ctx context.Context, node, id string) (Storage, error) {
	list, err := c.Storages(ctx, node)
	if err != nil {
		return Storage{}, err
	}
	var names []string
	for _, s := range list {
		if s.Storage == id {
			return s, nil
		}
		names = append(names, s.Storage)
	}
	return Storage{}, fmt.Errorf("storage %q does not exist on node %s (or the token may not see it); it has: %s", id, node, strings.Join(names, ", "))
}

// StorageConfig is a storage's entry in storage.cfg.
type StorageConfig struct {
	Storage string `json:"storage"`
	Type    string `json:"type"`
	Content string `json:"content"`
	Path    string `json:"path"`
	Digest  string `json:"digest"`
}

// EnsureStorageContent makes sure a storage is configured for every content
// type given, adding the missing ones (PUT /storage/{id} with the config
// digest, so a concurrent change is not overwritten). It reports whether it
// changed anything. A storage type that cannot hold a type is an error that
// says so before anything is sent.
func (c *Client) EnsureStorageContent(ctx context.Context, id string, content ...string) (bool, error) {
	var cfg StorageConfig
	if err := c.get(ctx, "/storage/"+url.PathEscape(id), nil, &cfg); err != nil {
		return false, fmt.Errorf("read storage %s: %w", id, err)
	}
	have := strings.FieldsFunc(cfg.Content, func(r rune) bool { return r == ',' })
	var missing []string
	for _, ct := range content {
		if !slices.Contains(have, ct) {
			missing = append(missing, ct)
		}
	}
	if len(missing) == 0 {
		return false, nil
	}
	for _, ct := range missing {
		if (ct == "import" || ct == "iso" || ct == "vztmpl" || ct == "snippets" || ct == "backup") && !FileBased(cfg.Type) {
			return false, fmt.Errorf("storage %s is of type %s, which cannot hold %q content: pick a directory-like storage (dir, nfs, cifs, cephfs, btrfs)", id, cfg.Type, ct)
		}
	}
	all := append(have, missing...)
	sort.Strings(all)
	err := c.req(ctx, http.MethodPut, "/storage/"+url.PathEscape(id), Params{"content": strings.Join(all, ","), "digest": cfg.Digest}, nil)
	if err != nil {
		return false, fmt.Errorf("add content %s to storage %s: %w", strings.Join(missing, ","), id, err)
	}
	c.log.Info("enabled storage content", "storage", id, "added", strings.Join(missing, ","))
	return true, nil
}

// Volume is one volume of a storage.
type Volume struct {
	// VolID is storage:volname.
	VolID   string `json:"volid"`
	Content string `json:"content"`
	Format  string `json:"format"`
	Size    int64  `json:"size"`
	Used    int64  `json:"used"`
	CTime   int64  `json:"ctime"`
	VMID    int    `json:"vmid"`
}

// ID parses the volume's ID.
func (v Volume) ID() pve.VolumeID {
	id, _ := pve.ParseVolumeID(v.VolID)
	return id
}

// Volumes lists a storage's volumes, optionally of one content type.
func (c *Client) Volumes(ctx context.Context, node, storage, content string) ([]Volume, error) {
	q := url.Values{}
	if content != "" {
		q.Set("content", content)
	}
	var out []Volume
	err := c.get(ctx, "/nodes/"+url.PathEscape(node)+"/storage/"+url.PathEscape(storage)+"/content", q, &out)
	return out, err
}

// FindVolume returns a volume by ID, and whether it exists.
func (c *Client) FindVolume(ctx context.Context, node string, volid pve.VolumeID, content string) (Volume, bool, error) {
	vols, err := c.Volumes(ctx, node, volid.Storage, content)
	if err != nil {
		return Volume{}, false, err
	}
	for _, v := range vols {
		if v.VolID == volid.String() {
			return v, true, nil
		}
	}
	return Volume{}, false, nil
}

// DeleteVolume removes a volume and waits for PVE's task.
func (c *Client) DeleteVolume(ctx context.Context, node string, volid pve.VolumeID) error {
	path := "/nodes/" + url.PathEscape(node) + "/storage/" + url.PathEscape(volid.Storage) + "/content/" + url.PathEscape(volid.String())
	_, err := c.runTask(ctx, http.MethodDelete, path, nil, nil)
	if err != nil {
		return fmt.Errorf("delete volume %s: %w", volid, err)
	}
	return nil
}
