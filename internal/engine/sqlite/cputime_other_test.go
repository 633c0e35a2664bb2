//go:build !unix

package sqlite

import "time"

// processCPU is not measured here; benchmarks then report zero CPU time.
func processCPU() time.Duration { return 0 }
