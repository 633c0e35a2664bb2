// Package stream is the streaming side of Starling: it parses what a stream
// client asks for (firehose, sample, filter, home, list), keeps the clients
// of one process in an index keyed by what they match, and runs the hub
// that reads the retained event log and hands each event, encoded once per
// transport, to the matching clients' bounded buffers.
//
// Concurrency: a Hub is safe for concurrent use. Its Run goroutine is the
// only reader of the log and the only writer into clients' buffers; it
// never waits for a client. Each Sink is drained by the one goroutine of
// its transport. The Log port is safe for concurrent use.
package stream
