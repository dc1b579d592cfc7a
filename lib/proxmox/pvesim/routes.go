package pvesim

// handler answers one API method: data for a 200, or an *apiError.
type handler func(s *Server, r *request) (any, error)

// worldHandler is a handler that works on the world with its lock held;
// locked and onNode make it a handler.
type worldHandler func(s *Server, w *world, r *request) (any, error)

// locked holds the world's lock for the whole of h, from its checks to its
// answer, so a request sees and changes the world in one step. A task h
// starts (startTaskLocked) is registered under the lock; its work runs
// after h returns and the lock is released.
func locked(h worldHandler) handler {
	return func(s *Server, r *request) (any, error) {
		s.world.mu.Lock()
		defer s.world.mu.Unlock()
		return h(s, s.world, r)
	}
}

// onNode is locked for a path below /nodes/{node}: a node other than the
// simulated one gets PVE's 500 before h looks for its VM or storage.
func onNode(h worldHandler) handler {
	return locked(func(s *Server, w *world, r *request) (any, error) {
		if err := w.checkNode(r.param("node")); err != nil {
			return nil, err
		}
		return h(s, w, r)
	})
}

// paged is a list answer that carries PVE's "total".
type paged struct {
	data  any
	total int
}

// handlers is the route table: every implemented method of the schema
// subset, keyed "METHOD /path" as the schema spells the path, to its
// handler. TestEveryHandlerHasASchema keeps it and the subset in step.
//
// Most handlers run locked or onNode. The others take the lock themselves
// for what needs it: query-url-metadata asks its URL without it;
// download-url, upload, DELETE content and DELETE tasks release it after
// their checks and before they start or stop a task.
func handlers() map[string]handler {
	return map[string]handler{
		"POST /access/ticket":     locked(createTicket),
		"GET /access/permissions": locked(permissions),

		"GET /version":                  locked(version),
		"GET /cluster/status":           locked(clusterStatus),
		"GET /cluster/nextid":           locked(nextID),
		"GET /cluster/resources":        locked(resources),
		"GET /cluster/mapping/pci":      locked(pciMappings),
		"GET /cluster/mapping/pci/{id}": locked(pciMapping),

		"GET /storage":           locked(storageConfigs),
		"GET /storage/{storage}": locked(storageConfig),
		"PUT /storage/{storage}": locked(updateStorage),

		"GET /nodes":                           locked(nodes),
		"GET /nodes/{node}/status":             onNode(nodeStatus),
		"GET /nodes/{node}/network":            onNode(network),
		"GET /nodes/{node}/query-url-metadata": queryURLMetadata,

		"GET /nodes/{node}/storage":                               onNode(nodeStorages),
		"GET /nodes/{node}/storage/{storage}/status":              onNode(storageStatus),
		"GET /nodes/{node}/storage/{storage}/content":             onNode(storageContent),
		"GET /nodes/{node}/storage/{storage}/content/{volume}":    locked(volumeInfo),
		"DELETE /nodes/{node}/storage/{storage}/content/{volume}": deleteVolume,
		"POST /nodes/{node}/storage/{storage}/download-url":       downloadURL,
		"POST /nodes/{node}/storage/{storage}/upload":             upload,

		"GET /nodes/{node}/tasks":               locked(listTasks),
		"GET /nodes/{node}/tasks/{upid}/status": locked(taskStatus),
		"GET /nodes/{node}/tasks/{upid}/log":    locked(taskLogLines),
		"DELETE /nodes/{node}/tasks/{upid}":     stopTask,

		"GET /nodes/{node}/qemu":                                     onNode(listVMs),
		"POST /nodes/{node}/qemu":                                    onNode(createVM),
		"DELETE /nodes/{node}/qemu/{vmid}":                           onNode(destroyVM),
		"GET /nodes/{node}/qemu/{vmid}/config":                       onNode(vmConfig),
		"PUT /nodes/{node}/qemu/{vmid}/config":                       onNode(updateVMConfigSync),
		"POST /nodes/{node}/qemu/{vmid}/config":                      onNode(updateVMConfigAsync),
		"GET /nodes/{node}/qemu/{vmid}/status/current":               onNode(vmStatus),
		"POST /nodes/{node}/qemu/{vmid}/status/start":                onNode(startVM),
		"POST /nodes/{node}/qemu/{vmid}/status/stop":                 onNode(stopVM),
		"POST /nodes/{node}/qemu/{vmid}/status/shutdown":             onNode(shutdownVM),
		"POST /nodes/{node}/qemu/{vmid}/status/reboot":               onNode(rebootVM),
		"POST /nodes/{node}/qemu/{vmid}/status/reset":                onNode(resetVM),
		"GET /nodes/{node}/qemu/{vmid}/pending":                      onNode(vmPending),
		"POST /nodes/{node}/qemu/{vmid}/agent/ping":                  onNode(agentPing),
		"GET /nodes/{node}/qemu/{vmid}/agent/info":                   onNode(agentInfo),
		"GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces": onNode(agentInterfaces),
		"GET /nodes/{node}/qemu/{vmid}/cloudinit":                    onNode(cloudinitPending),
		"PUT /nodes/{node}/qemu/{vmid}/cloudinit":                    onNode(cloudinitUpdate),
		"GET /nodes/{node}/qemu/{vmid}/cloudinit/dump":               onNode(cloudinitDump),
		"PUT /nodes/{node}/qemu/{vmid}/resize":                       onNode(resizeDisk),
		"POST /nodes/{node}/qemu/{vmid}/template":                    onNode(convertToTemplate),
		"POST /nodes/{node}/qemu/{vmid}/clone":                       onNode(cloneVM),
		"POST /nodes/{node}/qemu/{vmid}/move_disk":                   onNode(moveDisk),
		"PUT /nodes/{node}/qemu/{vmid}/sendkey":                      onNode(sendKey),
	}
}
