package pvesim

// handler answers one API method: data for a 200, or an *apiError.
type handler func(s *Server, r *request) (any, error)

// paged is a list answer that carries PVE's "total".
type paged struct {
	data  any
	total int
}

// handlers is the route table: every implemented method of the schema
// subset, keyed "METHOD /path" as the schema spells the path, to its
// handler. TestEveryHandlerHasASchema keeps it and the subset in step.
func handlers() map[string]handler {
	return map[string]handler{
		"GET /version":                                            version,
		"POST /access/ticket":                                     createTicket,
		"GET /access/permissions":                                 permissions,
		"GET /cluster/status":                                     clusterStatus,
		"GET /cluster/nextid":                                     nextID,
		"GET /cluster/resources":                                  resources,
		"GET /cluster/mapping/pci":                                pciMappings,
		"GET /cluster/mapping/pci/{id}":                           pciMapping,
		"GET /storage":                                            storageConfigs,
		"GET /storage/{storage}":                                  storageConfig,
		"PUT /storage/{storage}":                                  updateStorage,
		"GET /nodes":                                              nodes,
		"GET /nodes/{node}/status":                                nodeStatus,
		"GET /nodes/{node}/network":                               network,
		"GET /nodes/{node}/query-url-metadata":                    queryURLMetadata,
		"GET /nodes/{node}/storage":                               nodeStorages,
		"GET /nodes/{node}/storage/{storage}/status":              storageStatus,
		"GET /nodes/{node}/storage/{storage}/content":             storageContent,
		"GET /nodes/{node}/storage/{storage}/content/{volume}":    volumeInfo,
		"DELETE /nodes/{node}/storage/{storage}/content/{volume}": deleteVolume,
		"POST /nodes/{node}/storage/{storage}/download-url":       downloadURL,
		"POST /nodes/{node}/storage/{storage}/upload":             upload,
		"GET /nodes/{node}/tasks":                                 listTasks,
		"GET /nodes/{node}/tasks/{upid}/status":                   taskStatus,
		"GET /nodes/{node}/tasks/{upid}/log":                      taskLogLines,
		"DELETE /nodes/{node}/tasks/{upid}":                       stopTask,
		"GET /nodes/{node}/qemu":                                  listVMs,
		"POST /nodes/{node}/qemu":                                 createVM,
		"DELETE /nodes/{node}/qemu/{vmid}":                        destroyVM,
		"GET /nodes/{node}/qemu/{vmid}/config":                    vmConfig,
		"PUT /nodes/{node}/qemu/{vmid}/config":                    updateVMConfigSync,
		"POST /nodes/{node}/qemu/{vmid}/config":                   updateVMConfigAsync,
		"GET /nodes/{node}/qemu/{vmid}/status/current":            vmStatus,
		"PUT /nodes/{node}/qemu/{vmid}/resize":                    resizeDisk,
		"POST /nodes/{node}/qemu/{vmid}/template":                 convertToTemplate,
		"POST /nodes/{node}/qemu/{vmid}/clone":                    cloneVM,
	}
}
