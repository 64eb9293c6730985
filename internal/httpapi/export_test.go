package httpapi

import (
	"errors"
	"net"
)

// Close stops the server at once (for a Server that was never served).
func (s *Server) Close() error {
	err := s.srv.Close()
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	return err
}

// idle returns a channel closed once no run is in flight.
func (c *checkRunner) idle() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		return c.cur.done
	}
	done := make(chan struct{})
	close(done)
	return done
}
