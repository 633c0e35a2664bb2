package accesslog

import "time"

// Record is one answered request. It holds no path, query or header, only
// the route pattern, so that no token or personal data ever reaches it.
type Record struct {
	Time       time.Time `json:"time"`
	RequestID  string    `json:"request_id"`
	Method     string    `json:"method"`
	Route      string    `json:"route"` // the ServeMux pattern, or "unmatched"
	Status     int       `json:"status"`
	DurationMS float64   `json:"duration_ms"`
	Bytes      int64     `json:"bytes"`
	// Process names the process that answered (host and pid).
	Process string `json:"process"`
}
