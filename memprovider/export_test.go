package memprovider

// InstanceEntries returns how many instance ids the store holds state for,
// records or not: what a client can make the store grow by. Test-only.
func (p *Provider) InstanceEntries() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.instances)
}
