package nodesim

import "fmt"

// WithRequestHook calls f with each request as a node receives it, before
// the node acts on it: a test can look at the rest of the world at that
// moment (what was done before the call).
func WithRequestHook(f func(Request)) Option { return func(s *Sim) { s.hook = f } }

// Add starts another node, in maintenance mode, as a VM made for a node
// added to the inventory boots; a name the Sim has is refused.
func (s *Sim) Add(name string) error {
	s.mu.Lock()
	_, ok := s.nodes[name]
	s.mu.Unlock()
	if ok {
		return fmt.Errorf("nodesim: node %s exists", name)
	}
	n, err := s.start(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[name] = n
	s.order = append(s.order, name)
	return nil
}
