package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The answers net/http writes on its own, before any handler runs: 431
// when the request line and headers are over http.Server.MaxHeaderBytes,
// 400 for a request it cannot parse (a malformed Host header, say), 501 for
// a transfer coding it does not know. It writes them straight to the
// connection as plain text, with no hook to change them; Listener rewrites
// them into the API's error shape on their way out.

// Listener returns ln with every connection it accepts answering net/http's
// own errors as JSON, and able to take back the connections of held long
// polls (listener.go). Serve the API's http.Server on it, with ConnContext as
// the server's ConnContext.
func Listener(ln net.Listener) net.Listener { return newListener(ln) }

// serverConn's writes of a net/http error answer are replaced by the same
// answer in JSON.

// netHTTPError matches the whole of an answer net/http writes itself (see
// conn.serve in net/http/server.go): a status line, exactly these two
// headers in this order and a one-line body, in one write. An answer that
// goes through a ResponseWriter never matches: net/http adds a Date header
// to it after the handler's own headers, and this API's handlers add
// Cache-Control and the security headers before Content-Type.
var netHTTPError = regexp.MustCompile(`\AHTTP/1\.1 ([0-9]{3}) ([^\r\n]*)\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n[^\r\n]*\z`)

// maxNetHTTPError is longer than any answer net/http writes itself, so
// that longer writes, which are never one, skip the match.
const maxNetHTTPError = 512

func (c *serverConn) Write(b []byte) (int, error) {
	if len(b) > maxNetHTTPError || !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		return c.Conn.Write(b)
	}
	m := netHTTPError.FindSubmatch(b)
	if m == nil {
		return c.Conn.Write(b)
	}
	status, _ := strconv.Atoi(string(m[1]))
	if _, err := c.Conn.Write(netHTTPErrorAsJSON(status, string(m[2]))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// CloseWrite half-closes the connection when it can: net/http does so after
// a 431, so that the client reads the answer before the connection ends.
func (c *serverConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// netHTTPErrorAsJSON is the answer with the status and reason net/http
// chose (reason is its fixed text, such as "Bad Request: missing required
// Host header"), in the error shape and with the headers of every answer.
func netHTTPErrorAsJSON(status int, reason string) []byte {
	code, message := "bad_request", "the request could not be parsed as HTTP/1.1"
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		code, message = "headers_too_large", "the request line and headers are larger than 64 KiB"
	case http.StatusNotImplemented:
		code, message = "not_implemented", "the request uses a transfer coding this server does not know"
	default:
		if _, detail, ok := strings.Cut(reason, ": "); ok {
			message = "the request could not be parsed as HTTP/1.1: " + detail
		}
	}
	body, _ := json.Marshal(errorJSON{Error: errorDetail{Code: code, Message: message}})
	body = append(body, '\n')
	h := make(http.Header)
	SetSecurityHeaders(h)
	h["Cache-Control"] = hdrNoStore
	h.Set("Content-Type", contentTypeJSON)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	h.Write(&out) //nolint:errcheck // a bytes.Buffer does not fail
	out.WriteString("\r\n")
	out.Write(body)
	return out.Bytes()
}
