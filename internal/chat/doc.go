// Package chat is Starling's chat rooms: room names, messages and their
// validation and HTML, the durable History port the engines implement, and
// Rooms, which keeps the newest messages of each room in memory and releases
// the clients waiting for them.
//
// Concurrency: Rooms is safe for concurrent use. Its one long-lived
// goroutine (the syncer, which copies new messages from the history into the
// in-memory windows when the events bus says a room changed) is owned by
// Run; Close releases every waiting call. A waiting call holds no state in
// Rooms besides a counter: it selects on a channel the room closes when it
// changes, so a caller that gives up leaves nothing behind. A Hold, for
// waiters without a goroutine of their own, is registered in its room until
// it is woken (by one short-lived goroutine per room, after the room's next
// change) or released. Entries handed out are shared and must not be
// modified.
package chat
