package web_test

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// cutProxy forwards loopback TCP connections to a server and can cut them
// all, as a dropped network would: the browser talks to the server through
// it, the test's own HTTP clients talk to the server directly.
type cutProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex // guards the fields below
	cut      bool
	conns    map[net.Conn]bool
	lastIDs  int // requests seen carrying a Last-Event-ID header
	lastSeen string
	hold     string        // requests whose bytes hold this wait for release
	release  chan struct{} // closed by Release
	held     []string      // the request lines held
}

// newCutProxy forwards to base (http://host:port) and returns the proxy's
// own base URL.
func newCutProxy(t *testing.T, base string) (*cutProxy, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: strings.TrimPrefix(base, "http://"), conns: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	wg.Go(func() { p.serve(&wg) })
	t.Cleanup(func() {
		ln.Close()
		p.Release()
		p.Cut()
		wg.Wait()
	})
	return p, "http://" + ln.Addr().String()
}

func (p *cutProxy) serve(wg *sync.WaitGroup) {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			c.Close() // the network is down
			continue
		}
		wg.Go(func() { p.forward(c) })
	}
}

func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *cutProxy) forget(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *cutProxy) forward(c net.Conn) {
	defer p.forget(c)
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(s) {
		s.Close()
		return
	}
	defer p.forget(s)
	done := make(chan struct{})
	go func() {
		io.Copy(c, s) //nolint:errcheck // ends with either side
		c.Close()
		close(done)
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			p.sniff(buf[:n])
			p.maybeHold(buf[:n])
			if _, werr := s.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	s.Close()
	<-done
}

// sniff counts requests that carry Last-Event-ID (a request's headers
// come in one read on loopback).
func (p *cutProxy) sniff(b []byte) {
	i := bytes.Index(bytes.ToLower(b), []byte("\r\nlast-event-id: "))
	if i < 0 {
		return
	}
	line, _, _ := bytes.Cut(b[i+2:], []byte("\r\n"))
	p.mu.Lock()
	p.lastIDs++
	p.lastSeen = string(line)
	p.mu.Unlock()
}

// Hold makes requests containing what (a request line, say) wait, with
// the connection they came on, until Release.
func (p *cutProxy) Hold(what string) {
	p.mu.Lock()
	p.hold, p.release = what, make(chan struct{})
	p.mu.Unlock()
}

// Release sends the held requests on and holds no more.
func (p *cutProxy) Release() {
	p.mu.Lock()
	if p.release != nil {
		close(p.release)
	}
	p.hold, p.release = "", nil
	p.mu.Unlock()
}

// Held returns the request lines held so far.
func (p *cutProxy) Held() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.held...)
}

func (p *cutProxy) maybeHold(b []byte) {
	p.mu.Lock()
	hold, release := p.hold, p.release
	if hold == "" || !bytes.Contains(b, []byte(hold)) {
		p.mu.Unlock()
		return
	}
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	p.held = append(p.held, string(line))
	p.mu.Unlock()
	<-release
}

// Cut closes every connection and refuses new ones until Restore.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	p.cut = true
	conns := p.conns
	p.conns = map[net.Conn]bool{}
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// Restore lets connections through again.
func (p *cutProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// LastEventIDs reports how many requests carried Last-Event-ID, and the
// last such header line.
func (p *cutProxy) LastEventIDs() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastIDs, p.lastSeen
}
