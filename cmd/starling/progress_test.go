package main

import (
	"strings"
	"testing"
	"time"

	"starling/internal/seed"
)

// Progress redraws a line in place only on a terminal; elsewhere it writes
// plain lines, and a phase without a total shows its elapsed time rather
// than 0 of 1.
func TestProgressFitsWhereItGoes(t *testing.T) {
	feed := func(b *progressBar) {
		b.update(seed.Progress{Phase: seed.PhaseUsers, Done: 5, Total: 10, Elapsed: time.Second})
		b.update(seed.Progress{Phase: seed.PhaseUsers, Done: 10, Total: 10, Elapsed: 2 * time.Second})
		b.update(seed.Progress{Phase: seed.PhaseCounts, Done: 0, Total: 0, Elapsed: 3 * time.Second})
		b.update(seed.Progress{Phase: seed.PhaseCounts, Done: 1, Total: 1, Elapsed: 4 * time.Second})
		b.finish()
	}
	var plain, term strings.Builder
	feed(newProgressBar(&plain, true, false))
	feed(newProgressBar(&term, true, true))
	if strings.ContainsAny(plain.String(), "\r\033") {
		t.Errorf("progress to a file redraws in place: %q", plain.String())
	}
	if !strings.Contains(plain.String(), "users") || !strings.Contains(plain.String(), "counts") {
		t.Errorf("progress to a file = %q, want a line for each phase", plain.String())
	}
	if !strings.Contains(term.String(), "\r") {
		t.Errorf("progress on a terminal = %q, want it redrawn in place", term.String())
	}
	if line := progressLine(seed.Progress{Phase: seed.PhaseCounts, Elapsed: 12 * time.Second}, true); strings.Contains(line, "0/") || !strings.Contains(line, "12s") {
		t.Errorf("a phase without a total shows %q, want its elapsed time and no count", line)
	}
	var none strings.Builder
	feed(newProgressBar(&none, false, true))
	if none.Len() != 0 {
		t.Errorf("a disabled bar wrote %q", none.String())
	}
}
