package stream

import "sync"

// Reasons a hub ends a connection, sent to the client in its transport's
// final {"disconnect":{"code":...}} message.
const (
	ReasonTooSlow  = "too_slow"
	ReasonShutdown = "shutdown"
)

// Sink is one stream connection's bounded buffer: the hub appends the
// frames of the connection's subscriptions and the transport takes
// everything waiting in one go and writes it in one write. A connection
// whose buffer would overflow is ended with ReasonTooSlow; nobody waits for
// it.
type Sink struct {
	hub   *Hub
	limit int
	wake  chan struct{} // holds one token while frames or an end wait

	mu      sync.Mutex // guards buf, reason, clients and each client's held frames
	buf     []byte
	reason  string // why the hub ended the connection; "" while open
	clients map[*Client]struct{}
	closed  bool
}

// Client is one subscription of a connection.
type Client struct {
	sink   *Sink
	spec   Spec
	format Format
	head   []byte // prefix of every frame (the WebSocket subscription's name)
	// start is the id of the last event the hub had dispatched when the
	// client subscribed; it gets later ones live.
	start uint64
	// skipThrough is the last event id the client already has: live
	// events up to it are not sent again.
	skipThrough uint64
	// lost is true when the events the client asked for cannot be found:
	// its replay is a gap frame.
	lost bool

	// replaying is true while missed events are being written; live
	// frames are held meanwhile, so that they follow the replay. Guarded
	// by sink.mu.
	replaying bool
	held      []byte

	// stamp is the number of the last event the hub considered this client
	// for; touched only by the hub's dispatching goroutine.
	stamp uint64
}

// Wait returns a channel that receives when frames are waiting or the hub
// has ended the connection.
func (s *Sink) Wait() <-chan struct{} { return s.wake }

// Take returns the frames waiting, appended to spare[:0], and the reason
// the hub ended the connection ("" while it is open). Pass the buffer the
// previous Take returned as spare once written, so that two buffers serve
// a connection for its lifetime.
func (s *Sink) Take(spare []byte) (frames []byte, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	frames, s.buf = s.buf, spare[:0]
	if s.reason != "" {
		s.buf = nil
	}
	return frames, s.reason
}

// push appends a frame of c, or ends the connection when it does not fit.
// Called by the hub's goroutine only; it never blocks on the transport.
func (s *Sink) push(c *Client, frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason != "" {
		return
	}
	n := len(c.head) + len(frame)
	if c.replaying {
		if len(c.held)+n > s.limit {
			s.end(ReasonTooSlow)
			return
		}
		c.held = append(append(c.held, c.head...), frame...)
		return
	}
	if len(s.buf)+n > s.limit {
		s.end(ReasonTooSlow)
		return
	}
	s.buf = append(append(s.buf, c.head...), frame...)
	s.signal()
}

// end marks the connection ended for reason and drops what waits. Call
// with mu held.
func (s *Sink) end(reason string) {
	if s.reason != "" {
		return
	}
	s.reason = reason
	s.buf = nil
	for c := range s.clients {
		c.held = nil
	}
	if reason == ReasonTooSlow {
		s.hub.slow.Add(1)
	}
	s.signal()
}

func (s *Sink) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Buffered is the number of bytes waiting.
func (s *Sink) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.buf)
	for c := range s.clients {
		n += len(c.held)
	}
	return n
}
