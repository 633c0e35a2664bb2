package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"starling/internal/social"
)

var errBadQuery = &apiError{http.StatusBadRequest, "invalid_query", "the query string is not well formed (a bad %-escape or a ';' separator)"}

// query returns the query string of r, refusing one that is not well
// formed: r.URL.Query() silently drops the pieces it cannot read (count=%zz,
// page=0;), which would turn a client's mistake into the default value. A
// bad piece naming one of params gets that parameter's error code, as a bad
// value does; any other bad piece gets invalid_query.
func query(r *http.Request, params ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		return q, nil
	}
	for piece := range strings.SplitSeq(r.URL.RawQuery, "&") {
		rawKey, rawValue, _ := strings.Cut(piece, "=")
		key, keyErr := url.QueryUnescape(rawKey)
		_, valueErr := url.QueryUnescape(rawValue)
		if keyErr == nil && valueErr == nil && !strings.Contains(piece, ";") {
			continue
		}
		if keyErr == nil && !strings.Contains(rawKey, ";") && slices.Contains(params, key) {
			return nil, &social.PageError{Param: key, Reason: "is not well formed (a bad %-escape or a ';' separator)"}
		}
		return nil, errBadQuery
	}
	return nil, errBadQuery
}
