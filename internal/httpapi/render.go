package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"starling/internal/social"
)

// Timeline pages are the API's hottest answers, and most of their cost
// beyond the store is encoding the same statuses over and over: a status
// sits in many timelines and is read on every page load of each. Statuses
// never change once posted, so the JSON of each is rendered once and kept,
// keyed by id. A page is still made of exactly what the store returned —
// which statuses exist now, deleted ones already skipped — and a kept
// rendering is used only for a status equal in every field to the one it
// was made from, so the cache can never show anything the store did not
// just return (not even if ids were reused after the store was wiped).

// renderCacheGenBytes bounds the memory one generation of the cache holds
// (renderings and the statuses they were made from); the cache holds at
// most two generations, about 8 MiB.
const renderCacheGenBytes = 4 << 20

// renderCache maps status ids to their JSON. It keeps two generations:
// new renderings go into cur, and when cur has grown past its budget it
// becomes prev and the old prev is dropped. A status read from prev moves
// back into cur, so the statuses being read stay while the rest age out,
// without any per-entry bookkeeping.
type renderCache struct {
	mu       sync.RWMutex // guards the fields below
	cur      map[social.StatusID]rendering
	prev     map[social.StatusID]rendering
	curBytes int
}

// rendering is the JSON of a status and the status it was made from.
type rendering struct {
	st   social.Status
	json []byte
}

// renderingOverhead estimates the memory of an entry besides its strings
// and JSON: the map slot and the status's fixed fields.
const renderingOverhead = 128

func (r rendering) size() int {
	return renderingOverhead + len(r.st.Login) + len(r.st.Message) + len(r.json)
}

// sameStatus reports whether two statuses would render alike.
func sameStatus(a, b social.Status) bool {
	if a.ID != b.ID || a.UID != b.UID || a.Login != b.Login || a.Message != b.Message || !a.Posted.Equal(b.Posted) {
		return false
	}
	if a.Location == nil || b.Location == nil {
		return a.Location == b.Location
	}
	return *a.Location == *b.Location
}

func newRenderCache() *renderCache {
	return &renderCache{cur: make(map[social.StatusID]rendering), prev: make(map[social.StatusID]rendering)}
}

// pageScratch is the per-request working memory of appendStatuses,
// reused across requests.
type pageScratch struct {
	body  []byte
	parts [][]byte
	miss  []int // indexes of statuses to add to the cache's current generation
}

var scratchPool = sync.Pool{New: func() any { return new(pageScratch) }}

// maxPooledBody keeps a rare huge page from pinning its buffer in the pool.
const maxPooledBody = 256 << 10

// appendStatuses appends the JSON array of sts to b, exactly as
// json.Marshal(presentStatuses(sts)) would write it.
func (c *renderCache) appendStatuses(b []byte, sts []social.Status, sc *pageScratch) ([]byte, error) {
	parts := sc.parts[:0]
	miss := sc.miss[:0]
	c.mu.RLock()
	for i, st := range sts {
		r, ok := c.cur[st.ID]
		if !ok {
			r = c.prev[st.ID]
			miss = append(miss, i) // to render, or to move into cur
		}
		var j []byte
		if sameStatus(r.st, st) {
			j = r.json
		}
		parts = append(parts, j)
	}
	c.mu.RUnlock()

	var err error
	if len(miss) > 0 {
		for _, i := range miss {
			if parts[i] == nil {
				if parts[i], err = renderStatus(sts[i]); err != nil {
					return b, err
				}
			}
		}
		c.mu.Lock()
		for _, i := range miss {
			c.putLocked(rendering{st: sts[i], json: parts[i]})
		}
		c.mu.Unlock()
	}
	// A status found in cur but unlike the store's (ids reused after the
	// store was wiped) is rendered here, and left for eviction to replace.
	for i, j := range parts {
		if j == nil {
			if parts[i], err = renderStatus(sts[i]); err != nil {
				return b, err
			}
		}
	}

	b = append(b, '[')
	for i, j := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, j...)
	}
	b = append(b, ']')
	clear(parts) // drop references to cached renderings
	sc.parts, sc.miss = parts[:0], miss[:0]
	return b, nil
}

func (c *renderCache) putLocked(r rendering) {
	if old, ok := c.cur[r.st.ID]; ok {
		c.curBytes -= old.size()
	}
	if c.curBytes >= renderCacheGenBytes {
		c.prev, c.cur, c.curBytes = c.cur, make(map[social.StatusID]rendering, len(c.cur)), 0
	}
	c.cur[r.st.ID] = r
	c.curBytes += r.size()
}

// renderStatus is the JSON of one status as the API presents it. It fails
// only on a location that is not a number (NaN), which the Service never
// stores.
func renderStatus(st social.Status) ([]byte, error) {
	j, err := json.Marshal(presentStatus(st))
	if err != nil {
		return nil, fmt.Errorf("httpapi: encoding status %d: %w", st.ID, err)
	}
	return j, nil
}

// status returns the JSON of one status, from the cache or rendered and
// kept.
func (c *renderCache) status(st social.Status) ([]byte, error) {
	c.mu.RLock()
	r, ok := c.cur[st.ID]
	c.mu.RUnlock()
	if ok && sameStatus(r.st, st) {
		return r.json, nil
	}
	j, err := renderStatus(st)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.putLocked(rendering{st: st, json: j})
	c.mu.Unlock()
	return j, nil
}

// writeStatus answers with the JSON of one status, as writeJSON would
// write presentStatus(st). A new status is kept rendered for the timelines
// it is about to be read in.
func (a *API) writeStatus(w http.ResponseWriter, code int, st social.Status) error {
	j, err := a.rendered.status(st)
	if err != nil {
		return err
	}
	sc := scratchPool.Get().(*pageScratch)
	a.writeBody(w, code, append(sc.body[:0], j...), sc)
	return nil
}

// writeStatuses answers 200 with the JSON array of sts, as writeJSON would
// write presentStatuses(sts). Nothing is written when it fails.
func (a *API) writeStatuses(w http.ResponseWriter, sts []social.Status) error {
	sc := scratchPool.Get().(*pageScratch)
	body, err := a.rendered.appendStatuses(sc.body[:0], sts, sc)
	if err != nil {
		return err
	}
	a.writeBody(w, http.StatusOK, body, sc)
	return nil
}

// writeBody sends a rendered JSON body, adding the final newline that
// writeJSON adds, and returns the scratch space to the pool.
func (a *API) writeBody(w http.ResponseWriter, code int, body []byte, sc *pageScratch) {
	body = append(body, '\n')
	h := w.Header()
	h["Content-Type"] = hdrContentJSON
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body) //nolint:errcheck // the client hung up; nothing left to tell it
	// Write has copied body into the connection's buffer or sent it.
	if cap(body) <= maxPooledBody {
		sc.body = body[:0]
		scratchPool.Put(sc)
	}
}
