// Package seed bulk-loads a synthetic social graph for benchmarks: many
// users, a power-law follow graph among them and one celebrity account with
// a chosen number of followers. It is what `starling seed` runs.
//
// Creating a million users and a hundred million follows one Store call at
// a time would take hours: every call is its own transaction or script and
// copies timelines that synthetic users do not have. The Loader port lets
// an engine take the graph in large batches instead (big transactions on
// SQLite, pipelines on Redis) and set the follower and following counts
// from the sets once, at the end.
//
// # Consistency
//
// Logins stay unique: a batch of users that holds a login already taken (in
// any letter case) is refused whole, so seeding the same store twice fails
// at the first batch and changes nothing. User ids continue from the
// store's counter, so users registered before or after a seed are
// unaffected. Counts lag the sets while follows are loading and equal them
// again after FinishLoad; Load calls it also when a batch fails half-way,
// so only a seed killed outright leaves counts behind, and calling
// FinishLoad again (`starling seed --recount`) repairs them.
//
// # Synthetic users are for benchmarks only
//
// Every synthetic user shares one password and one password hash, made
// with deliberately cheap argon2id parameters (CheapPassword) so that
// logging in as one costs microseconds rather than tens of milliseconds.
// Such accounts must never exist in a deployment that real people use.
//
// # Concurrency
//
// Load runs the generator in one goroutine and the loading in the calling
// one, so generating the next batch overlaps writing the current one. A
// Loader is called by one goroutine at a time.
package seed
