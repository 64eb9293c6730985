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

// waitIdle returns once no watch delivery is queued or running.
func (w *watcher) waitIdle() {
	w.mu.Lock()
	for w.pending > 0 {
		w.idle.Wait()
	}
	w.mu.Unlock()
}
