// Package metrics owns a process's Prometheus registry and the metrics
// Starling's packages report into it, so that only this package imports
// the Prometheus client. Other packages either call the Registry's
// Observe methods (HTTP requests, job outcomes, fan-out lag) or expose
// plain counters that the server registers here as functions read at
// scrape time (CounterFunc, GaugeFunc, WatchQueue).
//
// The metric names and labels are listed in docs/OPERATIONS.md. Labels are
// bounded: routes are ServeMux patterns, never paths, and statuses are
// classes (2xx, 4xx).
//
// Concurrency: a Registry is safe for concurrent use; a nil *Registry
// accepts every call and records nothing.
package metrics
