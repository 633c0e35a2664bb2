package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Decoding: how request bodies are read, checked and turned into the
// request types below.

const (
	// maxBodyBytes bounds every request body (64 KiB).
	maxBodyBytes = 64 << 10
	// maxJSONDepth bounds the nesting of a request body. No endpoint takes
	// more than two levels; refusing deeper bodies before parsing them
	// keeps a 64 KiB body of brackets from costing anything.
	maxJSONDepth = 8
	// bodyReadTimeout bounds how long reading a request body may take, so
	// that a client trickling its body cannot hold a request open.
	bodyReadTimeout = 10 * time.Second
)

// Request bodies.

type registerRequest struct {
	Login    string `json:"login"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type postRequest struct {
	Message  string           `json:"message"`
	Location *locationRequest `json:"location"`
}

// locationRequest uses pointers so that a missing coordinate is told apart
// from 0, which is a valid latitude and longitude.
type locationRequest struct {
	Lat *float64 `json:"lat"`
	Lon *float64 `json:"lon"`
}

type listRequest struct {
	Name string `json:"name"`
}

// decodeJSON reads a request body into dst, which must be a pointer to one
// of the request structs above. It is strict: the body must be one JSON
// object, nested at most maxJSONDepth deep, with no unknown or repeated
// fields, fields of the right JSON types and nothing after it, sent as
// application/json. Each failure is a 400 with its own code, so clients can
// tell a typo from a type mistake.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if r.ContentLength != 0 {
		if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
			return err
		}
	}
	// The deadline is lifted once the body is read: streaming endpoints
	// keep the connection long after, and an expired read deadline would
	// end their request. Writers that cannot set deadlines (tests'
	// recorders) simply go without.
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(bodyReadTimeout)) == nil {
		defer rc.SetReadDeadline(time.Time{})
	}
	buf := bodyBuffers.Get().(*[]byte)
	defer func() {
		// Nothing decoded keeps a reference into the body: strings are
		// copied out of it.
		if cap(*buf) <= maxPooledBodyBuffer {
			bodyBuffers.Put(buf)
		}
	}()
	body, err := readAll(r.Body, (*buf)[:0])
	*buf = body
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return badJSON("the request body could not be read")
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return badJSON("the request body is empty; expected a JSON object")
	}
	if jsonDepth(trimmed) > maxJSONDepth {
		return errJSONTooDeep
	}
	if !json.Valid(trimmed) {
		return badJSON("the request body is not valid JSON, or has data after the JSON value")
	}
	if trimmed[0] != '{' {
		return badJSON("the request body must be a JSON object")
	}
	if key, found := duplicateKey(trimmed); found {
		return badJSON(fmt.Sprintf("the field %q appears more than once", key))
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	return nil
}

// bodyBuffers holds buffers for reading request bodies, which every
// state-changing request has; they are small (a status is a few hundred
// bytes), and a buffer that grew for a large body is not kept.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledBodyBuffer = 16 << 10

// readAll is io.ReadAll appending to b.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
	}
}

var errJSONTooDeep = &apiError{http.StatusBadRequest, "json_too_deep", fmt.Sprintf("the request body nests objects and arrays more than %d deep", maxJSONDepth)}

// jsonDepth returns how deep objects and arrays nest in data, which need
// not be valid JSON: brackets inside strings do not count. It stops
// counting once the depth is over maxJSONDepth.
func jsonDepth(data []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > maxJSONDepth {
					return deepest
				}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func badJSON(message string) *apiError {
	return &apiError{http.StatusBadRequest, "invalid_json", message}
}

// checkJSONContentType accepts application/json and application/*+json
// with no charset or UTF-8. Refusing other types also keeps a plain HTML
// form (which cannot send JSON) from reaching state-changing endpoints.
func checkJSONContentType(header string) error {
	bad := &apiError{http.StatusBadRequest, "invalid_content_type", "the request body must be sent as Content-Type: application/json"}
	if header == "" {
		return bad
	}
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil {
		return bad
	}
	if mediaType != "application/json" && !(strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")) {
		return bad
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &apiError{http.StatusBadRequest, "invalid_content_type", "the request body must be UTF-8"}
	}
	return nil
}

// decodeError turns an error from a json.Decoder that was given valid JSON
// into an answer: a field of the wrong type or a field the endpoint does
// not take.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return badJSON("the request body must be a JSON object")
		}
		return &apiError{http.StatusBadRequest, "wrong_type", fmt.Sprintf("%s must be %s, not %s", te.Field, jsonTypeName(te.Type), te.Value)}
	}
	// encoding/json reports unknown fields only in the text of its error.
	const unknownPrefix = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknownPrefix) {
		return &apiError{http.StatusBadRequest, "unknown_field", "unknown field " + strings.TrimPrefix(msg, unknownPrefix)}
	}
	return badJSON("the request body could not be decoded")
}

// jsonTypeName names a Go type the way a JSON client thinks of it.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float64, reflect.Float32, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "of another type"
}

// duplicateKey reports the first key that appears twice in one object of
// data, which must be valid JSON. encoding/json keeps the last of repeated
// keys silently; refusing them keeps every reader of a body (proxies, logs,
// this server) agreeing on what it says. Keys are compared as decoded
// strings, so "a" and "\u0061" are the same key.
//
// It scans the bytes once rather than going through json.Decoder.Token,
// which allocates for every token: every state-changing request pays for
// this check.
func duplicateKey(data []byte) (string, bool) {
	// frame is one open container. The keys of the open objects are
	// stacked in keys; an object with many keys also indexes its own in
	// seen, so that a body of thousands of keys costs linear time.
	type frame struct {
		object    bool
		expectKey bool
		keysStart int
		seen      map[string]bool
	}
	const linearKeys = 16
	var stackBuf [maxJSONDepth + 1]frame
	stack := stackBuf[:0]
	var keysBuf [linearKeys]string
	keys := keysBuf[:0]
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{':
			stack = append(stack, frame{object: true, expectKey: true, keysStart: len(keys)})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			top := stack[len(stack)-1]
			keys = keys[:top.keysStart]
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].expectKey = true
			}
		case '"':
			end := stringEnd(data, i)
			if n := len(stack); n > 0 && stack[n-1].expectKey {
				top := &stack[n-1]
				top.expectKey = false
				key := decodeKey(data[i : end+1])
				own := keys[top.keysStart:]
				if top.seen != nil {
					if top.seen[key] {
						return key, true
					}
					top.seen[key] = true
				} else {
					for _, k := range own {
						if k == key {
							return key, true
						}
					}
					if len(own) == linearKeys {
						top.seen = make(map[string]bool, 2*linearKeys)
						for _, k := range own {
							top.seen[k] = true
						}
						top.seen[key] = true
					}
				}
				keys = append(keys, key)
			}
			i = end
		}
	}
	return "", false
}

// stringEnd returns the index of the quote that closes the JSON string
// whose opening quote is at data[start]; data is valid JSON.
func stringEnd(data []byte, start int) int {
	for i := start + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++ // skip the escaped character; \uXXXX needs no more care
		case '"':
			return i
		}
	}
	return len(data) - 1
}

// decodeKey returns the string a quoted JSON key stands for, as
// encoding/json decodes it: escapes resolved, invalid UTF-8 replaced.
func decodeKey(quoted []byte) string {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return string(raw) // cannot happen for valid JSON
	}
	return s
}
