package server

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"

	"starling/internal/metrics"
)

// adminServer serves the operator's endpoints on a listener of their own,
// never on the API's: /metrics always, and the Go runtime's profiles
// (/debug/pprof/) when the listener is on a loopback address, since
// profiles reveal memory contents and cost CPU to take.
func adminServer(addr string, reg *metrics.Registry, log *slog.Logger) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("server: admin listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg.Handler())
	if loopback(ln.Addr()) {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	} else {
		log.Warn("starling: the admin listener is not on a loopback address; serving metrics without profiles", "addr", ln.Addr().String())
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln, nil
}

// loopback reports whether a listener's address is a loopback IP (a name
// was resolved by Listen, so the address is what it resolved to).
func loopback(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
