package kubetest

// PIDs returns the process ids of kube-apiserver and etcd while they run.
func (s *Server) PIDs() []int {
	var pids []int
	for _, p := range []*process{s.apiserver, s.etcd} {
		if p != nil {
			pids = append(pids, p.cmd.Process.Pid)
		}
	}
	return pids
}
