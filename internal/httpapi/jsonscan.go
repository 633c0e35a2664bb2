package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// The byte-level checks of a request body that encoding/json does not make:
// how deep it nests, and whether each key is given once, is spelled exactly
// as a field of the request type, and each string is text (no lone UTF-16
// surrogate escapes). They scan the body once, without building tokens:
// every state-changing request pays for them.

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

// objectShape is the set of member names a request object takes, each with
// the shape of the object it holds (nil for other values). encoding/json
// matches names without regard to letter case (and folds ſ into s and K into
// k), so the scanner checks the names itself.
type objectShape struct {
	fields map[string]*objectShape
}

// shapes caches the shape of each request type.
var shapes sync.Map // reflect.Type → *objectShape

// shapeOf returns the shape of the JSON object that decodes into t, a
// struct or a pointer to one; nil for other types.
func shapeOf(t reflect.Type) *objectShape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	if s, ok := shapes.Load(t); ok {
		return s.(*objectShape)
	}
	s := &objectShape{fields: make(map[string]*objectShape, t.NumField())}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
			continue
		} else if tag != "" {
			name = tag
		}
		s.fields[name] = shapeOf(f.Type)
	}
	actual, _ := shapes.LoadOrStore(t, s)
	return actual.(*objectShape)
}

// keyProblem is what checkKeys found wrong with a body.
type keyProblem int

const (
	keysOK keyProblem = iota
	keyRepeated
	keyUnknown
	loneSurrogate // a string escapes half of a UTF-16 surrogate pair
)

// checkKeys reports the first key of data that appears twice in one object
// or that the object's shape does not take, and any string holding a lone
// surrogate escape. data must be valid JSON. top is the shape of the
// outermost object; nil checks no names. Keys are compared as decoded
// strings, so "a" and "\u0061" are the same key, and exactly, so "A" is
// not "a".
func checkKeys(data []byte, top *objectShape) (keyProblem, string) {
	// frame is one open container. The keys of the open objects are
	// stacked in keys; an object with many keys also indexes its own in
	// seen, so that a body of thousands of keys costs linear time.
	type frame struct {
		object    bool
		expectKey bool
		keysStart int
		seen      map[string]bool
		shape     *objectShape // nil: names unchecked
		valueOf   *objectShape // the shape of the current key's value
	}
	const linearKeys = 16
	var stackBuf [maxJSONDepth + 1]frame
	stack := stackBuf[:0]
	var keysBuf [linearKeys]string
	keys := keysBuf[:0]
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{':
			shape := top
			if n := len(stack); n > 0 {
				shape = stack[n-1].valueOf
			}
			stack = append(stack, frame{object: true, expectKey: true, keysStart: len(keys), shape: shape})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			top := stack[len(stack)-1]
			keys = keys[:top.keysStart]
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].expectKey = true
				stack[n-1].valueOf = nil
			}
		case '"':
			end, lone := scanString(data, i)
			if lone {
				return loneSurrogate, ""
			}
			if n := len(stack); n > 0 && stack[n-1].expectKey {
				top := &stack[n-1]
				top.expectKey = false
				key := decodeKey(data[i : end+1])
				if top.shape != nil {
					valueOf, ok := top.shape.fields[key]
					if !ok {
						return keyUnknown, key
					}
					top.valueOf = valueOf
				}
				own := keys[top.keysStart:]
				if top.seen != nil {
					if top.seen[key] {
						return keyRepeated, key
					}
					top.seen[key] = true
				} else {
					for _, k := range own {
						if k == key {
							return keyRepeated, key
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
	return keysOK, ""
}

// duplicateKey reports the first key that appears twice in one object of
// data, which must be valid JSON. encoding/json keeps the last of repeated
// keys silently; refusing them keeps every reader of a body (proxies, logs,
// this server) agreeing on what it says.
func duplicateKey(data []byte) (string, bool) {
	problem, key := checkKeys(data, nil)
	return key, problem == keyRepeated
}

// scanString returns the index of the quote that closes the JSON string
// whose opening quote is at data[start] (data is valid JSON), and whether
// the string escapes a lone surrogate: a high one (\uD800–\uDBFF) not
// followed by an escaped low one (\uDC00–\uDFFF), or a low one on its own.
// encoding/json turns those into U+FFFD, which is not what the client sent.
func scanString(data []byte, start int) (end int, lone bool) {
	highPending := false // the previous character was an escaped high surrogate
	for i := start + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			if data[i+1] == 'u' {
				r := hex4(data[i+2 : i+6])
				switch {
				case r >= 0xDC00 && r <= 0xDFFF:
					if !highPending {
						lone = true
					}
					highPending = false
				case r >= 0xD800 && r <= 0xDBFF:
					if highPending {
						lone = true
					}
					highPending = true
				default:
					if highPending {
						lone = true
					}
					highPending = false
				}
				i += 5
				continue
			}
			i++ // a one-character escape
		case '"':
			return i, lone || highPending
		}
		if highPending {
			lone = true
			highPending = false
		}
	}
	return len(data) - 1, lone || highPending
}

// hex4 reads four hexadecimal digits; data is valid JSON, so they are.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// decodeKey returns the string a quoted JSON key stands for, as
// encoding/json decodes it: escapes resolved.
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
