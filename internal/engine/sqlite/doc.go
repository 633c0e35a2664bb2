// Package sqlite is Starling's embedded engine: one SQLite database file
// (modernc.org/sqlite, pure Go) that implements the social store and the
// job queue, for deployments where one machine is enough. The data
// directory belongs to one process, which lets it cache what it reads.
//
// A DB is safe for concurrent use: writes go through one connection in
// turn, reads through a pool of snapshot readers. docs/engines/sqlite.md
// has the durability, concurrency, caching and timeline design.
package sqlite
