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

type passwordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
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
// object of valid UTF-8, nested at most maxJSONDepth deep, whose field
// names are exactly those of dst's json tags, each at most once, with
// values of the right JSON types and nothing after it, sent as
// application/json. Each failure is a 400 with its own code, so clients can
// tell a typo from a type mistake.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if r.ContentLength != 0 {
		if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
			return err
		}
	}
	// The body is read under the request's read deadline (deadline.go).
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
		// The rest of the body is not worth waiting for, and the next
		// request cannot be found without it.
		closeConnection(w)
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
	// encoding/json would read invalid UTF-8 and lone surrogate escapes as
	// U+FFFD: text the client did not send.
	if !utf8.Valid(trimmed) {
		return errInvalidUTF8
	}
	switch problem, key := checkKeys(trimmed, shapeOf(reflect.TypeOf(dst))); problem {
	case loneSurrogate:
		return errInvalidUTF8
	case keyRepeated:
		return badJSON(fmt.Sprintf("the field %q appears more than once", key))
	case keyUnknown:
		return &apiError{http.StatusBadRequest, "unknown_field", fmt.Sprintf("unknown field %q (field names are matched exactly, letter case included)", key)}
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

var errInvalidUTF8 = &apiError{http.StatusBadRequest, "invalid_utf8", "the request body is not valid UTF-8 (or escapes half of a UTF-16 surrogate pair)"}

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
