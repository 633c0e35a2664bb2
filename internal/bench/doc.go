// Package bench drives a running Starling server over HTTP as a black box and
// measures it: the scenarios behind `starling bench`.
//
// Every scenario is bounded by a duration and a request count, sends traffic
// only to the URL it is given, and reports medians and tail latencies rather
// than averages. Scenarios that need a large social graph read the manifest
// that `starling seed` writes; the others make their users once, with fixed
// logins, and reuse them and their kept tokens run after run. A 429 waits
// for its Retry-After, and failures are reported by status and error code.
//
// Given an admin's token (Options.AdminToken), the post scenario also reads
// the server's job counts from the admin job stats while it posts, and reports the fan-out backlog (job_backlog_max, _mean,
// _at_end) and how long the workers took to empty the queue once posting
// stopped (job_backlog_drain_seconds): a backlog that grows with the
// duration means fan-out does not keep up with the posting rate.
package bench
