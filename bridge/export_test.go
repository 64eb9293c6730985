package bridge

// holdKDFSlots takes every key-derivation slot, as long derivations would,
// until release is called.
func (g *kdfGate) holdKDFSlots() (release func()) {
	for range cap(g.slots) {
		g.slots <- struct{}{}
	}
	return func() {
		for range cap(g.slots) {
			<-g.slots
		}
	}
}

// queued returns how many requests wait for a key-derivation slot.
func (g *kdfGate) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

// waitIdle returns once no watch delivery is queued or running.
func (w *watcher) waitIdle() {
	w.mu.Lock()
	for w.pending > 0 {
		w.idle.Wait()
	}
	w.mu.Unlock()
}
