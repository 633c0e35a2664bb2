package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"
)

// follow opens client i's stream, reports on ready whether it is live, and
// tallies what it receives until ctx ends.
func (run *streamRun) follow(ctx context.Context, i int, sc *streamClient, ready chan<- error) error {
	if run.so.Transport == "ws" {
		return run.followWS(ctx, i, sc, ready)
	}
	base, err := url.Parse(run.o.URL)
	if err != nil {
		ready <- err
		return err
	}
	identifier := fmt.Sprintf("bench%d", i)
	var path string
	switch {
	case run.so.Transport == "chunked" && run.so.Filter:
		path = "/statuses/filter.json?identifier=" + identifier + "&track=" + streamTag(sc.group)
	case run.so.Transport == "chunked":
		path = "/statuses/firehose.json?identifier=" + identifier
	case run.so.Filter:
		path = "/api/starling/v1/streams/filter?identifier=" + identifier + "&track=" + streamTag(sc.group)
	default:
		path = "/api/starling/v1/streams/firehose?identifier=" + identifier
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", base.Host)
	cancel()
	if err != nil {
		ready <- err
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, base.Host); err != nil {
		ready <- err
		return err
	}
	br := bufio.NewReaderSize(conn, 4096)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		ready <- err
		return err
	}
	if res.StatusCode != http.StatusOK {
		err := fmt.Errorf("stream answered %s", res.Status)
		ready <- err
		return err
	}
	ready <- nil
	body := bufio.NewReaderSize(res.Body, 4096)
	for {
		line, err := body.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return fmt.Errorf("stream %d: %w", i, err)
		}
		if err := run.tally(sc, line); err != nil {
			return err
		}
	}
}

func (run *streamRun) tally(sc *streamClient, frame []byte) error {
	if seq, sent, ok := parseDelivery(frame); ok {
		sc.seen(seq, time.Since(sent), run.rec)
		return nil
	}
	if i := bytes.Index(frame, []byte(`{"disconnect":`)); i >= 0 {
		return fmt.Errorf("the server ended the stream: %s", bytes.TrimSpace(frame[i:]))
	}
	return nil
}

func (run *streamRun) followWS(ctx context.Context, i int, sc *streamClient, ready chan<- error) error {
	u := run.o.URL + "/api/starling/v1/streams/ws?identifier=" + fmt.Sprintf("bench%d", i)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	conn, _, err := websocket.Dial(dctx, u, nil)
	cancel()
	if err != nil {
		ready <- err
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	sub := `{"type":"subscribe","sub":"s","stream":"firehose"}`
	if run.so.Filter {
		sub = `{"type":"subscribe","sub":"s","stream":"filter","params":{"track":"` + streamTag(sc.group) + `"}}`
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(sub)); err != nil {
		ready <- err
		return err
	}
	_, ack, err := conn.Read(ctx)
	if err != nil || !bytes.Contains(ack, []byte(`"subscribed"`)) {
		err = fmt.Errorf("subscribing: %s %v", ack, err)
		ready <- err
		return err
	}
	ready <- nil
	stop := context.AfterFunc(ctx, func() { conn.CloseNow() })
	defer stop()
	for {
		_, msg, err := conn.Read(wsReadContext)
		if err != nil {
			return fmt.Errorf("stream %d: %w", i, err)
		}
		if err := run.tally(sc, msg); err != nil {
			return err
		}
	}
}
