// Package engine opens the storage engine a Starling process is configured
// for and returns everything it provides: the social store, the job queue,
// the events bus, the rate limiter, the bulk loader and the tuning that suits
// it. It is the only package that names the concrete engines; serve, worker
// and seed all open theirs through Open.
package engine
