package server

import (
	"net"
	"net/netip"
	"sync"
)

// Defaults of Config.MaxConns and Config.MaxConnsPerIP.
const (
	DefaultMaxConns      = 10000
	DefaultMaxConnsPerIP = 256
)

// connLimiter is a net.Listener that caps the connections open at once:
// overall, and per client address (an IPv6 client by its /64). A
// connection over a cap is closed as soon as it is accepted, before any of
// it is read, so that sockets held open by one client (or a few) cannot use
// up the process's file descriptors and starve everyone else. Connections
// from exempt addresses (the trusted reverse proxies, which carry many
// clients each) count towards the overall cap only.
//
// Concurrency: Accept is called by one goroutine (http.Server.Serve); the
// Close of each connection may run on any goroutine.
type connLimiter struct {
	net.Listener
	max, perIP int // <= 0: no cap
	exempt     []netip.Prefix

	mu      sync.Mutex // guards open, byIP and refused
	open    int
	byIP    map[netip.Addr]int
	refused int64
}

func newConnLimiter(ln net.Listener, max, perIP int, exempt []netip.Prefix) *connLimiter {
	return &connLimiter{Listener: ln, max: max, perIP: perIP, exempt: exempt, byIP: make(map[netip.Addr]int)}
}

// Accept returns the next connection within the caps, closing those over
// them.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, capped := l.clientKey(c.RemoteAddr())
		if lc, ok := l.admit(c, key, capped); ok {
			return lc, nil
		}
		c.Close()
	}
}

// clientKey names the client of a connection for the per-address cap, and
// reports whether that cap applies to it.
func (l *connLimiter) clientKey(addr net.Addr) (netip.Addr, bool) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return netip.Addr{}, false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range l.exempt {
		if p.Contains(ip) {
			return netip.Addr{}, false
		}
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		ip = p.Addr()
	}
	return ip, true
}

func (l *connLimiter) admit(c net.Conn, key netip.Addr, capped bool) (net.Conn, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if (l.max > 0 && l.open >= l.max) || (capped && l.perIP > 0 && l.byIP[key] >= l.perIP) {
		l.refused++
		return nil, false
	}
	l.open++
	if capped {
		l.byIP[key]++
	}
	return &limitedConn{Conn: c, l: l, key: key, capped: capped}, true
}

func (l *connLimiter) release(key netip.Addr, capped bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if capped {
		if l.byIP[key]--; l.byIP[key] <= 0 {
			delete(l.byIP, key)
		}
	}
}

// counts returns the connections open now and those refused so far.
func (l *connLimiter) counts() (open int, refused int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.refused
}

// limitedConn gives its place back when it is closed, once.
type limitedConn struct {
	net.Conn
	l      *connLimiter
	key    netip.Addr
	capped bool
	once   sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key, c.capped) })
	return err
}

// CloseWrite half-closes a TCP connection, as net/http does to let a client
// read an error answer before the connection goes.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
