package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"starling/internal/seed"
)

// isTerminal reports whether w is a character device, such as a terminal;
// progress redrawn in place with \r only makes sense there.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// plainProgressEvery is how often progress written to a file or pipe gets
// a line, besides the line that ends each phase.
const plainProgressEvery = 10 * time.Second

// progressBar shows how a seed goes. On a terminal it draws one line per
// phase, redrawn in place at most ten times a second; elsewhere (a file, a
// pipe, a CI log) it writes plain lines: one every plainProgressEvery and
// one as each phase ends. A disabled bar shows nothing. seed.Load calls
// update from the goroutine that called it, so the bar needs no lock.
type progressBar struct {
	w        io.Writer
	enabled  bool
	terminal bool

	phase string
	drawn time.Time
	last  seed.Progress
}

func newProgressBar(w io.Writer, enabled, terminal bool) *progressBar {
	return &progressBar{w: w, enabled: enabled, terminal: terminal}
}

func (b *progressBar) update(p seed.Progress) {
	if !b.enabled {
		return
	}
	if p.Phase != b.phase {
		b.endPhase()
		b.phase = p.Phase
		b.drawn = time.Now()
		if b.terminal {
			b.drawn = time.Time{}
		}
	}
	b.last = p
	every := plainProgressEvery
	if b.terminal {
		every = 100 * time.Millisecond
	}
	if time.Since(b.drawn) >= every || b.terminal && p.Total > 0 && p.Done == p.Total {
		b.draw(p)
		b.drawn = time.Now()
	}
}

// endPhase finishes the line of the current phase, if any.
func (b *progressBar) endPhase() {
	if b.phase == "" {
		return
	}
	b.draw(b.last)
	if b.terminal {
		fmt.Fprintln(b.w)
	}
}

func (b *progressBar) draw(p seed.Progress) {
	line := progressLine(p, b.terminal)
	if b.terminal {
		fmt.Fprintf(b.w, "\r%s\033[K", line)
		return
	}
	fmt.Fprintln(b.w, line)
}

// progressLine describes p, with a bar when drawn on a terminal. A phase
// with no total (seed.Progress.Total 0) shows the time it has taken.
func progressLine(p seed.Progress, bar bool) string {
	switch {
	case p.Total <= 0:
		return fmt.Sprintf("%-8s working for %s", p.Phase, p.Elapsed.Round(time.Second))
	case p.Total == 1 && p.Done == 1: // one step: no rate to tell
		return fmt.Sprintf("%-8s done in %s", p.Phase, roundDuration(p.Elapsed))
	}
	frac := min(1, float64(p.Done)/float64(p.Total))
	var line string
	if bar {
		const width = 30
		filled := int(frac * width)
		line = fmt.Sprintf("%-8s [%s%s] %3.0f%% %d/%d", p.Phase, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), 100*frac, p.Done, p.Total)
	} else {
		line = fmt.Sprintf("%-8s %3.0f%% %d/%d", p.Phase, 100*frac, p.Done, p.Total)
	}
	if secs := p.Elapsed.Seconds(); secs > 0 && p.Done > 0 {
		rate := float64(p.Done) / secs
		line += fmt.Sprintf("  %.0f/s", rate)
		if p.Done < p.Total {
			line += fmt.Sprintf("  ETA %s", time.Duration(float64(p.Total-p.Done)/rate*float64(time.Second)).Round(time.Second))
		} else {
			line += fmt.Sprintf("  in %s", roundDuration(p.Elapsed))
		}
	}
	return line
}

func (b *progressBar) finish() {
	if !b.enabled {
		return
	}
	b.endPhase()
	b.phase = ""
}
