// Package server wires Starling together: it opens the engine the
// configuration names (embedded SQLite, or Redis), builds the social service
// and the job runner over it, serves the HTTP API, and shuts everything down
// in order when its context ends.
//
// Only this package and cmd/starling know which engines exist; everything
// below talks to the ports.
package server
