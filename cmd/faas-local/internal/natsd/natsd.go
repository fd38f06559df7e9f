// Package natsd runs an embedded NATS server with JetStream for faas-local,
// listening on 127.0.0.1 and storing streams under <state>/nats so that they
// survive restarts.
package natsd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/faas-shop/faas-shop/shared/platform/localport"
)

// Server is a running embedded NATS server.
type Server struct {
	srv *server.Server
	url string
}

// Start starts a server storing JetStream data in dir. It listens on port
// when it is not 0, else on the port it used last time when that is free,
// else on a free port (remembered in dir/port).
func Start(dir string, port int) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if port == 0 {
		var err error
		if port, err = localport.Sticky(filepath.Join(dir, "port")); err != nil {
			return nil, err
		}
	}
	opts := &server.Options{
		ServerName: "faas-local",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(dir, "jetstream"),
		NoSigs:     true,
		NoLog:      true,
		HTTPPort:   0,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("NATS did not start listening on 127.0.0.1:%d", port)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		return nil, errors.New("NATS started without JetStream")
	}
	return &Server{srv: srv, url: srv.ClientURL()}, nil
}

// URL is the client URL, nats://127.0.0.1:<port>.
func (s *Server) URL() string { return s.url }

// Stop shuts the server down and waits for it.
func (s *Server) Stop() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}
