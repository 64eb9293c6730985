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
